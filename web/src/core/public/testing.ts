import { MemoryBlockstore } from "blockstore-core";
import type { CID } from "multiformats/cid";
import { raceSignal } from "../../lib/signals.ts";
import type { PublicFileSink, PublicFilesHelia } from "./public-files.ts";

/**
 * A peer's block store and pins in memory. Like the network behind Helia's block store, a block it lacks is
 * waited for (until the caller's signal aborts) instead of refused.
 */
export function memoryHelia(): PublicFilesHelia & { pinned: Set<string> } {
  const store = new MemoryBlockstore();
  const pinned = new Set<string>();
  const blockstore: PublicFilesHelia["blockstore"] = {
    put: (cid, bytes, options) => store.put(cid, bytes, options),
    has: (cid, options) => store.has(cid, options),
    get: async function* (cid: CID, options?: { signal?: AbortSignal }) {
      if (!(await store.has(cid))) await raceSignal(new Promise(() => {}), options?.signal);
      yield* store.get(cid, options);
    } as unknown as PublicFilesHelia["blockstore"]["get"],
  };
  const pins = {
    isPinned: async (cid: CID) => pinned.has(cid.toString()),
    add: async function* (cid: CID) {
      pinned.add(cid.toString());
      yield cid;
    },
  } as unknown as PublicFilesHelia["pins"];
  return { blockstore, pins, pinned };
}

/** A sink that keeps what it is given. */
export function memorySink(): PublicFileSink & { bytes: () => Uint8Array; closed: boolean; aborted: boolean } {
  const chunks: Uint8Array[] = [];
  const sink = {
    closed: false,
    aborted: false,
    write: async (chunk: Uint8Array) => void chunks.push(chunk),
    close: async () => {
      sink.closed = true;
    },
    abort: async () => {
      sink.aborted = true;
    },
    bytes: () => {
      const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
      let offset = 0;
      for (const c of chunks) {
        out.set(c, offset);
        offset += c.byteLength;
      }
      return out;
    },
  };
  return sink;
}
