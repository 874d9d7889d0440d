/**
 * The files of this browser as the UI sees them: the list (names decrypted once the vault is unlocked), the store
 * in progress with one figure per stage, downloads, deletion, share links, and opening a share link.
 */

import { WorkerPool } from "../../workers/pool.ts";
import { deleteFile } from "../core/files/delete-file.ts";
import { loadManifest, openFile } from "../core/files/open-file.ts";
import { type StoreProgress, storeFile } from "../core/files/store-file.ts";
import type { BlockReader } from "../lib/blocks.ts";
import { fromHex } from "../lib/bytes.ts";
import { DEFAULT_DATA_SHARDS, DEFAULT_PARITY_SHARDS } from "../lib/constants.ts";
import { deriveVault, VAULT_TYPED_DATA, type Vault } from "../lib/crypto/key-vault.ts";
import { parseShareLink, shareLink } from "../lib/crypto/share-link.ts";
import { BaseError, userMessage } from "../lib/errors.ts";
import { VaultLockedError } from "../lib/file-errors.ts";
import { type FileMeta, openManifest } from "../lib/manifest.ts";
import { ensureQuota, type FileRecord, FilesDB } from "../storage/files-db.ts";

export interface FileItem extends FileRecord {
  meta?: FileMeta;
}

export interface FilesError {
  name: string;
  message: string;
}

/** Where a download goes (ui/files/save.ts). */
export interface SaveTarget {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

export interface FilesStateParameters {
  /** Signs the vault's EIP-712 message with the user's wallet, hex signature. */
  signTypedData?: (typedData: typeof VAULT_TYPED_DATA) => Promise<`0x${string}`>;
  /**
   * Where a file's manifest and pieces that are not in this browser come from (the hosts, state/network-files):
   * a store over one file, this browser's blocks first. Without it, files are read from this browser only.
   */
  remote?: (local: FilesDB, cid: string) => RemoteFileStore;
  /** Called once a file is stored in this browser (e.g. to place its shards on hosts). */
  onStored?: (cid: string) => void;
}

/** A store over one file that fetches what this browser lacks; `close()` stops its transfers. */
export interface RemoteFileStore extends BlockReader {
  close(): void;
}

export class FilesState {
  readonly #params: FilesStateParameters;
  #db: Promise<FilesDB> | undefined;
  #pool: WorkerPool | undefined;
  #vault: Vault | undefined;
  #keys = new Map<string, Uint8Array>();
  #abort: AbortController | undefined;

  #items = $state.raw<FileItem[]>([]);
  #progress = $state.raw<StoreProgress | undefined>();
  #storing = $state<string | undefined>();
  #downloading = $state<string | undefined>();
  #downloaded = $state<{ cid: string; bytes: number; damagedShards: number[] } | undefined>();
  #unlocked = $state(false);
  #error = $state.raw<FilesError | undefined>();

  constructor(params: FilesStateParameters = {}) {
    this.#params = params;
  }

  get items(): FileItem[] {
    return this.#items;
  }
  get progress(): StoreProgress | undefined {
    return this.#progress;
  }
  /** Name of the file being stored. */
  get storing(): string | undefined {
    return this.#storing;
  }
  get downloading(): string | undefined {
    return this.#downloading;
  }
  get downloaded() {
    return this.#downloaded;
  }
  get unlocked(): boolean {
    return this.#unlocked;
  }
  get canUnlock(): boolean {
    return this.#params.signTypedData !== undefined;
  }
  get error(): FilesError | undefined {
    return this.#error;
  }

  #parts() {
    this.#db ??= FilesDB.open();
    this.#pool ??= new WorkerPool();
    return { db: this.#db, codec: this.#pool };
  }

  async #run<T>(action: () => Promise<T>): Promise<T | undefined> {
    this.#error = undefined;
    try {
      return await action();
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") return undefined;
      console.error(error);
      this.#error = { name: error instanceof BaseError ? error.name : "Error", message: userMessage(error) };
      return undefined;
    }
  }

