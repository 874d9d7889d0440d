import { SimpleMerkleTree } from "@openzeppelin/merkle-tree";
import { beforeAll, describe, expect, it } from "vitest";
import { toHex } from "../bytes.ts";
import { LEAF_SIZE_BYTES } from "../constants.ts";
import { loadMerkleHasher, pseudoRandomBytes } from "../testing/node-wasm.ts";
import type { MerkleHasher } from "./hasher.ts";
import { keccak256, leafHash, processProof, proofOf, rootOf, shardProof, splitHashes, verifyProof } from "./tree.ts";

let hasher: MerkleHasher;
beforeAll(async () => {
  hasher = await loadMerkleHasher();
});

const hex = (b: Uint8Array) => `0x${toHex(b)}`;

function leavesOf(shard: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i * LEAF_SIZE_BYTES < shard.length; i++) {
    out.push(leafHash(i, shard.subarray(i * LEAF_SIZE_BYTES, (i + 1) * LEAF_SIZE_BYTES)));
  }
  return out;
}

describe("keccak.wasm", () => {
  it("matches keccak256 for lengths around the rate", () => {
    for (const len of [0, 1, 31, 32, 135, 136, 137, 264, 271, 272, 1000, 5000]) {
      const data = pseudoRandomBytes(len, len + 1);
      expect(hex(hasher.keccak256(data)), `length ${len}`).toBe(hex(keccak256(data)));
    }
    // The empty-input digest Ethereum tooling knows by heart.
    expect(hex(hasher.keccak256(new Uint8Array()))).toBe(
      "0xc5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470",
    );
  });

  it("hashes leaves as keccak256(uint64 index ‖ chunk), two at a time or one", () => {
    for (const count of [1, 2, 3, 8, 13]) {
      const piece = pseudoRandomBytes(count * LEAF_SIZE_BYTES, count);
      const wasm = splitHashes(hasher.leafHashes(piece, 1000));
      const ts = leavesOf(piece).map((_, i) => leafHash(1000 + i, piece.subarray(i * 256, (i + 1) * 256)));
      expect(wasm.map(hex)).toEqual(ts.map(hex));
    }
  });

  it("computes the same piece root as the TypeScript tree, for any leaf count", () => {
    for (const count of [1, 2, 3, 5, 7, 8, 64, 100, 4096]) {
      const piece = pseudoRandomBytes(count * LEAF_SIZE_BYTES, count + 9);
      const ts = rootOf(leavesOf(piece).map((_, i) => leafHash(i, piece.subarray(i * 256, (i + 1) * 256))));
      expect(hex(hasher.pieceRoot(piece, 0)), `${count} leaves`).toBe(hex(ts));
    }
  });
});

describe("shard tree", () => {
  it("equals the tree over its pieces' roots when full pieces are powers of two", () => {
    const pieceLeaves = 8;
    const pieces = [8, 8, 8, 5].map((leaves, i) => pseudoRandomBytes(leaves * LEAF_SIZE_BYTES, i + 1));
    const shard = new Uint8Array(pieces.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of pieces) {
      shard.set(p, offset);
      offset += p.length;
    }
    const pieceRoots = pieces.map((p, i) => hasher.pieceRoot(p, i * pieceLeaves));
    expect(hex(rootOf(pieceRoots))).toBe(hex(rootOf(leavesOf(shard))));
  });

  it("gives proofs that OpenZeppelin's verifier accepts, and only for the right leaf", () => {
    const pieceLeaves = 4;
    const pieces = [4, 4, 4, 4, 3].map((leaves, i) => pseudoRandomBytes(leaves * LEAF_SIZE_BYTES, i + 20));
    const pieceRoots = pieces.map((p, i) => hasher.pieceRoot(p, i * pieceLeaves));
    const root = rootOf(pieceRoots);
    for (let p = 0; p < pieces.length; p++) {
      const piece = pieces[p] as Uint8Array;
      const leafHashes = splitHashes(hasher.leafHashes(piece, p * pieceLeaves));
      for (let j = 0; j < leafHashes.length; j++) {
        const index = p * pieceLeaves + j;
        const leaf = leafHash(index, piece.subarray(j * 256, (j + 1) * 256));
        const proof = shardProof(leafHashes, j, pieceRoots, p);
        expect(verifyProof(proof, root, leaf)).toBe(true);
        expect(SimpleMerkleTree.verify(hex(root), hex(leaf), proof.map(hex))).toBe(true);
        // The same chunk claimed at another index fails: the index is part of the leaf.
        const moved = leafHash(index + 1, piece.subarray(j * 256, (j + 1) * 256));
        expect(verifyProof(proof, root, moved)).toBe(false);
      }
    }
  });

  it("rejects a proof for a tampered chunk", () => {
    const leaves = Array.from({ length: 6 }, (_, i) => leafHash(i, pseudoRandomBytes(256, i + 1)));
    const root = rootOf(leaves);
    const proof = proofOf(leaves, 3);
    const tampered = pseudoRandomBytes(256, 4);
    tampered[0] = (tampered[0] as number) ^ 1;
    expect(verifyProof(proof, root, leafHash(3, tampered))).toBe(false);
    expect(hex(processProof(proof, leaves[3] as Uint8Array))).toBe(hex(root));
  });
});
