/**
 * The files of this browser: the list (names decrypted once the vault is unlocked), the store in progress with one
 * figure per stage, downloads, deletion, share links, and opening a share link. Emits `change` whenever anything it
 * shows changes (store progress at most once per {@link STORE_PROGRESS_INTERVAL_MS}).
 */

import type { BlockReader } from "../../lib/blocks.ts";
import { fromHex } from "../../lib/bytes.ts";
import { DEFAULT_DATA_SHARDS, DEFAULT_PARITY_SHARDS } from "../../lib/constants.ts";
import { deriveVault, VAULT_TYPED_DATA, type Vault } from "../../lib/crypto/key-vault.ts";
import { parseShareLink, shareLink } from "../../lib/crypto/share-link.ts";
import { BaseError, userMessage } from "../../lib/errors.ts";
import { VaultLockedError } from "../../lib/file-errors.ts";
import { type FileMeta, openManifest } from "../../lib/manifest.ts";
import { ProgressThrottle } from "../../lib/progress.ts";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import { raceSignal } from "../../lib/signals.ts";
import type { FileRecord, FilesDB } from "../../storage/files-db.ts";
import { deleteFile } from "./delete-file.ts";
import { loadManifest, openFile } from "./open-file.ts";
import { type FileSource, type StoreProgress, storeFile } from "./store-file.ts";

export type { StoreProgress };

/** Store progress is published at most this often: about one frame, the page redraws no more often anyway. */
export const STORE_PROGRESS_INTERVAL_MS = 16;

export interface FileItem extends FileRecord {
  meta?: FileMeta;
}

export interface FilesError {
  name: string;
  message: string;
}

/** Where a download goes (ui/save-file.ts). */
export interface SaveTarget {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/** A store over one file that fetches what this browser lacks; `close()` stops its transfers. */
export interface RemoteFileStore extends BlockReader {
  close(): void;
}

/** The last download that completed. */
export interface Downloaded {
  cid: string;
  bytes: number;
  damagedShards: number[];
}

export interface MyFilesParts {
  /** This browser's files database (the same connection on every call). */
  db(): Promise<FilesDB>;
  /** The codec files are stored and opened with (a worker pool, made on first use). */
  codec(): SegmentCodec;
  /** Throws QuotaExceededError when `bytes` do not fit (storage/files-db.ts `ensureQuota`). */
  ensureQuota?: (bytes: number) => Promise<void>;
  /** Signs the vault's EIP-712 message with the user's wallet, hex signature. */
  signTypedData?: (typedData: typeof VAULT_TYPED_DATA) => Promise<`0x${string}`>;
  /**
   * Where a file's manifest and pieces that are not in this browser come from (the hosts, core/network): a store
   * over one file, this browser's blocks first. Without it, files are read from this browser only.
   */
  remote?: (local: Required<BlockReader>, cid: string) => RemoteFileStore;
  /** Called once a file is stored in this browser (e.g. to place its shards on hosts). */
  onStored?: (cid: string) => void;
  /** Called before a file is deleted (e.g. to end its paid deals); the file is kept when it rejects. */
  beforeRemove?: (cid: string) => Promise<void>;
}

export interface StoreOptions {
  k?: number;
  m?: number;
  signal?: AbortSignal;
}

export interface OpenOptions {
  /** The file key, for files opened from a share link; else the vault's. */
  rawKey?: Uint8Array;
  signal?: AbortSignal;
}

function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}

export class MyFiles extends EventTarget {
  readonly #parts: MyFilesParts;
  #vault: Vault | undefined;
  readonly #keys = new Map<string, Uint8Array>();
  #abort: AbortController | undefined;
  readonly #publish = new ProgressThrottle(() => this.dispatchEvent(new Event("change")), STORE_PROGRESS_INTERVAL_MS);

  #items: FileItem[] = [];
  #progress: StoreProgress | undefined;
  #storing: string | undefined;
  #downloading: string | undefined;
  #downloaded: Downloaded | undefined;
  #error: FilesError | undefined;

  constructor(parts: MyFilesParts) {
    super();
    this.#parts = parts;
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
  get downloaded(): Downloaded | undefined {
    return this.#downloaded;
  }
  get unlocked(): boolean {
    return this.#vault !== undefined;
  }
  get canUnlock(): boolean {
    return this.#parts.signTypedData !== undefined;
  }
  /** What the last action failed with, as the UI shows it. */
  get error(): FilesError | undefined {
    return this.#error;
  }

  #changed(): void {
    this.#publish.now();
  }

