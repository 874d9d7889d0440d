/**
 * The shard Merkle tree that contracts/StorageMarket.sol verifies with OpenZeppelin's MerkleProof:
 * - the shard is cut into LEAF_SIZE_BYTES chunks (pieces are whole leaves, so no chunk is ever short);
 * - leaf i = keccak256(uint64 i big-endian ‖ chunk i);
 * - parent = keccak256(min(a, b) ‖ max(a, b)) (commutative, OpenZeppelin's `_hashPair`);
 * - levels are built left to right and an odd node at the end of a level moves up unchanged.
 * With that shape the tree over a shard equals the tree over its pieces' subtree roots, because every full piece
 * holds a power-of-two number of leaves (erasure/layout.ts): workers hash pieces, the tab folds the piece roots.
 * This module is the small, pure-TypeScript side (folding, proofs, verification); keccak.wasm hashes the bulk.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { concatBytes, u64be } from "../bytes.ts";
import { LEAF_SIZE_BYTES } from "../constants.ts";

export function keccak256(data: Uint8Array): Uint8Array {
  return keccak_256(data);
}

/** Leaf hash of chunk number `index` (zero-padded to the leaf size). */
export function leafHash(index: number, chunk: Uint8Array, leafSize = LEAF_SIZE_BYTES): Uint8Array {
  if (chunk.length > leafSize) throw new RangeError(`chunk of ${chunk.length} bytes exceeds the ${leafSize}-byte leaf`);
  const padded = new Uint8Array(leafSize);
  padded.set(chunk);
  return keccak_256(concatBytes(u64be(index), padded));
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const d = (a[i] as number) - (b[i] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/** keccak256(min(a, b) ‖ max(a, b)), as OpenZeppelin's `Hashes.commutativeKeccak256`. */
export function hashPair(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compare(a, b) <= 0 ? keccak_256(concatBytes(a, b)) : keccak_256(concatBytes(b, a));
}

/** The next level up: neighbours paired, an odd last node carried up. */
function levelUp(nodes: readonly Uint8Array[]): Uint8Array[] {
  const next: Uint8Array[] = [];
  for (let i = 0; i + 1 < nodes.length; i += 2) next.push(hashPair(nodes[i] as Uint8Array, nodes[i + 1] as Uint8Array));
  if (nodes.length % 2 === 1) next.push(nodes[nodes.length - 1] as Uint8Array);
  return next;
}

/** Root over a level of nodes (leaf hashes, or piece roots of a shard). */
export function rootOf(nodes: readonly Uint8Array[]): Uint8Array {
  if (nodes.length === 0) throw new RangeError("a Merkle tree needs at least one leaf");
  let level = nodes.slice();
  while (level.length > 1) level = levelUp(level);
  return level[0] as Uint8Array;
}

/** Sibling hashes from node `index` of `nodes` up to the root (levels where it is carried up add nothing). */
export function proofOf(nodes: readonly Uint8Array[], index: number): Uint8Array[] {
  if (index < 0 || index >= nodes.length) throw new RangeError(`no node ${index} among ${nodes.length}`);
  const proof: Uint8Array[] = [];
  let level = nodes.slice();
  let i = index;
  while (level.length > 1) {
    const sibling = i ^ 1;
    if (sibling < level.length) proof.push(level[sibling] as Uint8Array);
    level = levelUp(level);
    i >>= 1;
  }
  return proof;
}

/**
 * Proof for leaf `leafInPiece` of piece `pieceIndex` of a shard, from that piece's leaf hashes and the shard's
 * piece roots: the path inside the piece, then the path among the pieces.
 */
export function shardProof(
  pieceLeafHashes: readonly Uint8Array[],
  leafInPiece: number,
  pieceRoots: readonly Uint8Array[],
  pieceIndex: number,
): Uint8Array[] {
  return [...proofOf(pieceLeafHashes, leafInPiece), ...proofOf(pieceRoots, pieceIndex)];
}

/** OpenZeppelin's `MerkleProof.processProof`. */
export function processProof(proof: readonly Uint8Array[], leaf: Uint8Array): Uint8Array {
  let computed = leaf;
  for (const sibling of proof) computed = hashPair(computed, sibling);
  return computed;
}

export function verifyProof(proof: readonly Uint8Array[], root: Uint8Array, leaf: Uint8Array): boolean {
  return compare(processProof(proof, leaf), root) === 0;
}

/** Splits 32-byte hashes laid end to end (as keccak.wasm returns them). */
export function splitHashes(hashes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < hashes.length; i += 32) out.push(hashes.subarray(i, i + 32));
  return out;
}
