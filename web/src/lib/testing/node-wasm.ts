/** Loads the WASM coders from disk for tests in Node (the app fetches them by URL in its workers). */
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { ReedSolomon } from "../erasure/reed-solomon.ts";
import { MerkleHasher } from "../merkle/hasher.ts";
import type { CodecContext } from "../segment-codec.ts";

const require = createRequire(import.meta.url);

export async function loadReedSolomon(): Promise<ReedSolomon> {
  const path = require.resolve("@subspace/reed-solomon-erasure.wasm/dist/reed_solomon_erasure_bg.wasm");
  return await ReedSolomon.instantiate(await readFile(path));
}

export async function loadMerkleHasher(): Promise<MerkleHasher> {
  return await MerkleHasher.instantiate(await readFile(new URL("../merkle/keccak.wasm", import.meta.url)));
}

export async function loadCodecContext(): Promise<CodecContext> {
  const [rs, hasher] = await Promise.all([loadReedSolomon(), loadMerkleHasher()]);
  return { rs, hasher };
}

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
export function pseudoRandomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Every subset of {0..n-1} with at most `max` elements. */
export function subsetsUpTo(n: number, max: number): number[][] {
  const out: number[][] = [];
  for (let mask = 0; mask < 1 << n; mask++) {
    const set: number[] = [];
    for (let i = 0; i < n; i++) if (mask & (1 << i)) set.push(i);
    if (set.length <= max) out.push(set);
  }
  return out;
}
