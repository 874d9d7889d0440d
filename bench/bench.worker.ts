/// <reference lib="webworker" />
/** Worker entry of the bench page: runs one stage's kernel at a time (bench/page/kernels.ts). */
import rsWasmUrl from "@subspace/reed-solomon-erasure.wasm/dist/reed_solomon_erasure_bg.wasm?url";
import * as Comlink from "comlink";
import { ReedSolomon } from "../web/src/lib/erasure/reed-solomon.ts";
import { MerkleHasher } from "../web/src/lib/merkle/hasher.ts";
import keccakWasmUrl from "../web/src/lib/merkle/keccak.wasm?url";
import { type KernelContext, type KernelParameters, runKernel } from "./page/kernels.ts";

const context: Promise<KernelContext> = Promise.all([
  fetch(rsWasmUrl)
    .then((r) => r.arrayBuffer())
    .then((b) => ReedSolomon.instantiate(b)),
  fetch(keccakWasmUrl)
    .then((r) => r.arrayBuffer())
    .then((b) => MerkleHasher.instantiate(b)),
]).then(([rs, hasher]) => ({ rs, hasher }));

const api = {
  async run(params: KernelParameters): Promise<number> {
    return await runKernel(await context, params);
  },
  heapBytes(): number | undefined {
    return (performance as Performance & { memory?: { usedJSHeapSize: number } }).memory?.usedJSHeapSize;
  },
};

export type BenchWorkerApi = typeof api;
Comlink.expose(api);
