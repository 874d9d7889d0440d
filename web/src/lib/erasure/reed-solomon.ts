/**
 * ESM wrapper of `@subspace/reed-solomon-erasure.wasm` (the Rust reed-solomon-erasure crate, GF(2^8)). Its own
 * UMD loader `require`s `fs` and breaks in Vite workers, so callers instantiate the .wasm themselves (`?url` in the
 * browser, the file's bytes in Node) and hand the module here. Unlike the package's wrapper this one keeps its
 * working buffer inside WASM memory between calls and copies only what each call needs: data in and parity out
 * for `encode`, the present pieces in and the data out for `reconstruct`.
 */
import { BaseError } from "../errors.ts";

interface RsExports {
  memory: WebAssembly.Memory;
  encode(ptr: number, len: number, dataShards: number, parityShards: number): number;
  reconstruct(
    ptr: number,
    len: number,
    dataShards: number,
    parityShards: number,
    flags: number,
    flagsLen: number,
  ): number;
  __wbindgen_malloc(size: number): number;
  __wbindgen_free(ptr: number, size: number): void;
}

const RESULT_OK = 0;
const RESULT_TOO_FEW_SHARDS_PRESENT = 10;

export class ReedSolomonError extends BaseError {
  override name = "ReedSolomonError";
  readonly code: number;
  constructor(operation: string, code: number) {
    super(`Reed-Solomon ${operation} failed (code ${code}).`, {
      details: "This is a bug in Tabula; please report it.",
    });
    this.code = code;
  }
}

export class ReedSolomon {
  readonly #x: RsExports;
  #ptr = 0;
  #capacity = 0;

  private constructor(instance: WebAssembly.Instance) {
    this.#x = instance.exports as unknown as RsExports;
  }

  /** Instantiates from the .wasm file's bytes or an already compiled module. */
  static async instantiate(source: BufferSource | WebAssembly.Module): Promise<ReedSolomon> {
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
    return new ReedSolomon(await WebAssembly.instantiate(module, {}));
  }

  /** Instantiates from a fetch() of the .wasm file (streaming compile). */
  static async fromResponse(response: Response | PromiseLike<Response>): Promise<ReedSolomon> {
    const { instance } = await WebAssembly.instantiateStreaming(response, {});
    return new ReedSolomon(instance);
  }

  #buffer(size: number): number {
    if (size > this.#capacity) {
      if (this.#capacity > 0) this.#x.__wbindgen_free(this.#ptr, this.#capacity);
      this.#ptr = this.#x.__wbindgen_malloc(size);
      this.#capacity = size;
    }
    return this.#ptr;
  }

  /**
   * The availability flags are passed by value: the Rust side takes ownership and frees them when the call
   * returns, so they get a fresh allocation every call and are never freed here (freeing them too, as the package's
   * own wrapper does, is a double free).
   */
  #flags(n: number): number {
    return this.#x.__wbindgen_malloc(n);
  }

  #memory(): Uint8Array {
    return new Uint8Array(this.#x.memory.buffer);
  }

  /**
   * Parity of `k` data pieces laid end to end in `data` (k * pieceSize bytes; a shorter input is zero-padded):
   * returns m * pieceSize bytes, piece j of the parity at j * pieceSize.
   */
  encode(data: Uint8Array, k: number, m: number, pieceSize: number): Uint8Array<ArrayBuffer> {
    const total = (k + m) * pieceSize;
    const ptr = this.#buffer(total);
    const mem = this.#memory();
    mem.set(data.subarray(0, k * pieceSize), ptr);
    if (data.length < k * pieceSize) mem.fill(0, ptr + data.length, ptr + k * pieceSize);
    const code = this.#x.encode(ptr, total, k, m);
    if (code !== RESULT_OK) throw new ReedSolomonError("encode", code);
    return this.#memory().slice(ptr + k * pieceSize, ptr + total);
  }

  /**
   * The k data pieces, end to end, from any k of the k + m pieces (`undefined` marks an erasure). Returns undefined
   * when fewer than k pieces are present.
   */
  reconstruct(
    pieces: ReadonlyArray<Uint8Array | undefined>,
    k: number,
    m: number,
    pieceSize: number,
  ): Uint8Array<ArrayBuffer> | undefined {
    const n = k + m;
    if (pieces.length !== n) throw new RangeError(`expected ${n} pieces, got ${pieces.length}`);
    const total = n * pieceSize;
    const ptr = this.#buffer(total);
    const flags = this.#flags(n);
    const mem = this.#memory();
    let present = 0;
    for (let i = 0; i < n; i++) {
      const piece = pieces[i];
      if (piece) {
        if (piece.length !== pieceSize) throw new RangeError(`piece ${i} has ${piece.length} bytes, not ${pieceSize}`);
        mem.set(piece, ptr + i * pieceSize);
        present++;
      }
      mem[flags + i] = piece ? 1 : 0;
    }
    if (present < k) return undefined;
    const code = this.#x.reconstruct(ptr, total, k, m, flags, n);
    if (code === RESULT_TOO_FEW_SHARDS_PRESENT) return undefined;
    if (code !== RESULT_OK) throw new ReedSolomonError("reconstruct", code);
    return this.#memory().slice(ptr, ptr + k * pieceSize);
  }
}
