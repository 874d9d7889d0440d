import type { TransferSink } from "../../p2p/protocols/transfer/index.ts";

/** Where one received file goes, written in order (a save dialog's file, an OPFS file, a Blob). */
export interface FileWriter {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/**
 * A {@link TransferSink} over one writer per file. The transfer delivers chunks in order and resumes exactly where
 * the last written chunk ended, so each file is written front to back; anything else is a bug and throws.
 */
export class SequentialSink implements TransferSink {
  readonly #writers: FileWriter[];
  readonly #written: number[];

  constructor(writers: FileWriter[]) {
    this.#writers = writers;
    this.#written = writers.map(() => 0);
  }

  async write(file: number, offset: number, bytes: Uint8Array): Promise<void> {
    const writer = this.#writers[file];
    if (!writer) throw new RangeError(`no file ${file} in this transfer`);
    if (offset !== this.#written[file]) {
      throw new RangeError(`file ${file} was written up to ${this.#written[file]}, not ${offset}`);
    }
    await writer.write(bytes);
    this.#written[file] = offset + bytes.byteLength;
  }

  /** Bytes written per file. */
  get written(): readonly number[] {
    return this.#written;
  }

  async close(): Promise<void> {
    for (const writer of this.#writers) await writer.close();
  }

  async abort(): Promise<void> {
    await Promise.allSettled(this.#writers.map((w) => w.abort()));
  }
}

/** Folder of the origin private file system where transfers without a save dialog are staged. */
export const RECEIVE_DIR = "tabula-received";

/** The files of one transfer staged on disk. */
export interface StagedFiles {
  writers: FileWriter[];
  /** The finished files, named as the sender named them. */
  files(): Promise<File[]>;
  remove(): Promise<void>;
}

/** Where transfers received without a save dialog are staged, and the locks that keep a live tab's staging. */
export interface Staging {
  open(transferId: string, files: readonly { name: string }[]): Promise<StagedFiles>;
  /** Holds the staging of `transferId` while this tab may still offer its files; resolves to the release. */
  hold(transferId: string): Promise<() => void>;
  /** Removes the staging of transfers whose tab is gone (nobody holds their lock). */
  collect(): Promise<void>;
}

/**
 * Files staged on disk in the origin private file system (OPFS), for browsers or cases without a save dialog:
 * multi-GB transfers never sit in memory, and the finished files are handed to the browser's download manager
 * from disk.
 */
export async function opfsWriters(transferId: string, files: readonly { name: string }[]): Promise<StagedFiles> {
  const root = await navigator.storage.getDirectory();
  const base = await root.getDirectoryHandle(RECEIVE_DIR, { create: true });
  const dir = await base.getDirectoryHandle(transferId, { create: true });
  const handles = await Promise.all(files.map((_, i) => dir.getFileHandle(`${i}`, { create: true })));
  const writers = await Promise.all(
    handles.map(async (handle): Promise<FileWriter> => {
      const writable = await handle.createWritable({ keepExistingData: false });
      return {
        write: (chunk) => writable.write(chunk as Uint8Array<ArrayBuffer>),
        close: () => writable.close(),
        abort: () => writable.abort(),
      };
    }),
  );
  return {
    writers,
    files: async () =>
      await Promise.all(
        handles.map(async (handle, i) => {
          const file = await handle.getFile();
          return new File([file], files[i]?.name ?? `file-${i}`, { type: file.type });
        }),
      ),
    remove: async () => {
      await base.removeEntry(transferId, { recursive: true }).catch(() => {});
    },
  };
}

/** Clears what earlier transfers left in the staging folder (their tabs are gone). */
export async function clearStaged(): Promise<void> {
  try {
    const root = await navigator.storage.getDirectory();
    await root.removeEntry(RECEIVE_DIR, { recursive: true });
  } catch {
    // nothing staged
  }
}

/** Holds a lock on a transfer's staging folder while this tab may still offer its files. */
async function holdStaging(transferId: string): Promise<() => void> {
  return await new Promise((resolve) => {
    void navigator.locks.request(`${RECEIVE_DIR}/${transferId}`, async () => {
      await new Promise<void>((release) => resolve(release));
    });
  });
}

/** Removes staging folders of transfers whose tab is gone (nobody holds their lock). */
async function collectStaged(): Promise<void> {
  try {
    const root = await navigator.storage.getDirectory();
    const base = await root.getDirectoryHandle(RECEIVE_DIR, { create: false });
    for await (const name of (base as unknown as { keys(): AsyncIterable<string> }).keys()) {
      await navigator.locks.request(`${RECEIVE_DIR}/${name}`, { ifAvailable: true }, async (lock) => {
        if (lock) await base.removeEntry(name, { recursive: true }).catch(() => {});
      });
    }
  } catch {
    // nothing staged
  }
}

/** Staging in the origin private file system, under {@link RECEIVE_DIR}, guarded by Web Locks. */
export const opfsStaging: Staging = { open: opfsWriters, hold: holdStaging, collect: collectStaged };
