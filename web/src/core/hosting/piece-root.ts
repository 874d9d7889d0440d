import { MerkleHasher } from "../../lib/merkle/hasher.ts";
import keccakWasmUrl from "../../lib/merkle/keccak.wasm?url";
import type { PieceRootFn } from "../../p2p/protocols/audit/index.ts";

let hasher: Promise<MerkleHasher> | undefined;

async function loadHasher(): Promise<MerkleHasher> {
  // arrayBuffer() rather than instantiateStreaming: any static server works, whatever MIME type it sends.
  const response = await fetch(keccakWasmUrl);
  if (!response.ok) throw new Error(`cannot load ${keccakWasmUrl}: HTTP ${response.status}`);
  return await MerkleHasher.instantiate(await response.arrayBuffer());
}

/**
 * Piece subtree roots with the data path's WASM keccak (one call per piece, SIMD leaves), which the host uses to
 * check an offer's Merkle root before it signs and to answer audits; the pure TypeScript default is far slower on
 * 1 MiB pieces. The module loads on first use.
 */
export const wasmPieceRoot: PieceRootFn = async (piece, firstLeaf) => {
  hasher ??= loadHasher();
  return (await hasher).pieceRoot(piece, firstLeaf);
};
