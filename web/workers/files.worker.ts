/// <reference lib="webworker" />
/**
 * Worker entry of the data path: exposes the segment codec (web/src/lib/segment-codec.ts) over comlink and
 * transfers every result buffer back instead of copying it.
 */
import rsWasmUrl from "@subspace/reed-solomon-erasure.wasm/dist/reed_solomon_erasure_bg.wasm?url";
import * as Comlink from "comlink";
import { ReedSolomon } from "../src/lib/erasure/reed-solomon.ts";
import { MerkleHasher } from "../src/lib/merkle/hasher.ts";
import keccakWasmUrl from "../src/lib/merkle/keccak.wasm?url";
import {
  type CodecContext,
  type DecodeRequest,
  type DecodeResult,
  decodePieces,
  type EncodeRequest,
  type EncodeResult,
  type EncryptRequest,
  encodePieces,
  encryptPieces,
  type RepairRequest,
  type RepairResult,
  repairPieces,
  type StoreSegmentRequest,
  type StoreSegmentResult,
  storeSegment,
} from "../src/lib/segment-codec.ts";

async function wasmBytes(url: string): Promise<ArrayBuffer> {
  // arrayBuffer() rather than instantiateStreaming: any static server works, whatever MIME type it sends.
  const response = await fetch(url);
  if (!response.ok) throw new Error(`cannot load ${url}: HTTP ${response.status}`);
  return await response.arrayBuffer();
}

const context: Promise<CodecContext> = Promise.all([
  wasmBytes(rsWasmUrl).then((bytes) => ReedSolomon.instantiate(bytes)),
  wasmBytes(keccakWasmUrl).then((bytes) => MerkleHasher.instantiate(bytes)),
]).then(([rs, hasher]) => ({ rs, hasher }));

const api = {
  async ready(): Promise<void> {
    await context;
  },
  async storeSegment(req: StoreSegmentRequest): Promise<StoreSegmentResult> {
    const result = await storeSegment(await context, req);
    return Comlink.transfer(result, [...result.pieces, result.plaintext, ...result.spare]);
  },
  async encrypt(req: EncryptRequest): Promise<ArrayBuffer> {
    const ct = await encryptPieces(req);
    return Comlink.transfer(ct, [ct]);
  },
  async encode(req: EncodeRequest): Promise<EncodeResult> {
    const result = await encodePieces(await context, req);
    return Comlink.transfer(result, [result.data, result.parity]);
  },
  async decode(req: DecodeRequest): Promise<DecodeResult> {
    const result = await decodePieces(await context, req);
    return result.status === "ok" ? Comlink.transfer(result, [result.plaintext]) : result;
  },
  async repair(req: RepairRequest): Promise<RepairResult> {
    const result = await repairPieces(await context, req);
    return result.status === "ok" ? Comlink.transfer(result, result.rebuilt) : result;
  },
  /** Copies `buffer` as the pipeline copies segments, for the bench's ceiling figure. */
  copy(buffer: ArrayBuffer, rounds: number): number {
    const src = new Uint8Array(buffer);
    const dst = new Uint8Array(buffer.byteLength);
    const start = performance.now();
    for (let i = 0; i < rounds; i++) dst.set(src);
    return performance.now() - start;
  },
};

export type FilesWorkerApi = typeof api;

Comlink.expose(api);
