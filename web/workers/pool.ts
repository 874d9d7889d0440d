/**
 * A pool of files workers behind the SegmentCodec interface. Each call goes to the worker with the fewest calls in
 * flight; request buffers are transferred to it and result buffers transferred back, never copied.
 */
import * as Comlink from "comlink";
import type {
  DecodeRequest,
  DecodeResult,
  EncodeRequest,
  EncodeResult,
  EncryptRequest,
  RepairRequest,
  RepairResult,
  SegmentCodec,
  StoreSegmentRequest,
  StoreSegmentResult,
} from "../src/lib/segment-codec.ts";
import type { FilesWorkerApi } from "./files.worker.ts";

interface Member {
  worker: Worker;
  api: Comlink.Remote<FilesWorkerApi>;
  busy: number;
}

export interface WorkerPoolOptions {
  /** Number of workers; defaults to the number of logical cores (at least 2, at most 8). */
  size?: number;
}

export class WorkerPool implements SegmentCodec {
  readonly #members: Member[];

  constructor(options: WorkerPoolOptions = {}) {
    const cores = typeof navigator === "undefined" ? 2 : navigator.hardwareConcurrency || 2;
    const size = options.size ?? Math.min(8, Math.max(2, cores));
    this.#members = Array.from({ length: size }, () => {
      const worker = new Worker(new URL("./files.worker.ts", import.meta.url), {
        type: "module",
        name: "tabula-files",
      });
      return { worker, api: Comlink.wrap<FilesWorkerApi>(worker), busy: 0 };
    });
  }

  get size(): number {
    return this.#members.length;
  }

  get parallelism(): number {
    return this.#members.length;
  }

  /** Resolves once every worker has loaded its WASM. */
  async ready(): Promise<void> {
    await Promise.all(this.#members.map((m) => m.api.ready()));
  }

  async #run<T>(task: (api: Comlink.Remote<FilesWorkerApi>) => Promise<T>): Promise<T> {
    let member = this.#members[0] as Member;
    for (const m of this.#members) if (m.busy < member.busy) member = m;
    member.busy++;
    try {
      return await task(member.api);
    } finally {
      member.busy--;
    }
  }

  storeSegment(req: StoreSegmentRequest): Promise<StoreSegmentResult> {
    const buffers = [req.plaintext, ...(req.spare ?? [])];
    return this.#run((api) => api.storeSegment(Comlink.transfer(req, buffers)) as Promise<StoreSegmentResult>);
  }

  encrypt(req: EncryptRequest): Promise<ArrayBuffer> {
    return this.#run((api) => api.encrypt(Comlink.transfer(req, [req.plaintext])));
  }

  encode(req: EncodeRequest): Promise<EncodeResult> {
    return this.#run((api) => api.encode(Comlink.transfer(req, [req.ciphertext])));
  }

  decode(req: DecodeRequest): Promise<DecodeResult> {
    const buffers = req.pieces.filter((p): p is ArrayBuffer => p !== null);
    return this.#run((api) => api.decode(Comlink.transfer(req, buffers)) as Promise<DecodeResult>);
  }

  repair(req: RepairRequest): Promise<RepairResult> {
    const buffers = req.pieces.filter((p): p is ArrayBuffer => p !== null);
    return this.#run((api) => api.repair(Comlink.transfer(req, buffers)) as Promise<RepairResult>);
  }

  /** Milliseconds one worker takes to copy `bytes` bytes `rounds` times (the bench's ceiling). */
  copyMs(bytes: number, rounds: number): Promise<number> {
    const buffer = new ArrayBuffer(bytes);
    return this.#run((api) => api.copy(Comlink.transfer(buffer, [buffer]), rounds));
  }

  terminate(): void {
    for (const m of this.#members) {
      m.api[Comlink.releaseProxy]();
      m.worker.terminate();
    }
  }
}
