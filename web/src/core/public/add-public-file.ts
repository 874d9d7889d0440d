import { unixfs } from "@helia/unixfs";
import type { Pins } from "helia";
import type { Blockstore } from "interface-blockstore";
import type { CID } from "multiformats/cid";

export interface AddPublicFileParameters {
  signal?: AbortSignal;
  /** Bytes of the file read so far. */
  onProgress?: (bytesRead: number) => void;
}

/**
 * Adds `file` as plain UnixFS (CIDv1, raw leaves) to this peer's block store, where bitswap serves it to any peer
 * that asks for its CID, and pins it: nothing this peer cleans up (hosted shards it removes) deletes its blocks.
 * Streams the file: it is never whole in memory.
 */
export async function addPublicFile(
  helia: { blockstore: Pick<Blockstore, "put" | "get" | "has">; pins: Pick<Pins, "add" | "isPinned"> },
  file: Blob,
  parameters: AddPublicFileParameters = {},
): Promise<CID> {
  let bytesRead = 0;
  const counted = file.stream().pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytesRead += chunk.byteLength;
        parameters.onProgress?.(bytesRead);
        controller.enqueue(chunk);
      },
    }),
  );
  const fs = unixfs(helia as Parameters<typeof unixfs>[0]);
  const signal = parameters.signal ? { signal: parameters.signal } : {};
  const cid = await fs.addByteStream(counted, { cidVersion: 1, rawLeaves: true, ...signal });
  // Pinned already when the same file (or content holding it) was published before: its blocks are kept.
  if (await helia.pins.isPinned(cid, signal)) return cid;
  for await (const _ of helia.pins.add(cid, signal)) {
    // Each block of the file, now pinned.
  }
  return cid;
}
