/**
 * IndexedDB of the data path: blocks (pieces), manifests, the files this browser stored (with their wrapped keys),
 * and storage receipts.
 *
 * Blocks are written as bytes (Uint8Array), which Chromium keeps as a file per large value, as it does for a Blob.
 * Writing Blobs made in the page instead was slower and, when nothing else allocated, failed: each Blob stays
 * registered until the garbage collector finds its wrapper, and after ~1 GiB of them Chromium refused the write
 * ("Failed to write blobs (InvalidBlob)"). Blocks written as Blobs by earlier versions are read as well.
 */

import { type DBSchema, type IDBPDatabase, openDB } from "idb";
import type { BlockReader } from "../lib/blocks.ts";
import { QuotaExceededError } from "../lib/file-errors.ts";

/** A file of mine: the manifest's CID and its key wrapped by the wallet-derived key (crypto/key-vault.ts). */
export interface FileRecord {
  cid: string;
  createdAt: number;
  /** Bytes stored for the file: every shard. */
  encodedBytes: number;
}

export interface KeyRecord {
  cid: string;
  /** The file key sealed by the vault key: nonce ‖ AES-GCM ciphertext. */
  wrapped: Uint8Array;
}

export interface ReceiptRecord {
  id: string;
  manifestCid: string;
  shard: number;
  value: Uint8Array;
}

interface FilesSchema extends DBSchema {
  blocks: { key: string; value: Uint8Array | Blob };
  manifests: { key: string; value: Uint8Array };
  files: { key: string; value: FileRecord; indexes: { createdAt: number } };
  keys: { key: string; value: KeyRecord };
  receipts: { key: string; value: ReceiptRecord; indexes: { manifestCid: string } };
}

export const FILES_DB_NAME = "tabula-files";
const FILES_DB_VERSION = 1;

export interface BlockPut {
  cid: string;
  bytes: Uint8Array;
}

/** The narrow block interface the use cases need. */
export interface BlockStore extends Pick<BlockReader, "getBlocks" | "getBlockBytes"> {
  /**
   * Writes blocks in one transaction: all of them or none. Keeps no reference to the bytes once it resolves: the
   * caller may reuse their buffers.
   */
  putBlocks(blocks: readonly BlockPut[]): Promise<void>;
  deleteBlocks(cids: readonly string[]): Promise<void>;
}

