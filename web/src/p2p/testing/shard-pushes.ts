/** Helpers of the tests that push shards over the shard-store protocol (its own tests, and the host keeper's). */
import { randomBytes } from "node:crypto";
import * as dagCbor from "@ipld/dag-cbor";
import type { MemoryBlockstore } from "blockstore-core";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { firstLeaves, pieceRoot, shardRootOf } from "../protocols/audit/merkle.ts";
import { pieceCid } from "../protocols/common/pieces.ts";
import type { Admission, ShardUpload } from "../protocols/shard-store/index.ts";

/**
 * The host policy of these tests: admits every push and counts the pushes that ended (their reservation released),
 * so that a test can await the host's cleanup instead of sleeping.
 */
export class Reservations {
  admitted = 0;
  released = 0;
  readonly #waiters: { count: number; resolve: () => void }[] = [];

  admit = (): Admission => {
    this.admitted += 1;
    let done = false;
    return {
      ok: true,
      release: () => {
        if (done) throw new Error("a reservation was released twice");
        done = true;
        this.released += 1;
        for (const waiter of this.#waiters.filter((w) => w.count <= this.released)) waiter.resolve();
      },
    };
  };

  /** Resolves once `count` pushes have ended. */
  ended(count: number): Promise<void> {
    if (this.released >= count) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ count, resolve }));
  }

  get outstanding(): number {
    return this.admitted - this.released;
  }
}

/** Every block the store holds, as CID text. */
export async function storedCids(store: MemoryBlockstore): Promise<string[]> {
  const cids: string[] = [];
  for await (const { cid } of store.getAll()) cids.push(cid.toString());
  return cids.sort();
}

export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve: (value: T) => void = () => {};
  const promise = new Promise<T>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** A shard of random pieces of these sizes, or of these very pieces (to share blocks with other content). */
export async function makeShard(
  pieceSizes: (number | Uint8Array)[],
  options: { trueRoot?: boolean } = {},
): Promise<{ upload: ShardUpload; bytes: Uint8Array[] }> {
  const bytes = pieceSizes.map((piece) => (typeof piece === "number" ? new Uint8Array(randomBytes(piece)) : piece));
  const sizes = bytes.map((piece) => piece.byteLength);
  const pieces = await Promise.all(bytes.map((piece) => pieceCid(piece)));
  const manifest = CID.createV1(dagCbor.code, await sha256.digest(dagCbor.encode({ pieces })));
  const first = firstLeaves(sizes);
  const upload: ShardUpload = {
    manifest,
    shardIndex: 2,
    root: options.trueRoot
      ? shardRootOf(bytes.map((piece, i) => pieceRoot(piece, first[i] as number) as Uint8Array))
      : crypto.getRandomValues(new Uint8Array(32)),
    pieces,
    sizes,
    readPiece: async (index) => bytes[index] as Uint8Array,
  };
  return { upload, bytes };
}
