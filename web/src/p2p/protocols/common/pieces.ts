import type { AbortOptions } from "@libp2p/interface";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { Uint8ArrayList } from "uint8arraylist";

/**
 * The narrow part of a Helia/`interface-blockstore` Blockstore that pieces are read from and written to
 * (`Pick<Blockstore, 'put' | 'get' | 'has'>` in shape), so hosted shards and public IPFS blocks can share one store.
 */
export interface PieceStore {
  put(cid: CID, bytes: Uint8Array, options?: AbortOptions): unknown;
  get(cid: CID, options?: AbortOptions): Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  has(cid: CID, options?: AbortOptions): boolean | Promise<boolean>;
}

/** The CID of a piece: CIDv1, raw, sha2-256. */
export async function pieceCid(bytes: Uint8Array): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(bytes));
}

/** True when `bytes` hash (sha2-256) to the digest in `cid`. */
export async function pieceMatches(cid: CID, bytes: Uint8Array): Promise<boolean> {
  if (cid.multihash.code !== sha256.code) return false;
  const digest = await sha256.digest(bytes);
  return equalBytes(digest.digest, cid.multihash.digest);
}

/** Reads a whole block, or `undefined` when the store does not have it. */
export async function readPiece(
  store: PieceStore,
  cid: CID,
  options: AbortOptions = {},
): Promise<Uint8Array | undefined> {
  if (!(await store.has(cid, options))) return undefined;
  const chunks = new Uint8ArrayList();
  for await (const chunk of store.get(cid, options)) chunks.append(chunk);
  return chunks.subarray();
}

/** Constant-time comparison of two byte strings. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}

/**
 * A fresh, exact copy (its own ArrayBuffer). `bytes.slice()` is not enough in Node, where a Buffer's `slice` is a
 * view into a pooled buffer.
 */
export function copyBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}
