import type { CID } from "multiformats/cid";
import { digestOf } from "../../lib/cid.ts";
import { TooFewShardsError } from "../../lib/file-errors.ts";
import type { Manifest } from "../../lib/manifest.ts";
import type { BlockStore } from "../../storage/files-db.ts";

/** Where pieces come from: any block store; one that can hand out bytes directly saves a Blob round trip. */
export type PieceSource = Pick<BlockStore, "getBlocks" | "getBlockBytes">;

async function readPieces(store: PieceSource, cids: string[]): Promise<(ArrayBuffer | undefined)[]> {
  if (store.getBlockBytes) return (await store.getBlockBytes(cids)).map((b) => b?.buffer as ArrayBuffer | undefined);
  return await Promise.all((await store.getBlocks(cids)).map((b) => b?.arrayBuffer()));
}

export interface Attempt {
  pieces: (ArrayBuffer | null)[];
  digests: Uint8Array[];
}

/**
 * Gathers pieces of segment `index` until the codec accepts them: data pieces first (no decoding needed when all
 * are intact), then parity, shards already seen `damaged` last; a missing block or one failing its CID check is an
 * erasure and its shard is added to `damaged`. `run` returns `done`, or the indices that failed verification.
 */
export async function withPieces<T>(
  store: PieceSource,
  manifest: Manifest,
  index: number,
  damaged: Set<number>,
  run: (attempt: Attempt) => Promise<{ done: T } | { bad: number[] }>,
): Promise<T> {
  const { k, m } = manifest;
  const n = k + m;
  const cids = manifest.shards.map((s) => s.pieces[index] as CID);
  const digests = cids.map((c) => digestOf(c));
  const pieces: (ArrayBuffer | null)[] = new Array(n).fill(null);
  const order = [...Array(n).keys()].sort((a, b) => Number(damaged.has(a)) - Number(damaged.has(b)));
  const unusable = new Set<number>();
  let next = 0;
  for (;;) {
    const want: number[] = [];
    let present = pieces.filter(Boolean).length;
    while (present + want.length < k && next < n) {
      const i = order[next] as number;
      if (!unusable.has(i)) want.push(i);
      next++;
    }
    if (want.length > 0) {
      const buffers = await readPieces(
        store,
        want.map((i) => (cids[i] as CID).toString()),
      );
      want.forEach((i, j) => {
        const buffer = buffers[j];
        if (buffer) pieces[i] = buffer;
        else {
          unusable.add(i);
          damaged.add(i);
        }
      });
      present = pieces.filter(Boolean).length;
      if (present < k && next < n) continue;
    }
    if (present < k) throw new TooFewShardsError(k, present, index);
    // The pieces are transferred to the codec: keep nothing of them here.
    const result = await run({ pieces: pieces.slice(), digests });
    if ("done" in result) return result.done;
    for (const b of result.bad) {
      unusable.add(b);
      damaged.add(b);
    }
    // Pieces that were sent are gone (transferred); fetch the intact ones again along with replacements.
    for (let i = 0; i < n; i++) pieces[i] = null;
    next = 0;
    if (n - unusable.size < k) throw new TooFewShardsError(k, n - unusable.size, index);
  }
}
