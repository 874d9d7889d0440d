import { LEAF_SIZE_BYTES } from "../../../lib/constants.ts";
import { leafHash, proofOf, rootOf, verifyProof } from "../../../lib/merkle/tree.ts";

/**
 * Adapter between the audit protocol and the data path's shard Merkle tree (lib/merkle/tree.ts, the tree the
 * storage contract verifies): leaf i = keccak256(uint64 i ‖ 256-byte chunk i), commutative pair hashing, and full
 * pieces are perfect subtrees, so a proof is the path inside the challenged piece followed by the path among the
 * shard's piece roots.
 */

/** A leaf's bytes and its path to the shard root. */
export interface LeafProof {
  leaf: Uint8Array;
  proof: Uint8Array[];
}

/** The Merkle subtree root of a piece whose first leaf is leaf number `firstLeaf` of its shard. */
export type PieceRootFn = (piece: Uint8Array, firstLeaf: number) => Uint8Array | Promise<Uint8Array>;

/** Leaf hashes of a piece (pure TypeScript; the tab may inject the WASM hasher instead). */
export function pieceLeafHashes(piece: Uint8Array, firstLeaf: number, leafSize = LEAF_SIZE_BYTES): Uint8Array[] {
  const hashes: Uint8Array[] = [];
  for (let offset = 0, i = firstLeaf; offset < piece.byteLength; offset += leafSize, i++) {
    hashes.push(leafHash(i, piece.subarray(offset, offset + leafSize), leafSize));
  }
  return hashes;
}

/** Default {@link PieceRootFn}: hashes the piece's leaves and folds them. */
export const pieceRoot: PieceRootFn = (piece, firstLeaf) => rootOf(pieceLeafHashes(piece, firstLeaf));

/** Root of a shard from its piece roots, in order. */
export function shardRootOf(pieceRoots: readonly Uint8Array[]): Uint8Array {
  return rootOf(pieceRoots);
}

/** Number of leaves of a shard with these piece sizes (a short chunk still makes a leaf). */
export function leafCountOf(sizes: readonly number[], leafSize = LEAF_SIZE_BYTES): number {
  return sizes.reduce((total, size) => total + Math.ceil(size / leafSize), 0);
}

/** First leaf of every piece. */
export function firstLeaves(sizes: readonly number[], leafSize = LEAF_SIZE_BYTES): number[] {
  const out: number[] = [];
  let next = 0;
  for (const size of sizes) {
    out.push(next);
    next += Math.ceil(size / leafSize);
  }
  return out;
}

/** Which piece holds `leafIndex`, and where in it; `undefined` past the end. */
export function locateLeaf(
  sizes: readonly number[],
  leafIndex: number,
  leafSize = LEAF_SIZE_BYTES,
): { piece: number; firstLeaf: number } | undefined {
  let first = 0;
  for (const [piece, size] of sizes.entries()) {
    const count = Math.ceil(size / leafSize);
    if (leafIndex < first + count) return { piece, firstLeaf: first };
    first += count;
  }
  return undefined;
}

/**
 * Builds the proof for `leafIndex` from the challenged piece's bytes (hashed now, so a corrupted piece yields a
 * proof that fails) and the shard's piece roots.
 */
export function proveLeaf(
  piece: Uint8Array,
  firstLeaf: number,
  leafIndex: number,
  pieceIndex: number,
  pieceRoots: readonly Uint8Array[],
  leafSize = LEAF_SIZE_BYTES,
): LeafProof {
  const inPiece = leafIndex - firstLeaf;
  const hashes = pieceLeafHashes(piece, firstLeaf, leafSize);
  if (inPiece < 0 || inPiece >= hashes.length) throw new RangeError(`leaf ${leafIndex} is not in this piece`);
  const leaf = piece.subarray(inPiece * leafSize, (inPiece + 1) * leafSize);
  return { leaf, proof: [...proofOf(hashes, inPiece), ...proofOf(pieceRoots, pieceIndex)] };
}

/** True when `answer` proves leaf `leafIndex` of the shard with this root. */
export function verifyLeaf(
  root: Uint8Array,
  leafIndex: number,
  answer: LeafProof,
  leafSize = LEAF_SIZE_BYTES,
): boolean {
  if (answer.leaf.byteLength === 0 || answer.leaf.byteLength > leafSize) return false;
  return verifyProof(answer.proof, root, leafHash(leafIndex, answer.leaf, leafSize));
}