  /** Reads the list of stored files. */
  async refresh(): Promise<void> {
    await this.#run(async () => {
      const db = await this.#parts().db;
      const records = await db.listFiles();
      const items: FileItem[] = [];
      for (const record of records) {
        const key = await this.#keyOf(record.cid, db).catch(() => undefined);
        let meta: FileMeta | undefined;
        if (key) meta = (await openManifest(await loadManifest(db, record.cid), key)).meta;
        items.push(meta ? { ...record, meta } : record);
      }
      this.#items = items;
    });
  }

  /** Asks the wallet for the vault signature, then shows the files' names. */
  async unlock(): Promise<void> {
    await this.#run(async () => {
      await this.#ensureVault();
    });
    await this.refresh();
  }

  async #ensureVault(): Promise<Vault> {
    if (this.#vault) return this.#vault;
    if (!this.#params.signTypedData) throw new VaultLockedError();
    const signature = await this.#params.signTypedData(VAULT_TYPED_DATA);
    this.#vault = await deriveVault(fromHex(signature));
    this.#unlocked = true;
    return this.#vault;
  }

  async #keyOf(cid: string, db: FilesDB): Promise<Uint8Array> {
    const cached = this.#keys.get(cid);
    if (cached) return cached;
    const record = await db.getKey(cid);
    if (!record || !this.#vault) throw new VaultLockedError();
    const key = await this.#vault.open(record.wrapped, cid);
    this.#keys.set(cid, key);
    return key;
  }

  /** Encrypts, codes and stores a file; progress per stage in `progress`. */
  async store(file: File, options: { k?: number; m?: number } = {}): Promise<string | undefined> {
    const result = await this.#run(async () => {
      const vault = await this.#ensureVault();
      const { db, codec } = this.#parts();
      const store = await db;
      this.#abort = new AbortController();
      this.#storing = file.name;
      this.#progress = { totalBytes: file.size, encryptedBytes: 0, encodedBytes: 0, storedBytes: 0 };
      let frame = 0;
      try {
        const stored = await storeFile(
          { codec, store, ensureQuota: (bytes) => ensureQuota(bytes), sealKey: vault.seal },
          file,
          {
            k: options.k ?? DEFAULT_DATA_SHARDS,
            m: options.m ?? DEFAULT_PARITY_SHARDS,
            signal: this.#abort.signal,
            onProgress: (p) => {
              // At most one UI update per frame.
              if (frame) return;
              frame = requestAnimationFrame(() => {
                frame = 0;
                this.#progress = p;
              });
            },
          },
        );
        this.#progress = {
          totalBytes: file.size,
          encryptedBytes: file.size,
          encodedBytes: file.size,
          storedBytes: file.size,
        };
        this.#keys.set(stored.cid.toString(), stored.rawKey);
        this.#params.onStored?.(stored.cid.toString());
        return stored.cid.toString();
      } finally {
        if (frame) cancelAnimationFrame(frame);
        this.#storing = undefined;
        this.#abort = undefined;
      }
    });
    await this.refresh();
    return result;
  }

  cancel(): void {
    this.#abort?.abort();
  }

  /** Decrypts a stored file into `target`, streaming; `rawKey` for files opened from a share link. */
  async download(cid: string, target: SaveTarget, rawKey?: Uint8Array): Promise<void> {
    await this.#run(async () => {
      const { db, codec } = this.#parts();
      const store = await db;
      const key = rawKey ?? (await this.#keyOf(cid, store));
      this.#downloading = cid;
      this.#downloaded = undefined;
      let damagedShards: number[] = [];
      const remote = this.#params.remote?.(store, cid);
      try {
        const { stream } = await openFile({ codec, store: remote ?? store }, cid, key, {
          onProgress: (p) => {
            damagedShards = p.damagedShards;
          },
        });
        let bytes = 0;
        const reader = stream.getReader();
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          await target.write(value);
          bytes += value.length;
        }
        await target.close();
        this.#downloaded = { cid, bytes, damagedShards };
      } catch (error) {
        await target.abort().catch(() => {});
        throw error;
      } finally {
        remote?.close();
        this.#downloading = undefined;
      }
    });
  }

  /** Name and type of a file, for the save dialog. */
  async metaOf(cid: string, rawKey?: Uint8Array): Promise<FileMeta | undefined> {
    return await this.#run(async () => {
      const store = await this.#parts().db;
      const key = rawKey ?? (await this.#keyOf(cid, store));
      const remote = this.#params.remote?.(store, cid);
      try {
        return (await openManifest(await loadManifest(remote ?? store, cid), key)).meta;
      } finally {
        remote?.close();
      }
    });
  }

  async remove(cid: string): Promise<void> {
    await this.#run(async () => {
      await deleteFile({ store: await this.#parts().db }, cid);
      this.#keys.delete(cid);
    });
    await this.refresh();
  }

  /** The share link of a file of mine (its key in the fragment). */
  async shareLinkOf(cid: string): Promise<string | undefined> {
    return await this.#run(async () => shareLink(location.href, cid, await this.#keyOf(cid, await this.#parts().db)));
  }

  /** CID and key from a share link's fragment (throws InvalidShareLinkError). */
  parseLink(hash: string): { cid: string; rawKey: Uint8Array } | undefined {
    try {
      const { cid, rawKey } = parseShareLink(hash);
      return { cid: cid.toString(), rawKey };
    } catch (error) {
      this.#error = { name: error instanceof BaseError ? error.name : "Error", message: userMessage(error) };
      return undefined;
    }
  }
}
