import {
  AES_GCM_TAG_BYTES,
  LEAF_SIZE_BYTES,
  MAX_PIECE_SIZE_BYTES,
  MAX_TOTAL_SHARDS,
  TARGET_SEGMENT_SIZE_BYTES,
} from "../constants.ts";
import { InvalidCodingParametersError } from "../file-errors.ts";

/**
 * How a file of a given size is cut: segments of `segmentSizeBytes` plaintext, each encrypted into
 * `k * pieceSizeBytes` bytes (the GCM tag included) and coded into k + m pieces of `pieceSizeBytes`. Only the last
 * segment is shorter; its pieces are rounded up to whole leaves and padded with random bytes.
 *
 * Full pieces hold a power-of-two number of leaves, so each full piece is a perfect subtree of its shard's Merkle
 * tree and a worker can hash a piece into its subtree root on its own (see merkle.ts).
 */
export interface Layout {
  k: number;
  m: number;
  pieceSizeBytes: number;
  segmentSizeBytes: number;
  segmentCount: number;
  /** Plaintext bytes of the last segment (0 only for an empty file). */
  lastSegmentPlainBytes: number;
  lastPieceSizeBytes: number;
  /** Bytes of one shard: the sum of its pieces. */
  shardSizeBytes: number;
}

export function checkCodingParameters(k: number, m: number): void {
  if (!Number.isInteger(k) || !Number.isInteger(m) || k < 1 || m < 1 || k + m > MAX_TOTAL_SHARDS) {
    throw new InvalidCodingParametersError(k, m, MAX_TOTAL_SHARDS);
  }
}

/** Piece size for k data shards: the largest power of two with k pieces near the target segment, in [leaf, 1 MiB]. */
export function pieceSizeFor(k: number): number {
  let size = LEAF_SIZE_BYTES;
  while (size * 2 <= MAX_PIECE_SIZE_BYTES && size * 2 * k <= TARGET_SEGMENT_SIZE_BYTES) size *= 2;
  return size;
}

export function roundUp(value: number, multiple: number): number {
  return Math.ceil(value / multiple) * multiple;
}

/** Size in bytes of each piece of segment `index` (the last one may be smaller). */
export function pieceSizeOf(layout: Layout, index: number): number {
  return index === layout.segmentCount - 1 ? layout.lastPieceSizeBytes : layout.pieceSizeBytes;
}

/** Plaintext bytes of segment `index`. */
export function segmentPlainBytes(layout: Layout, index: number): number {
  return index === layout.segmentCount - 1 ? layout.lastSegmentPlainBytes : layout.segmentSizeBytes;
}

/** Index of the first Merkle leaf of segment `index`'s piece within its shard. */
export function firstLeafOf(layout: Layout, index: number): number {
  return (index * layout.pieceSizeBytes) / LEAF_SIZE_BYTES;
}

export function layoutFor(sizeBytes: number, k: number, m: number, pieceSizeBytes = pieceSizeFor(k)): Layout {
  checkCodingParameters(k, m);
  const segmentSizeBytes = k * pieceSizeBytes - AES_GCM_TAG_BYTES;
  const segmentCount = Math.max(1, Math.ceil(sizeBytes / segmentSizeBytes));
  const lastSegmentPlainBytes = sizeBytes - (segmentCount - 1) * segmentSizeBytes;
  const lastPieceSizeBytes = roundUp(Math.ceil((lastSegmentPlainBytes + AES_GCM_TAG_BYTES) / k), LEAF_SIZE_BYTES);
  return {
    k,
    m,
    pieceSizeBytes,
    segmentSizeBytes,
    segmentCount,
    lastSegmentPlainBytes,
    lastPieceSizeBytes,
    shardSizeBytes: (segmentCount - 1) * pieceSizeBytes + lastPieceSizeBytes,
  };
}

/** Total bytes stored for a file: every shard. */
export function encodedSizeBytes(layout: Layout): number {
  return (layout.k + layout.m) * layout.shardSizeBytes;
}