/** The bytes alone: IndexedDB stores a view's whole buffer, so a view into a larger buffer is copied out. */
function ownBytes(bytes: Uint8Array): Uint8Array {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

function isQuotaError(error: unknown): boolean {
  return error instanceof DOMException && (error.name === "QuotaExceededError" || error.code === 22);
}

export class FilesDB implements BlockStore {
  readonly #db: IDBPDatabase<FilesSchema>;

  private constructor(db: IDBPDatabase<FilesSchema>) {
    this.#db = db;
  }

  static async open(name = FILES_DB_NAME): Promise<FilesDB> {
    const db = await openDB<FilesSchema>(name, FILES_DB_VERSION, {
      upgrade(database) {
        database.createObjectStore("blocks");
        database.createObjectStore("manifests");
        database.createObjectStore("files", { keyPath: "cid" }).createIndex("createdAt", "createdAt");
        database.createObjectStore("keys", { keyPath: "cid" });
        database.createObjectStore("receipts", { keyPath: "id" }).createIndex("manifestCid", "manifestCid");
      },
    });
    return new FilesDB(db);
  }

  close(): void {
    this.#db.close();
  }

  async putBlocks(blocks: readonly BlockPut[]): Promise<void> {
    try {
      const tx = this.#db.transaction("blocks", "readwrite");
      // put() clones the value before it returns, so the caller's buffers are free once this resolves.
      for (const b of blocks) void tx.store.put(ownBytes(b.bytes), b.cid);
      await tx.done;
    } catch (error) {
      if (isQuotaError(error))
        throw new QuotaExceededError(
          blocks.reduce((n, b) => n + b.bytes.length, 0),
          0,
          { cause: error },
        );
      throw error;
    }
  }

  async getBlocks(cids: readonly string[]): Promise<(Blob | undefined)[]> {
    const values = await this.#getBlockValues(cids);
    return values.map((v) => (v === undefined || v instanceof Blob ? v : new Blob([v as Uint8Array<ArrayBuffer>])));
  }

  async getBlockBytes(cids: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const values = await this.#getBlockValues(cids);
    return await Promise.all(
      values.map(async (v) => (v instanceof Blob ? new Uint8Array(await v.arrayBuffer()) : v && ownBytes(v))),
    );
  }

  async #getBlockValues(cids: readonly string[]): Promise<(Uint8Array | Blob | undefined)[]> {
    const tx = this.#db.transaction("blocks", "readonly");
    const out = await Promise.all(cids.map((cid) => tx.store.get(cid)));
    await tx.done;
    return out;
  }

  async deleteBlocks(cids: readonly string[]): Promise<void> {
    const tx = this.#db.transaction("blocks", "readwrite");
    for (const cid of cids) void tx.store.delete(cid);
    await tx.done;
  }

  async countBlocks(): Promise<number> {
    return await this.#db.count("blocks");
  }

  /** Records a stored file: manifest, listing and wrapped key together, or nothing. */
  async putFile(record: FileRecord, manifest: Uint8Array, key?: KeyRecord): Promise<void> {
    try {
      const tx = this.#db.transaction(["manifests", "files", "keys"], "readwrite");
      void tx.objectStore("manifests").put(manifest, record.cid);
      void tx.objectStore("files").put(record);
      if (key) void tx.objectStore("keys").put(key);
      await tx.done;
    } catch (error) {
      if (isQuotaError(error)) throw new QuotaExceededError(manifest.length, 0, { cause: error });
      throw error;
    }
  }

  async putManifest(cid: string, bytes: Uint8Array): Promise<void> {
    await this.#db.put("manifests", bytes, cid);
  }

  async getManifest(cid: string): Promise<Uint8Array | undefined> {
    return await this.#db.get("manifests", cid);
  }

  async listFiles(): Promise<FileRecord[]> {
    return (await this.#db.getAllFromIndex("files", "createdAt")).reverse();
  }

  async getKey(cid: string): Promise<KeyRecord | undefined> {
    return await this.#db.get("keys", cid);
  }

  async putKey(key: KeyRecord): Promise<void> {
    await this.#db.put("keys", key);
  }

  /** Removes a file of mine: its blocks, manifest, listing, key and receipts. */
  async deleteFile(cid: string, blockCids: readonly string[]): Promise<void> {
    const tx = this.#db.transaction(["blocks", "manifests", "files", "keys", "receipts"], "readwrite");
    for (const b of blockCids) void tx.objectStore("blocks").delete(b);
    void tx.objectStore("manifests").delete(cid);
    void tx.objectStore("files").delete(cid);
    void tx.objectStore("keys").delete(cid);
    const receipts = tx.objectStore("receipts");
    for (const id of await receipts.index("manifestCid").getAllKeys(cid)) void receipts.delete(id);
    await tx.done;
  }

  async putReceipt(receipt: ReceiptRecord): Promise<void> {
    await this.#db.put("receipts", receipt);
  }

  async receiptsOf(manifestCid: string): Promise<ReceiptRecord[]> {
    return await this.#db.getAllFromIndex("receipts", "manifestCid", manifestCid);
  }
}

/**
 * Throws QuotaExceededError unless the origin has `neededBytes` free, and asks once for persistent storage so
 * the browser does not evict stored shards under pressure.
 */
export async function ensureQuota(
  neededBytes: number,
  storage: StorageManager | undefined = globalThis.navigator?.storage,
): Promise<void> {
  if (!storage?.estimate) return;
  if (storage.persist && !persistRequested) {
    persistRequested = true;
    await storage.persist().catch(() => false);
  }
  const { quota, usage } = await storage.estimate();
  if (quota === undefined || usage === undefined) return;
  const available = quota - usage;
  if (neededBytes > available) throw new QuotaExceededError(neededBytes, available);
}

let persistRequested = false;
