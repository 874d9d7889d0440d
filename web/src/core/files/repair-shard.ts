import type { CID } from "multiformats/cid";
import type { BlockReader } from "../../lib/blocks.ts";
import { CorruptSegmentError, TooFewShardsError } from "../../lib/file-errors.ts";
import { publicLayoutOf, type ShardEntry } from "../../lib/manifest.ts";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import type { BlockStore } from "../../storage/files-db.ts";
import { pipelineDepth } from "./constants.ts";
import { loadManifest } from "./open-file.ts";
import { withPieces } from "./pieces.ts";
import { runPipeline, segmentIndices } from "./pipeline.ts";

export interface RepairShardParts {
  codec: SegmentCodec;
  store: BlockReader & Pick<BlockStore, "putBlocks">;
}

export interface RepairShardParameters {
  signal?: AbortSignal;
  onProgress?: (progress: { segments: number; repaired: number }) => void;
}

/**
 * Rebuilds shard `shard` of a stored file from any k other intact shards and writes its pieces back. Works on
 * ciphertext only: it needs the manifest and the pieces, never the key. Every rebuilt piece is checked against its
 * CID before it is written.
 */
export async function repairShard(
  parts: RepairShardParts,
  cid: CID | string,
  shard: number,
  params: RepairShardParameters = {},
): Promise<{ repairedPieces: number }> {
  const { codec, store } = parts;
  const depth = pipelineDepth(codec);
  const manifest = await loadManifest(store, cid);
  const { k, m, segmentCount } = manifest;
  if (!Number.isInteger(shard) || shard < 0 || shard >= k + m) throw new RangeError(`no shard ${shard}`);
  const { pieceSize, lastPieceSize } = publicLayoutOf(manifest);
  const targetCids = (manifest.shards[shard] as ShardEntry).pieces;
  const damaged = new Set<number>([shard]);
  let repaired = 0;
  let done = 0;

  const repairSegment = async (index: number) => {
    const size = index === segmentCount - 1 ? lastPieceSize : pieceSize;
    const piece = await withPieces<ArrayBuffer>(store, manifest, index, damaged, async ({ pieces, digests }) => {
      pieces[shard] = null;
      const result = await codec.repair({ k, m, pieceSize: size, pieces, digests, targets: [shard] });
      if (result.status === "ok") return { done: result.rebuilt[0] as ArrayBuffer };
      if (result.status === "corrupt") throw new CorruptSegmentError(index);
      if (result.bad.length === 0) throw new TooFewShardsError(k, result.intact, index);
      return { bad: result.bad };
    });
    await store.putBlocks([{ cid: (targetCids[index] as CID).toString(), bytes: new Uint8Array(piece) }]);
    repaired++;
    done++;
    params.onProgress?.({ segments: segmentCount, repaired: done });
  };

  await runPipeline(segmentIndices(segmentCount), depth, repairSegment, params.signal);
  return { repairedPieces: repaired };
}
