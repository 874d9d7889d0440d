/**
 * IndexedDB of host mode, one database per profile slot (`tabula-<slot>-hosting`): the "Share storage" settings
 * and the index of the shards this tab holds for others. The pieces themselves live in the peer's block store
 * (`tabula-<slot>-blocks`, Helia's), so hosted shards and public IPFS content share one store.
 */
import { type DBSchema, type IDBPDatabase, openDB } from "idb";

export interface HostingSettings {
  /** The "Share storage" switch: announce this tab as a host and accept shards. */
  enabled: boolean;
  /** Most bytes of shards this tab accepts to hold. */
  quotaBytes: number;
  /** Asked price per GiB per 30 days in the token's smallest unit, as decimal text; "0" while storage is free. */
  pricePerGiBMonth: string;
}

/** One held shard: the fields the host view lists, and the encoded catalog entry (p2p/hosting/catalog.ts). */
export interface HeldShardRecord {
  /** `<manifest CID>/<shard index>` */
  key: string;
  manifest: string;
  shardIndex: number;
  owner: string;
  totalBytes: number;
  storedAtMs: number;
  /** The whole catalog entry, dag-cbor. */
  body: Uint8Array;
}

interface HostingSchema extends DBSchema {
  settings: { key: string; value: HostingSettings };
  shards: { key: string; value: HeldShardRecord; indexes: { storedAtMs: number } };
}

const DB_VERSION = 1;
const SETTINGS_KEY = "settings";
/** What a new host offers until the user changes it. */
export const DEFAULT_QUOTA_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_SETTINGS: HostingSettings = {
  enabled: false,
  quotaBytes: DEFAULT_QUOTA_BYTES,
  pricePerGiBMonth: "0",
};

export class HostingDB {
  readonly #db: IDBPDatabase<HostingSchema>;

  private constructor(db: IDBPDatabase<HostingSchema>) {
    this.#db = db;
  }

  /** Opens the hosting database of a profile slot. */
  static async open(name: string): Promise<HostingDB> {
    const db = await openDB<HostingSchema>(name, DB_VERSION, {
      upgrade(database) {
        database.createObjectStore("settings");
        database.createObjectStore("shards", { keyPath: "key" }).createIndex("storedAtMs", "storedAtMs");
      },
    });
    return new HostingDB(db);
  }

  close(): void {
    this.#db.close();
  }

  async settings(): Promise<HostingSettings> {
    return { ...DEFAULT_SETTINGS, ...(await this.#db.get("settings", SETTINGS_KEY)) };
  }

  async saveSettings(patch: Partial<HostingSettings>): Promise<HostingSettings> {
    const tx = this.#db.transaction("settings", "readwrite");
    const next = { ...DEFAULT_SETTINGS, ...(await tx.store.get(SETTINGS_KEY)), ...patch };
    await tx.store.put(next, SETTINGS_KEY);
    await tx.done;
    return next;
  }

  async putShard(record: HeldShardRecord): Promise<void> {
    await this.#db.put("shards", record);
  }

  async getShard(key: string): Promise<HeldShardRecord | undefined> {
    return await this.#db.get("shards", key);
  }

  /** Every held shard, oldest first. */
  async listShards(): Promise<HeldShardRecord[]> {
    return await this.#db.getAllFromIndex("shards", "storedAtMs");
  }

  async deleteShard(key: string): Promise<void> {
    await this.#db.delete("shards", key);
  }
}
