/**
 * The files of this browser as the UI reads them: a reactive mirror of core/files/my-files.ts (the list, the store
 * in progress, downloads, errors) whose actions delegate to it.
 */

import type {
  Downloaded,
  FileItem,
  FilesError,
  MyFiles,
  SaveTarget,
  StoreOptions,
  StoreProgress,
} from "../core/files/my-files.ts";
import type { FileMeta } from "../lib/manifest.ts";

export type { Downloaded, FileItem, FilesError, SaveTarget, StoreProgress };

export class FilesState {
  readonly #files: MyFiles;

  #items = $state.raw<FileItem[]>([]);
  #progress = $state.raw<StoreProgress | undefined>();
  #storing = $state<string | undefined>();
  #downloading = $state<string | undefined>();
  #downloaded = $state.raw<Downloaded | undefined>();
  #unlocked = $state(false);
  #error = $state.raw<FilesError | undefined>();

  constructor(files: MyFiles) {
    this.#files = files;
    files.addEventListener("change", () => this.#read());
    this.#read();
  }

  #read(): void {
    const files = this.#files;
    this.#items = files.items;
    this.#progress = files.progress;
    this.#storing = files.storing;
    this.#downloading = files.downloading;
    this.#downloaded = files.downloaded;
    this.#unlocked = files.unlocked;
    this.#error = files.error;
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
    return this.#unlocked;
  }
  get canUnlock(): boolean {
    return this.#files.canUnlock;
  }
  get error(): FilesError | undefined {
    return this.#error;
  }

  /** Reads the list of stored files. */
  refresh(): Promise<void> {
    return this.#files.refresh();
  }

  /** Asks the wallet for the vault signature, then shows the files' names. */
  unlock(): Promise<void> {
    return this.#files.unlock();
  }

  /** Encrypts, codes and stores a file; progress per stage in `progress`. */
  store(file: File, options: StoreOptions = {}): Promise<string | undefined> {
    return this.#files.store(file, options);
  }

  cancel(): void {
    this.#files.cancel();
  }

  /** Decrypts a stored file into `target`, streaming; `rawKey` for files opened from a share link. */
  download(cid: string, target: SaveTarget, rawKey?: Uint8Array): Promise<void> {
    return this.#files.download(cid, target, rawKey ? { rawKey } : {});
  }

  /** Name and type of a file, for the save dialog. */
  metaOf(cid: string, rawKey?: Uint8Array): Promise<FileMeta | undefined> {
    return this.#files.metaOf(cid, rawKey ? { rawKey } : {});
  }

  remove(cid: string): Promise<void> {
    return this.#files.remove(cid);
  }

  /** The share link of a file of mine (its key in the fragment). */
  shareLinkOf(cid: string): Promise<string | undefined> {
    return this.#files.shareLinkOf(cid, location.href);
  }

  /** CID and key from a share link's fragment (an invalid one shows in `error`). */
  parseLink(hash: string): { cid: string; rawKey: Uint8Array } | undefined {
    return this.#files.parseLink(hash);
  }
}
