import type { AbortOptions } from "@libp2p/interface";
import type { HeldShard, ReadPieceFn } from "../common/held-shard.ts";
import { PIECE_ROOT_CACHE_ENTRIES } from "./constants.ts";
import { firstLeaves, type LeafProof, locateLeaf, type PieceRootFn, pieceRoot, proveLeaf } from "./merkle.ts";

/** Where a held shard's leaves are proven from: the host's pieces, and how their subtree roots are hashed. */
export interface HeldLeafSource {
  readPiece: ReadPieceFn;
  /** Piece subtree roots, for shards stored without them (default: pure TypeScript keccak). */
  pieceRoot?: PieceRootFn;
  /**
   * Piece roots by `cid@firstLeaf`, kept between proofs (content-addressed, so always valid); at most
   * {@link PIECE_ROOT_CACHE_ENTRIES}, the oldest dropped first.
   */
  rootCache?: Map<string, Uint8Array>;
}

/**
 * Leaf `leafIndex` of a held shard and its path to the shard root, from the bytes in the store (the challenged piece
 * is hashed now, so a damaged piece gives a proof that fails); `undefined` when the leaf is past the shard's end or
 * a piece it needs is gone. The on-chain audit and the audit protocol answer with it.
 */
export async function proveHeldLeaf(
  held: HeldShard,
  leafIndex: number,
  source: HeldLeafSource,
  options: AbortOptions = {},
): Promise<LeafProof | undefined> {
  const place = locateLeaf(held.sizes, leafIndex);
  if (!place) return undefined;
  const cid = held.pieces[place.piece];
  if (!cid) return undefined;
  const piece = await source.readPiece(cid, options);
  if (!piece) return undefined;
  const roots = held.pieceRoots ?? (await heldPieceRoots(held, source, options));
  if (!roots) return undefined;
  return proveLeaf(piece, place.firstLeaf, leafIndex, place.piece, roots);
}

/** The subtree root of every piece of a held shard, hashed from the store; `undefined` when a piece is gone. */
export async function heldPieceRoots(
  held: HeldShard,
  source: HeldLeafSource,
  options: AbortOptions = {},
): Promise<Uint8Array[] | undefined> {
  const rootFn = source.pieceRoot ?? pieceRoot;
  const cache = source.rootCache;
  const first = firstLeaves(held.sizes);
  const roots: Uint8Array[] = [];
  for (const [index, cid] of held.pieces.entries()) {
    const key = `${cid.toString()}@${first[index]}`;
    let root = cache?.get(key);
    if (!root) {
      const bytes = await source.readPiece(cid, options);
      if (!bytes) return undefined;
      root = await rootFn(bytes, first[index] as number);
      if (cache) {
        if (cache.size >= PIECE_ROOT_CACHE_ENTRIES) {
          const oldest = cache.keys().next().value;
          if (oldest !== undefined) cache.delete(oldest);
        }
        cache.set(key, root);
      }
    }
    roots.push(root);
  }
  return roots;
}
