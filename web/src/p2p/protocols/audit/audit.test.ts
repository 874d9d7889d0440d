import { randomBytes } from "node:crypto";
import * as dagCbor from "@ipld/dag-cbor";
import type { Libp2p } from "@libp2p/interface";
import { MemoryBlockstore } from "blockstore-core";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { proofOf, rootOf, verifyProof } from "../../../lib/merkle/tree.ts";
import { MemoryHost } from "../../testing/memory-host.ts";
import { createTcpNode } from "../../testing/tcp-node.ts";
import { pieceCid } from "../common/pieces.ts";
import { type ShardStore, type ShardUpload, shardStore } from "../shard-store/index.ts";
import {
  type Audit,
  audit,
  firstLeaves,
  LEAF_SIZE_BYTES,
  leafCountOf,
  pieceLeafHashes,
  pieceRoot,
  proveLeaf,
  shardRootOf,
  verifyLeaf,
} from "./index.ts";

type Node = Libp2p<{ audit: Audit; shardStore: ShardStore }>;

/** A shard shaped like the data path's: full pieces of a power-of-two number of leaves, a shorter last piece. */
async function makeShard(): Promise<{ upload: ShardUpload; bytes: Uint8Array[] }> {
  const sizes = [4096, 4096, 4096, 512];
  const bytes = sizes.map((size) => new Uint8Array(randomBytes(size)));
  const first = firstLeaves(sizes);
  const roots = bytes.map((piece, i) => pieceRoot(piece, first[i] as number) as Uint8Array);
  const pieces = await Promise.all(bytes.map((piece) => pieceCid(piece)));
  const manifest = CID.createV1(dagCbor.code, await sha256.digest(dagCbor.encode({ pieces })));
  return {
    upload: {
      manifest,
      shardIndex: 1,
      root: shardRootOf(roots),
      pieces,
      sizes,
      readPiece: async (i) => bytes[i] as Uint8Array,
    },
    bytes,
  };
}

describe("shard Merkle adapter", () => {
  it("proves every leaf against the root of the flat tree over all leaves", async () => {
    const { upload, bytes } = await makeShard();
    const first = firstLeaves(upload.sizes);
    const flat = bytes.flatMap((piece, i) => pieceLeafHashes(piece, first[i] as number));
    expect(flat).toHaveLength(leafCountOf(upload.sizes));
    expect(rootOf(flat)).toEqual(upload.root);
    const roots = bytes.map((piece, i) => pieceRoot(piece, first[i] as number) as Uint8Array);
    for (let leaf = 0; leaf < flat.length; leaf++) {
      const piece = first.findLastIndex((f) => f <= leaf);
      const answer = proveLeaf(bytes[piece] as Uint8Array, first[piece] as number, leaf, piece, roots);
      expect(verifyLeaf(upload.root, leaf, answer)).toBe(true);
      expect(verifyProof(proofOf(flat, leaf), upload.root, flat[leaf] as Uint8Array)).toBe(true);
      expect(verifyLeaf(upload.root, leaf + 1, answer)).toBe(false);
    }
    expect(LEAF_SIZE_BYTES).toBe(256);
  });
});

describe("audit over TCP", () => {
  let owner: Node;
  let host: Node;
  let store: MemoryBlockstore;
  let role: MemoryHost;

  beforeEach(async () => {
    store = new MemoryBlockstore();
    role = new MemoryHost(store, { pieceRoot });
    owner = await createTcpNode({ audit: audit(), shardStore: shardStore() });
    host = await createTcpNode({
      audit: audit({ host: role.audit() }),
      shardStore: shardStore({ host: role.shardStore() }),
    });
  });

  afterEach(async () => {
    await Promise.all([owner.stop(), host.stop()]);
  });

  it("passes for a held shard, fails for a corrupted piece, and says not-held for an unknown one", async () => {
    const { upload, bytes } = await makeShard();
    await owner.services.shardStore.storeShard(host.getMultiaddrs(), upload);
    expect(role.get(upload.manifest, 1)?.pieceRoots).toHaveLength(4);

    const challenge = (leafIndex: number, shardIndex = 1) => ({
      manifest: upload.manifest,
      shardIndex,
      leafIndex,
      root: upload.root,
    });
    const results = await owner.services.audit.audit(host.getMultiaddrs(), [
      challenge(0),
      challenge(17),
      challenge(48),
      challenge(49),
      challenge(3, 0),
      challenge(50),
    ]);
    expect(results.map((r) => (r.ok ? "ok" : r.reason))).toEqual(["ok", "ok", "ok", "ok", "not-held", "not-held"]);

    // The host's copy of piece 1 (leaves 16..31) rots.
    const rotten = (bytes[1] as Uint8Array).slice();
    rotten[300] = (rotten[300] as number) ^ 0x55;
    await store.put(upload.pieces[1] as CID, rotten);
    // Every leaf of that piece now fails (its path runs through the rotten leaf); other pieces still pass.
    const after = await owner.services.audit.audit(host.getMultiaddrs(), [
      challenge(17),
      challenge(31),
      challenge(2),
      challenge(35),
    ]);
    expect(after.map((r) => (r.ok ? "ok" : r.reason))).toEqual(["bad-proof", "bad-proof", "ok", "ok"]);
  });

  it("hashes the pieces itself for shards stored without piece roots", async () => {
    const plain = new MemoryHost(store);
    const plainHost = await createTcpNode({
      audit: audit({ host: plain.audit() }),
      shardStore: shardStore({ host: plain.shardStore() }),
    });
    const { upload } = await makeShard();
    await owner.services.shardStore.storeShard(plainHost.getMultiaddrs(), upload);
    expect(plain.get(upload.manifest, 1)?.pieceRoots).toBeUndefined();
    const results = await owner.services.audit.audit(plainHost.getMultiaddrs(), [
      { manifest: upload.manifest, shardIndex: 1, leafIndex: 40, root: upload.root },
    ]);
    expect(results[0]?.ok).toBe(true);
    await plainHost.stop();
  });

  it("refuses to store a shard whose declared root does not match its pieces", async () => {
    const { upload } = await makeShard();
    upload.root = new Uint8Array(randomBytes(32));
    await expect(owner.services.shardStore.storeShard(host.getMultiaddrs(), upload)).rejects.toMatchObject({
      name: "RemoteRefusedError",
      code: "bad-root",
    });
    expect(role.get(upload.manifest, 1)).toBeUndefined();
  });

  it("rejects with the caller's reason on abort", async () => {
    const { upload } = await makeShard();
    await owner.services.shardStore.storeShard(host.getMultiaddrs(), upload);
    const controller = new AbortController();
    controller.abort(new Error("stop auditing"));
    await expect(
      owner.services.audit.audit(
        host.getMultiaddrs(),
        [{ manifest: upload.manifest, shardIndex: 1, leafIndex: 0, root: upload.root }],
        {
          signal: controller.signal,
        },
      ),
    ).rejects.toThrow("stop auditing");
  });
});
