/**
 * Single-core speed of each stage of the data path, measured inside one worker on buffers shaped as the pipeline
 * shapes them, so the pipeline's figures can be read against them.
 */
import { fillRandom } from "../../web/src/lib/bytes.ts";
import { pieceSizeFor } from "../../web/src/lib/erasure/layout.ts";
import type { ReedSolomon } from "../../web/src/lib/erasure/reed-solomon.ts";
import type { MerkleHasher } from "../../web/src/lib/merkle/hasher.ts";

export type KernelName = "copy" | "aes_gcm_encrypt" | "sha256" | "keccak_merkle" | "rs_encode" | "rs_reconstruct";

export interface KernelParameters {
  name: KernelName;
  /** Input bytes to process in all. */
  totalBytes: number;
  k?: number;
  m?: number;
}

export interface KernelContext {
  rs: ReedSolomon;
  hasher: MerkleHasher;
}

/** Runs one kernel and returns MB/s (10^6 bytes per second) of input. */
export async function runKernel(ctx: KernelContext, params: KernelParameters): Promise<number> {
  const { name, totalBytes } = params;
  const k = params.k ?? 4;
  const m = params.m ?? 2;
  const pieceSize = pieceSizeFor(k);
  const segment = fillRandom(new Uint8Array(k * pieceSize));
  const rounds = Math.max(1, Math.round(totalBytes / segment.length));
  let work: () => Promise<void> | void;
  switch (name) {
    case "copy": {
      const dst = new Uint8Array(segment.length);
      work = () => dst.set(segment);
      break;
    }
    case "aes_gcm_encrypt": {
      const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
      const iv = new Uint8Array(12);
      work = async () => {
        await crypto.subtle.encrypt({ name: "AES-GCM", iv }, key, segment as Uint8Array<ArrayBuffer>);
      };
      break;
    }
    case "sha256":
      work = async () => {
        await crypto.subtle.digest("SHA-256", segment as Uint8Array<ArrayBuffer>);
      };
      break;
    case "keccak_merkle":
      work = () => {
        ctx.hasher.pieceRoot(segment.subarray(0, pieceSize), 0);
      };
      break;
    case "rs_encode":
      work = () => {
        ctx.rs.encode(segment, k, m, pieceSize);
      };
      break;
    case "rs_reconstruct": {
      const parity = ctx.rs.encode(segment, k, m, pieceSize);
      // m data pieces lost: the worst case, every lost piece is data.
      const pieces: (Uint8Array | undefined)[] = [];
      for (let i = 0; i < k; i++) pieces.push(i < m ? undefined : segment.subarray(i * pieceSize, (i + 1) * pieceSize));
      for (let j = 0; j < m; j++) pieces.push(parity.subarray(j * pieceSize, (j + 1) * pieceSize));
      work = () => {
        if (!ctx.rs.reconstruct(pieces, k, m, pieceSize)) throw new Error("reconstruct failed");
      };
      break;
    }
  }
  const perRound = name === "keccak_merkle" ? pieceSize : segment.length;
  const n = name === "keccak_merkle" ? Math.max(1, Math.round(totalBytes / pieceSize)) : rounds;
  await work(); // warm up
  const start = performance.now();
  for (let i = 0; i < n; i++) await work();
  const ms = performance.now() - start;
  return (n * perRound) / 1e6 / (ms / 1000);
}
