/**
 * IndexedDB of host mode, one database per profile slot (`tabula-<slot>-hosting`): the "Share storage" settings,
 * the index of the shards this tab holds for others, and the "host blocks": the CIDs of the blocks host mode wrote
 * (or is about to write) into the peer's block store. The pieces themselves live in that block store
 * (`tabula-<slot>-blocks`, Helia's), which public IPFS content shares, so host mode deletes only its own blocks.
 */
import { type DBSchema, type IDBPDatabase, openDB } from "idb";

export interface HostingSettings {
  /** The "Share storage" switch: announce this tab as a host and accept shards. */
  enabled: boolean;
  /** Most bytes of shards this tab accepts to hold. */
  quotaBytes: number;
  /** Asked price per GiB per 30 days in the token's smallest unit, as decimal text; "0" while storage is free. */
  pricePerGiBMonth: string;
  /** Asked price per MB of pieces served (shard fetch) in the token's smallest unit, as decimal text; "0": free. */
  retrievalPricePerMB: string;
}

/** One held shard: the fields the host view lists, and the encoded catalog entry (core/hosting/catalog.ts). */
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

/** A block host mode wrote: recorded before it is written, forgotten once it is deleted. */
export interface HostBlockRecord {
  /** CID text. */
  cid: string;
  addedAtMs: number;
}

interface HostingSchema extends DBSchema {
  settings: { key: string; value: HostingSettings };
  shards: { key: string; value: HeldShardRecord; indexes: { storedAtMs: number } };
  blocks: { key: string; value: HostBlockRecord };
  meta: { key: string; value: boolean };
}

/** 1: settings and shards. 2: host blocks. */
const DB_VERSION = 2;
const SETTINGS_KEY = "settings";
/** Set while the pieces of shards held before version 2 still have to be recorded as host blocks. */
const LEGACY_BLOCKS_KEY = "legacy-blocks";
/** What a new host offers until the user changes it. */
export const DEFAULT_QUOTA_BYTES = 1024 * 1024 * 1024;
export const DEFAULT_SETTINGS: HostingSettings = {
  enabled: false,
  quotaBytes: DEFAULT_QUOTA_BYTES,
  pricePerGiBMonth: "0",
  retrievalPricePerMB: "0",
};

export class HostingDB {
  readonly #db: IDBPDatabase<HostingSchema>;

  private constructor(db: IDBPDatabase<HostingSchema>) {
    this.#db = db;
  }

  /** Opens the hosting database of a profile slot. */
  static async open(name: string): Promise<HostingDB> {
    const db = await openDB<HostingSchema>(name, DB_VERSION, {
      upgrade(database, oldVersion, _newVersion, transaction) {
        if (oldVersion < 1) {
          database.createObjectStore("settings");
          database.createObjectStore("shards", { keyPath: "key" }).createIndex("storedAtMs", "storedAtMs");
        }
        if (oldVersion < 2) {
          database.createObjectStore("blocks", { keyPath: "cid" });
          database.createObjectStore("meta");
          if (oldVersion >= 1) void transaction.objectStore("meta").put(true, LEGACY_BLOCKS_KEY);
        }
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

  /** CID texts of every host block. */
  async hostBlocks(): Promise<string[]> {
    return await this.#db.getAllKeys("blocks");
  }

  /** Records host blocks, in one transaction. */
  async addHostBlocks(cids: readonly string[]): Promise<void> {
    const tx = this.#db.transaction("blocks", "readwrite");
    const addedAtMs = Date.now();
    await Promise.all([...cids.map((cid) => tx.store.put({ cid, addedAtMs })), tx.done]);
  }

  /** Forgets host blocks, in one transaction. */
  async forgetHostBlocks(cids: readonly string[]): Promise<void> {
    const tx = this.#db.transaction("blocks", "readwrite");
    await Promise.all([...cids.map((cid) => tx.store.delete(cid)), tx.done]);
  }

  /** True when shards held before host blocks were recorded still need theirs (see {@link recordLegacyBlocks}). */
  async hasLegacyBlocks(): Promise<boolean> {
    return (await this.#db.get("meta", LEGACY_BLOCKS_KEY)) === true;
  }

  /** Records the pieces of shards held before version 2 as host blocks, once, atomically. */
  async recordLegacyBlocks(cids: readonly string[]): Promise<void> {
    const tx = this.#db.transaction(["blocks", "meta"], "readwrite");
    const blocks = tx.objectStore("blocks");
    const addedAtMs = Date.now();
    await Promise.all([
      ...cids.map((cid) => blocks.put({ cid, addedAtMs })),
      tx.objectStore("meta").delete(LEGACY_BLOCKS_KEY),
      tx.done,
    ]);
  }
}
