import { randomBytes } from "node:crypto";
import * as dagCbor from "@ipld/dag-cbor";
import type { Libp2p } from "@libp2p/interface";
import { MemoryBlockstore } from "blockstore-core";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTcpNode } from "../../sim/tcp-node.ts";
import { MemoryShardCatalog } from "../common/catalog.ts";
import { pieceCid, pieceMatches, readPiece } from "../common/pieces.ts";
import { SHARD_STORE_PROTOCOL, type ShardStore, type ShardUpload, shardStore, verifyReceipt } from "./index.ts";

type Node = Libp2p<{ shardStore: ShardStore }>;

async function makeShard(pieceSizes: number[]): Promise<{ upload: ShardUpload; bytes: Uint8Array[] }> {
  const bytes = pieceSizes.map((size) => new Uint8Array(randomBytes(size)));
  const pieces = await Promise.all(bytes.map((piece) => pieceCid(piece)));
  const manifest = CID.createV1(dagCbor.code, await sha256.digest(dagCbor.encode({ pieces })));
  const upload: ShardUpload = {
    manifest,
    shardIndex: 2,
    root: crypto.getRandomValues(new Uint8Array(32)),
    pieces,
    sizes: pieceSizes,
    readPiece: async (index) => bytes[index] as Uint8Array,
  };
  return { upload, bytes };
}

describe("shard-store over TCP", () => {
  let client: Node;
  let host: Node;
  let store: MemoryBlockstore;
  let catalog: MemoryShardCatalog;
  let admitted = true;

  beforeEach(async () => {
    store = new MemoryBlockstore();
    catalog = new MemoryShardCatalog();
    admitted = true;
    client = await createTcpNode({ shardStore: shardStore() });
    host = await createTcpNode({
      shardStore: shardStore({ host: { store, catalog, admit: () => admitted }, timeoutMs: 2_000 }),
    });
  });

  afterEach(async () => {
    await Promise.all([client.stop(), host.stop()]);
  });

  it("stores every piece, records the shard and returns a receipt signed by the host", async () => {
    const { upload, bytes } = await makeShard([100_000, 250_000, 1_048_576, 7]);
    const progress: number[] = [];
    const result = await client.services.shardStore.storeShard(host.getMultiaddrs(), upload, {
      onProgress: (p) => progress.push(p.storedBytes),
      windowBytes: 300_000,
    });

    expect(result.host.equals(host.peerId)).toBe(true);
    expect(result.receipt.host).toBe(host.peerId.toString());
    expect(result.receipt.client).toBe(client.peerId.toString());
    expect(result.receipt.totalBytes).toBe(100_000 + 250_000 + 1_048_576 + 7);
    expect(result.receipt.pieceCount).toBe(4);
    expect(await verifyReceipt(result.receipt, result.signature)).toBe(true);
    const forged = { ...result.receipt, totalBytes: result.receipt.totalBytes + 1 };
    expect(await verifyReceipt(forged, result.signature)).toBe(false);
    expect(progress.at(-1)).toBe(result.receipt.totalBytes);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));

    for (const [index, cid] of upload.pieces.entries()) {
      expect(await readPiece(store, cid)).toEqual(bytes[index]);
    }
    const held = await catalog.get(upload.manifest, upload.shardIndex);
    expect(held?.owner).toBe(client.peerId.toString());
    expect(held?.pieces.map(String)).toEqual(upload.pieces.map(String));
  });

  it("skips pieces the host already holds", async () => {
    const { upload } = await makeShard([5_000, 6_000, 7_000]);
    const first = await client.services.shardStore.storeShard(host.getMultiaddrs(), upload);
    expect(first.sentBytes).toBe(18_000);
    const again = await client.services.shardStore.storeShard(host.getMultiaddrs(), upload);
    expect(again.sentBytes).toBe(0);
    expect(again.receipt.totalBytes).toBe(18_000);
  });

  it("refuses a piece whose bytes do not match its CID and keeps nothing of it", async () => {
    const { upload, bytes } = await makeShard([10_000, 10_000, 10_000]);
    const tampered = (bytes[1] as Uint8Array).slice();
    tampered[0] = (tampered[0] as number) ^ 0xff;
    upload.readPiece = async (index) => (index === 1 ? tampered : (bytes[index] as Uint8Array));

    await expect(client.services.shardStore.storeShard(host.getMultiaddrs(), upload)).rejects.toMatchObject({
      name: "RemoteRefusedError",
      code: "piece-mismatch",
    });
    expect(await store.has(upload.pieces[0] as CID)).toBe(true);
    expect(await store.has(upload.pieces[1] as CID)).toBe(false);
    expect(await store.has(upload.pieces[2] as CID)).toBe(false);
    expect(await catalog.get(upload.manifest, upload.shardIndex)).toBeUndefined();
    for await (const { cid, bytes: stored } of store.getAll()) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of stored) chunks.push(chunk);
      expect(await pieceMatches(cid, chunks[0] as Uint8Array)).toBe(true);
    }
  });

  it("answers no-space when the host's policy refuses the shard", async () => {
    admitted = false;
    const { upload } = await makeShard([1_000]);
    await expect(client.services.shardStore.storeShard(host.getMultiaddrs(), upload)).rejects.toMatchObject({
      name: "RemoteRefusedError",
      code: "no-space",
    });
  });

  it("stops at once when the caller aborts, with the caller's reason", async () => {
    const { upload, bytes } = await makeShard([200_000, 200_000, 200_000]);
    const controller = new AbortController();
    upload.readPiece = async (index) => {
      if (index === 1) controller.abort(new Error("user cancelled"));
      return bytes[index] as Uint8Array;
    };
    await expect(
      client.services.shardStore.storeShard(host.getMultiaddrs(), upload, { signal: controller.signal }),
    ).rejects.toThrow("user cancelled");
    expect(await catalog.get(upload.manifest, upload.shardIndex)).toBeUndefined();
  });

  it("times out when a host stops answering", async () => {
    const silent = await createTcpNode({
      shardStore: shardStore({ timeoutMs: 300 }),
    });
    // A peer that accepts the protocol but never says anything.
    await host.handle(SHARD_STORE_PROTOCOL, () => {}, { force: true });
    const { upload } = await makeShard([1_000]);
    const started = Date.now();
    await expect(silent.services.shardStore.storeShard(host.getMultiaddrs(), upload)).rejects.toMatchObject({
      name: "ProtocolTimeoutError",
    });
    expect(Date.now() - started).toBeLessThan(5_000);
    await silent.stop();
  });

  it("rejects an oversize message by its length prefix, before reading its body", async () => {
    const stream = await client.dialProtocol(host.getMultiaddrs(), SHARD_STORE_PROTOCOL);
    // A length prefix of 64 MiB followed by a few bytes: the host must reset, not wait for 64 MiB.
    stream.send(new Uint8Array([0x80, 0x80, 0x80, 0x20, 1, 2, 3]));
    const closed = new Promise<string>((resolve) => {
      stream.addEventListener("close", () => resolve(stream.status), { once: true });
    });
    expect(await closed).toBe("reset");
  });
});
