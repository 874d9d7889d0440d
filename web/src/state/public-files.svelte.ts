import type { Helia } from "helia";
import { addPublicFile } from "../core/public/add-public-file.ts";
import { fetchPublicFile, parseCid } from "../core/public/fetch-public-file.ts";
import { userMessage } from "../lib/errors.ts";

export interface Transfer {
  id: number;
  name: string;
  bytes: number;
  total?: number;
  cid?: string;
  error?: string;
  done: boolean;
}

/** Public files: plain UnixFS added to this peer's block store and fetched by CID from other peers over bitswap. */
export class PublicFilesState {
  #helia: Helia;
  #added = $state.raw<Transfer[]>([]);
  #fetching = $state.raw<Transfer | undefined>();
  #abort: AbortController | undefined;
  #nextId = 0;

  constructor(helia: Helia) {
    this.#helia = helia;
  }

  /** Files this tab added, newest first, with their CIDs once imported. */
  get added(): Transfer[] {
    return this.#added;
  }
  get fetching(): Transfer | undefined {
    return this.#fetching;
  }

  async add(file: File): Promise<void> {
    const id = this.#nextId++;
    const update = (patch: Partial<Transfer>) => {
      // Raw state: each change replaces the entry so that the list re-renders.
      this.#added = this.#added.map((t) => (t.id === id ? { ...t, ...patch } : t));
    };
    this.#added = [{ id, name: file.name, bytes: 0, total: file.size, done: false }, ...this.#added];
    try {
      const cid = await addPublicFile(this.#helia, file, { onProgress: (bytes) => update({ bytes }) });
      update({ cid: cid.toString(), done: true });
    } catch (error) {
      update({ error: userMessage(error), done: true });
    }
  }

  /** Fetches `cidText` and writes it to `sink` (a file on disk or a download). */
  async fetch(
    cidText: string,
    sink: { write(chunk: Uint8Array): Promise<void>; close(): Promise<void>; abort(): Promise<void> },
  ): Promise<void> {
    this.#abort?.abort();
    const abort = new AbortController();
    this.#abort = abort;
    const state: Transfer = { id: this.#nextId++, name: cidText, bytes: 0, done: false };
    const set = (patch: Partial<Transfer>) => {
      this.#fetching = { ...state, ...patch };
      Object.assign(state, patch);
    };
    set({});
    try {
      const file = await fetchPublicFile(this.#helia, parseCid(cidText), { signal: abort.signal });
      set({ cid: file.cid.toString(), total: Number(file.size) });
      for await (const chunk of file.content) {
        await sink.write(chunk);
        set({ bytes: state.bytes + chunk.byteLength });
      }
      await sink.close();
      set({ done: true });
    } catch (error) {
      await sink.abort();
      set({ error: userMessage(error), done: true });
    }
  }

  cancel(): void {
    this.#abort?.abort();
  }
}
