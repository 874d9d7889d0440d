import type { Pins } from "helia";
import type { Blockstore } from "interface-blockstore";
import { userMessage } from "../../lib/errors.ts";
import { ProgressThrottle } from "../../lib/progress.ts";
import { addPublicFile } from "./add-public-file.ts";
import { fetchPublicFile, parseCid } from "./fetch-public-file.ts";

/** One public file added or fetched: bytes so far, its CID once known, and how it ended. */
export interface PublicTransfer {
  id: number;
  name: string;
  bytes: number;
  total?: number;
  cid?: string;
  error?: string;
  done: boolean;
}

/** Where a fetched file goes (a file on disk or a download), written front to back. */
export interface PublicFileSink {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(): Promise<void>;
}

/** The parts of Helia public files use: this peer's block store (bitswap behind it) and its pins. */
export interface PublicFilesHelia {
  blockstore: Pick<Blockstore, "put" | "get" | "has">;
  pins: Pick<Pins, "add" | "isPinned">;
}

/**
 * Public files: plain UnixFS added to this peer's block store and fetched by CID from other peers over bitswap.
 * Keeps the files this tab added and the one fetch under way (a new fetch replaces it); emits `change` when either
 * changed, at most every 100 ms while bytes move.
 */
export class PublicFiles extends EventTarget {
  readonly #helia: PublicFilesHelia;
  readonly #progress = new ProgressThrottle(() => this.dispatchEvent(new Event("change")));
  #added: readonly PublicTransfer[] = [];
  #fetching: PublicTransfer | undefined;
  #abort: AbortController | undefined;
  #nextId = 0;

  constructor(helia: PublicFilesHelia) {
    super();
    this.#helia = helia;
  }

  /** Files this tab added, newest first, with their CIDs once imported. */
  get added(): readonly PublicTransfer[] {
    return this.#added;
  }
  get fetching(): PublicTransfer | undefined {
    return this.#fetching;
  }

  /** Adds `file` and pins it; its entry in {@link added} ends with its CID or the error. */
  async add(file: File, options: { signal?: AbortSignal } = {}): Promise<void> {
    const id = this.#nextId++;
    const update = (patch: Partial<PublicTransfer>) => {
      this.#added = this.#added.map((t) => (t.id === id ? { ...t, ...patch } : t));
    };
    this.#added = [{ id, name: file.name, bytes: 0, total: file.size, done: false }, ...this.#added];
    this.#progress.now();
    try {
      const cid = await addPublicFile(this.#helia, file, {
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (bytes) => {
          update({ bytes });
          this.#progress.soon();
        },
      });
      update({ cid: cid.toString(), done: true });
    } catch (error) {
      update({ error: userMessage(error), done: true });
    }
    this.#progress.now();
  }

  /** Fetches `cidText` into `sink`, cancelling the fetch under way; the sink is aborted when the fetch fails. */
  async fetch(cidText: string, sink: PublicFileSink, options: { signal?: AbortSignal } = {}): Promise<void> {
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    const signal = options.signal ? AbortSignal.any([abort.signal, options.signal]) : abort.signal;
    let view: PublicTransfer = { id: this.#nextId++, name: cidText, bytes: 0, done: false };
    const set = (patch: Partial<PublicTransfer>) => {
      view = { ...view, ...patch };
      // A fetch that a newer one replaced no longer shows.
      if (this.#abort === abort) this.#fetching = view;
    };
    set({});
    this.#progress.now();
    try {
      const file = await fetchPublicFile(this.#helia, parseCid(cidText), { signal });
      set({ cid: file.cid.toString(), total: Number(file.size) });
      this.#progress.now();
      for await (const chunk of file.content) {
        await sink.write(chunk);
        set({ bytes: view.bytes + chunk.byteLength });
        this.#progress.soon();
      }
      await sink.close();
      set({ done: true });
    } catch (error) {
      await sink.abort();
      set({ error: userMessage(error), done: true });
    }
    this.#progress.now();
  }

  /** Cancels the fetch under way. */
  cancel(): void {
    this.#abort?.abort();
  }
}
