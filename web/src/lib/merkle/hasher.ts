/**
 * ESM wrapper of keccak.wasm (built from keccak.c by build.sh): hashes whole pieces into their Merkle subtree
 * roots with one call per piece, two leaves at a time in SIMD lanes. Callers instantiate the .wasm themselves
 * (`?url` in the browser, the file's bytes in Node).
 */
import { KECCAK256_BYTES, LEAF_SIZE_BYTES } from "../constants.ts";

interface KeccakExports {
  memory: WebAssembly.Memory;
  __heap_base: WebAssembly.Global;
  keccak256(ptr: number, len: number, out: number): void;
  merkle_leaves(ptr: number, len: number, leafSize: number, firstIndex: bigint, out: number): number;
  merkle_root(ptr: number, len: number, leafSize: number, firstIndex: bigint, scratch: number, out: number): number;
}

const PAGE_BYTES = 65536;

export class MerkleHasher {
  readonly #x: KeccakExports;
  readonly #base: number;

  private constructor(instance: WebAssembly.Instance) {
    this.#x = instance.exports as unknown as KeccakExports;
    this.#base = Math.ceil((this.#x.__heap_base.value as number) / 64) * 64;
  }

  static async instantiate(source: BufferSource | WebAssembly.Module): Promise<MerkleHasher> {
    const module = source instanceof WebAssembly.Module ? source : await WebAssembly.compile(source);
    return new MerkleHasher(await WebAssembly.instantiate(module, {}));
  }

  static async fromResponse(response: Response | PromiseLike<Response>): Promise<MerkleHasher> {
    const { instance } = await WebAssembly.instantiateStreaming(response, {});
    return new MerkleHasher(instance);
  }

  #reserve(bytes: number): Uint8Array {
    const needed = this.#base + bytes;
    const current = this.#x.memory.buffer.byteLength;
    if (needed > current) this.#x.memory.grow(Math.ceil((needed - current) / PAGE_BYTES));
    return new Uint8Array(this.#x.memory.buffer);
  }

  keccak256(data: Uint8Array): Uint8Array {
    const mem = this.#reserve(data.length + KECCAK256_BYTES);
    mem.set(data, this.#base);
    const out = this.#base + data.length;
    this.#x.keccak256(this.#base, data.length, out);
    return mem.slice(out, out + KECCAK256_BYTES);
  }

  /** Leaf hashes of `piece`, whose first leaf is leaf number `firstLeaf` of its shard, 32 bytes each end to end. */
  leafHashes(piece: Uint8Array, firstLeaf: number, leafSize = LEAF_SIZE_BYTES): Uint8Array {
    const count = Math.ceil(piece.length / leafSize);
    const mem = this.#reserve(piece.length + count * KECCAK256_BYTES);
    mem.set(piece, this.#base);
    const out = this.#base + piece.length;
    this.#x.merkle_leaves(this.#base, piece.length, leafSize, BigInt(firstLeaf), out);
    return mem.slice(out, out + count * KECCAK256_BYTES);
  }

  /** Root of the subtree over `piece`, whose first leaf is leaf number `firstLeaf` of its shard. */
  pieceRoot(piece: Uint8Array, firstLeaf: number, leafSize = LEAF_SIZE_BYTES): Uint8Array {
    const count = Math.ceil(piece.length / leafSize);
    const mem = this.#reserve(piece.length + (count + 1) * KECCAK256_BYTES);
    mem.set(piece, this.#base);
    const scratch = this.#base + piece.length;
    const out = scratch + count * KECCAK256_BYTES;
    this.#x.merkle_root(this.#base, piece.length, leafSize, BigInt(firstLeaf), scratch, out);
    return mem.slice(out, out + KECCAK256_BYTES);
  }
}
