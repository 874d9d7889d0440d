/**
 * ESM wrapper of `@subspace/reed-solomon-erasure.wasm` (the Rust reed-solomon-erasure crate, GF(2^8)). Its own
 * UMD loader `require`s `fs` and breaks in Vite workers, so callers instantiate the .wasm themselves (`?url` in the
 * browser, the file's bytes in Node) and hand the module here. Unlike the package's wrapper this one keeps its
 * working buffer inside WASM memory between calls and copies only what each call needs: data in and parity out
 * for `encode`, the present pieces in and the data out for `reconstruct`; the `InPlace` variants copy nothing out
 * and hand back views of that buffer instead.
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

  #memory(): Uint8Array<ArrayBuffer> {
    return new Uint8Array(this.#x.memory.buffer as ArrayBuffer);
  }

  /**
   * Parity of `k` data pieces laid end to end in `data` (k * pieceSize bytes; a shorter input is zero-padded):
   * returns m * pieceSize bytes, piece j of the parity at j * pieceSize.
   */
  encode(data: Uint8Array, k: number, m: number, pieceSize: number): Uint8Array<ArrayBuffer> {
    return this.encodeInPlace(data, k, m, pieceSize).slice(k * pieceSize);
  }

  /**
   * Codes `data` (at most k * pieceSize bytes; the rest of the k data pieces is filled by `pad`, zeros by default)
   * inside WASM memory and returns a view of all k + m pieces end to end there, valid until the next call on this
   * coder: the caller hashes and copies the pieces out from it, so no other buffer is allocated.
   */
  encodeInPlace(
    data: Uint8Array,
    k: number,
    m: number,
    pieceSize: number,
    pad: (tail: Uint8Array) => void = (tail) => tail.fill(0),
  ): Uint8Array<ArrayBuffer> {
    if (data.length > k * pieceSize) throw new RangeError(`${data.length} bytes do not fit in ${k} pieces`);
    const total = (k + m) * pieceSize;
    const ptr = this.#buffer(total);
    const mem = this.#memory();
    mem.set(data, ptr);
    if (data.length < k * pieceSize) pad(mem.subarray(ptr + data.length, ptr + k * pieceSize));
    const code = this.#x.encode(ptr, total, k, m);
    if (code !== RESULT_OK) throw new ReedSolomonError("encode", code);
    return this.#memory().subarray(ptr, ptr + total);
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
    return this.reconstructInPlace(pieces, k, m, pieceSize)?.slice();
  }

  /**
   * As `reconstruct`, but returns a view of the k data pieces inside WASM memory, valid until the next call on this
   * coder. Intact data pieces are only copied in, so with all of them present this just lays them end to end.
   */
  reconstructInPlace(
    pieces: ReadonlyArray<Uint8Array | undefined>,
    k: number,
    m: number,
    pieceSize: number,
  ): Uint8Array<ArrayBuffer> | undefined {
    const n = k + m;
    if (pieces.length !== n) throw new RangeError(`expected ${n} pieces, got ${pieces.length}`);
    let present = 0;
    let dataPresent = 0;
    for (let i = 0; i < n; i++) {
      const piece = pieces[i];
      if (!piece) continue;
      if (piece.length !== pieceSize) throw new RangeError(`piece ${i} has ${piece.length} bytes, not ${pieceSize}`);
      present++;
      if (i < k) dataPresent++;
    }
    if (present < k) return undefined;
    const total = n * pieceSize;
    const ptr = this.#buffer(total);
    if (dataPresent === k) {
      const mem = this.#memory();
      for (let i = 0; i < k; i++) mem.set(pieces[i] as Uint8Array, ptr + i * pieceSize);
      return mem.subarray(ptr, ptr + k * pieceSize);
    }
    // Allocating the flags may grow (and so replace) the memory buffer: take the view after it.
    const flags = this.#flags(n);
    const mem = this.#memory();
    for (let i = 0; i < n; i++) {
      const piece = pieces[i];
      if (piece) mem.set(piece, ptr + i * pieceSize);
      mem[flags + i] = piece ? 1 : 0;
    }
    const code = this.#x.reconstruct(ptr, total, k, m, flags, n);
    if (code === RESULT_TOO_FEW_SHARDS_PRESENT) return undefined;
    if (code !== RESULT_OK) throw new ReedSolomonError("reconstruct", code);
    return this.#memory().subarray(ptr, ptr + k * pieceSize);
  }
}
