import { type DBSchema, openDB } from "idb";

/**
 * A profile is what makes a tab the same peer after a reload: its libp2p key, its burner wallet key and whether it
 * carries paid transfers. Several tabs
 * of one browser share IndexedDB, so each open tab holds one numbered profile slot under a Web Lock; a reloaded tab
 * gets the lowest free slot back, which is the one it had.
 */
interface ProfileRecord {
  /** libp2p private key, protobuf-encoded. */
  peerKey?: Uint8Array;
  /** Burner account private key (local chains only). */
  burnerKey?: `0x${string}`;
  /** The user switched on carrying paid transfers for other peers (kept across reloads). */
  carry?: boolean;
}

interface ProfileDB extends DBSchema {
  slots: { key: number; value: ProfileRecord };
}

const DB_NAME = "tabula-profile";
const DB_VERSION = 1;
const MAX_SLOTS = 64;

export interface ProfileSlot {
  slot: number;
  read(): Promise<ProfileRecord>;
  update(patch: Partial<ProfileRecord>): Promise<void>;
  release(): void;
}

function db() {
  return openDB<ProfileDB>(DB_NAME, DB_VERSION, {
    upgrade(database) {
      database.createObjectStore("slots");
    },
  });
}

async function tryLock(name: string): Promise<(() => void) | undefined> {
  return await new Promise((resolve) => {
    void navigator.locks.request(name, { ifAvailable: true }, async (lock) => {
      if (!lock) {
        resolve(undefined);
        return;
      }
      await new Promise<void>((release) => resolve(release));
    });
  });
}

/** Takes the lowest profile slot no other open tab holds. */
export async function acquireProfileSlot(): Promise<ProfileSlot> {
  for (let slot = 0; slot < MAX_SLOTS; slot++) {
    const release = await tryLock(`tabula-profile-${slot}`);
    if (!release) continue;
    return {
      slot,
      read: async () => (await (await db()).get("slots", slot)) ?? {},
      update: async (patch) => {
        const database = await db();
        const tx = database.transaction("slots", "readwrite");
        const current = (await tx.store.get(slot)) ?? {};
        await tx.store.put({ ...current, ...patch }, slot);
        await tx.done;
      },
      release,
    };
  }
  throw new Error(`more than ${MAX_SLOTS} Tabula tabs are open in this browser: close one and reload`);
}
