import { unixfs } from "@helia/unixfs";
import type { Blockstore } from "interface-blockstore";
import type { CID } from "multiformats/cid";

export interface AddPublicFileParameters {
  signal?: AbortSignal;
  /** Bytes of the file read so far. */
  onProgress?: (bytesRead: number) => void;
}

/**
 * Adds `file` as plain UnixFS (CIDv1, raw leaves) to this peer's block store, where bitswap serves it to any peer
 * that asks for its CID. Streams the file: it is never whole in memory.
 */
export async function addPublicFile(
  helia: { blockstore: Pick<Blockstore, "put" | "get" | "has"> },
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
  return await fs.addByteStream(counted, {
    cidVersion: 1,
    rawLeaves: true,
    ...(parameters.signal ? { signal: parameters.signal } : {}),
  });
}