  /**
   * Runs a user's action: its error shows in `error`, a cancel shows nothing; resolves undefined on failure. A new
   * action clears the last one's error; the refresh that follows an action (`clears: false`) keeps it in view.
   */
  async #run<T>(action: () => Promise<T>, { clears = true } = {}): Promise<T | undefined> {
    if (clears) {
      this.#error = undefined;
      this.#changed();
    }
    try {
      return await action();
    } catch (error) {
      if (isAbort(error)) return undefined;
      console.error(error);
      this.#fail(error);
      return undefined;
    }
  }

  #fail(error: unknown): void {
    this.#error = { name: error instanceof BaseError ? error.name : "Error", message: userMessage(error) };
    this.#changed();
  }

  /** Reads the list of stored files. */
  async refresh(signal?: AbortSignal): Promise<void> {
    await this.#run(
      async () => {
        const db = await this.#parts.db();
        const items: FileItem[] = [];
        for (const record of await db.listFiles()) {
          signal?.throwIfAborted();
          const key = await this.#keyOf(record.cid, db).catch(() => undefined);
          let meta: FileMeta | undefined;
          if (key) meta = (await openManifest(await loadManifest(db, record.cid), key)).meta;
          items.push(meta ? { ...record, meta } : record);
        }
        this.#items = items;
        this.#changed();
      },
      { clears: false },
    );
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
    if (!this.#parts.signTypedData) throw new VaultLockedError();
    const signature = await this.#parts.signTypedData(VAULT_TYPED_DATA);
    this.#vault = await deriveVault(fromHex(signature));
    this.#changed();
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

  /** Encrypts, codes and stores a file; progress per stage in `progress`; `cancel()` or `signal` stops it. */
  async store(file: FileSource, options: StoreOptions = {}): Promise<string | undefined> {
    const result = await this.#run(async () => {
      const vault = await this.#ensureVault();
      const db = await this.#parts.db();
      const abort = new AbortController();
      this.#abort = abort;
      const signal = options.signal ? AbortSignal.any([abort.signal, options.signal]) : abort.signal;
      this.#storing = file.name;
      this.#progress = { totalBytes: file.size, encryptedBytes: 0, encodedBytes: 0, storedBytes: 0 };
      this.#changed();
      try {
        const stored = await storeFile(
          {
            codec: this.#parts.codec(),
            store: db,
            ...(this.#parts.ensureQuota ? { ensureQuota: this.#parts.ensureQuota } : {}),
            sealKey: vault.seal,
          },
          file,
          {
            k: options.k ?? DEFAULT_DATA_SHARDS,
            m: options.m ?? DEFAULT_PARITY_SHARDS,
            signal,
            onProgress: (p) => {
              this.#progress = p;
              this.#publish.soon();
            },
          },
        );
        this.#progress = {
          totalBytes: file.size,
          encryptedBytes: file.size,
          encodedBytes: file.size,
          storedBytes: file.size,
        };
        const cid = stored.cid.toString();
        this.#keys.set(cid, stored.rawKey);
        this.#parts.onStored?.(cid);
        return cid;
      } finally {
        this.#storing = undefined;
        this.#abort = undefined;
        this.#changed();
      }
    });
    await this.refresh();
    return result;
  }

  /** Stops the store under way. */
  cancel(): void {
    this.#abort?.abort();
  }

  /** Decrypts a stored file into `target`, streaming, from this browser and, for what it lacks, the hosts. */
  async download(cid: string, target: SaveTarget, options: OpenOptions = {}): Promise<void> {
    await this.#run(async () => {
      const db = await this.#parts.db();
      const key = options.rawKey ?? (await this.#keyOf(cid, db));
      this.#downloading = cid;
      this.#downloaded = undefined;
      this.#changed();
      let damagedShards: number[] = [];
      const remote = this.#parts.remote?.(db, cid);
      try {
        const { stream } = await openFile({ codec: this.#parts.codec(), store: remote ?? db }, cid, key, {
          ...(options.signal ? { signal: options.signal } : {}),
          onProgress: (p) => {
            damagedShards = p.damagedShards;
          },
        });
        let bytes = 0;
        const reader = stream.getReader();
        for (;;) {
          const { done, value } = await raceSignal(reader.read(), options.signal);
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
        this.#changed();
      }
    });
  }

  /** Name and type of a file, for the save dialog. */
  async metaOf(cid: string, options: OpenOptions = {}): Promise<FileMeta | undefined> {
    return await this.#run(async () => {
      const db = await this.#parts.db();
      const key = options.rawKey ?? (await this.#keyOf(cid, db));
      const remote = this.#parts.remote?.(db, cid);
      try {
        return (await openManifest(await raceSignal(loadManifest(remote ?? db, cid), options.signal), key)).meta;
      } finally {
        remote?.close();
      }
    });
  }

  /** Ends the file's paid deals, then deletes it from this browser (pieces, manifest, key and placements). */
  async remove(cid: string): Promise<void> {
    await this.#parts.beforeRemove?.(cid);
    await this.#run(async () => {
      await deleteFile({ store: await this.#parts.db() }, cid);
      this.#keys.delete(cid);
    });
    await this.refresh();
  }

  /** The share link of a file of mine (its key in the fragment), for the app at `appUrl`. */
  async shareLinkOf(cid: string, appUrl: string): Promise<string | undefined> {
    return await this.#run(async () => shareLink(appUrl, cid, await this.#keyOf(cid, await this.#parts.db())));
  }

  /** CID and key from a share link's fragment; an invalid link shows as `error` (InvalidShareLinkError). */
  parseLink(hash: string): { cid: string; rawKey: Uint8Array } | undefined {
    try {
      const { cid, rawKey } = parseShareLink(hash);
      return { cid: cid.toString(), rawKey };
    } catch (error) {
      this.#fail(error);
      return undefined;
    }
  }
}
