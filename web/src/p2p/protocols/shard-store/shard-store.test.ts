import { randomBytes } from "node:crypto";
import type { Libp2p } from "@libp2p/interface";
import { MemoryBlockstore } from "blockstore-core";
import type { CID } from "multiformats/cid";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryHost } from "../../testing/memory-host.ts";
import { deferred, makeShard, Reservations, storedCids } from "../../testing/shard-pushes.ts";
import { createTcpNode } from "../../testing/tcp-node.ts";
import { pieceRoot } from "../audit/merkle.ts";
import { pieceCid, pieceMatches, readPiece } from "../common/pieces.ts";
import { SHARD_STORE_PROTOCOL, type ShardStore, shardStore, verifyReceipt } from "./index.ts";

type Node = Libp2p<{ shardStore: ShardStore }>;

describe("shard-store over TCP", () => {
  let client: Node;
  let host: Node;
  let store: MemoryBlockstore;
  let role: MemoryHost;
  let admitted = true;
  let reservations: Reservations;

  beforeEach(async () => {
    store = new MemoryBlockstore();
    admitted = true;
    reservations = new Reservations();
    role = new MemoryHost(store, { admit: () => (admitted ? reservations.admit() : false) });
    client = await createTcpNode({ shardStore: shardStore() });
    host = await createTcpNode({
      shardStore: shardStore({
        host: role.shardStore(),
        timeoutMs: 2_000,
      }),
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
    const held = role.get(upload.manifest, upload.shardIndex);
    expect(held?.owner).toBe(client.peerId.toString());
    expect(held?.pieces.map(String)).toEqual(upload.pieces.map(String));
  });

  it("writes the next pieces while an earlier one is still being written, and acknowledges in order", async () => {
    const { upload, bytes } = await makeShard([50_000, 50_000, 50_000, 50_000]);
    // Piece 0's write only finishes once piece 2's has started: a host taking one piece at a time never gets there.
    const laterStarted = deferred();
    const slow = {
      has: (cid: CID) => store.has(cid),
      get: (cid: CID) => store.get(cid),
      delete: (cid: CID) => store.delete(cid),
      put: async (cid: CID, piece: Uint8Array) => {
        if (cid.equals(upload.pieces[2] as CID)) laterStarted.resolve();
        if (cid.equals(upload.pieces[0] as CID)) await laterStarted.promise;
        return store.put(cid, piece);
      },
    };
    const pipelined = await createTcpNode({
      shardStore: shardStore({ host: new MemoryHost(slow).shardStore(), timeoutMs: 2_000 }),
    });
    const acked: number[] = [];
    const result = await client.services.shardStore.storeShard(pipelined.getMultiaddrs(), upload, {
      onProgress: (p) => acked.push(p.storedPieces),
    });
    // The client checks that acknowledgements come in order (it fails the push otherwise).
    expect(acked).toEqual([0, 1, 2, 3, 4]);
    expect(result.sentBytes).toBe(200_000);
    for (const [index, cid] of upload.pieces.entries()) expect(await readPiece(store, cid)).toEqual(bytes[index]);
    await pipelined.stop();
  });

  it("skips pieces the host already holds", async () => {
    const { upload } = await makeShard([5_000, 6_000, 7_000]);
    const first = await client.services.shardStore.storeShard(host.getMultiaddrs(), upload);
    expect(first.sentBytes).toBe(18_000);
    const again = await client.services.shardStore.storeShard(host.getMultiaddrs(), upload);
    expect(again.sentBytes).toBe(0);
    expect(again.receipt.totalBytes).toBe(18_000);
  });

  it("refuses a piece whose bytes do not match its CID and keeps nothing of the push", async () => {
    const before = new Uint8Array(randomBytes(10_000));
    await store.put(await pieceCid(before), before);
    const { upload, bytes } = await makeShard([10_000, before, 10_000, 10_000]);
    const tampered = (bytes[2] as Uint8Array).slice();
    tampered[0] = (tampered[0] as number) ^ 0xff;
    upload.readPiece = async (index) => (index === 2 ? tampered : (bytes[index] as Uint8Array));

    await expect(client.services.shardStore.storeShard(host.getMultiaddrs(), upload)).rejects.toMatchObject({
      name: "RemoteRefusedError",
      code: "piece-mismatch",
    });
    await reservations.ended(1);
    // Piece 0 was verified and written before piece 2 failed: it goes too. The block that was there stays.
    expect(await storedCids(store)).toEqual([upload.pieces[1]?.toString()]);
    expect(await readPiece(store, upload.pieces[1] as CID)).toEqual(before);
    expect(role.get(upload.manifest, upload.shardIndex)).toBeUndefined();
    expect(role.counts).toMatchObject({ begun: 1, committed: 0, aborted: 1 });
    expect(reservations.outstanding).toBe(0);
    for await (const { cid, bytes: stored } of store.getAll()) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of stored) chunks.push(chunk);
      expect(await pieceMatches(cid, chunks[0] as Uint8Array)).toBe(true);
    }
  });

  it("undoes a push the client aborts, but keeps blocks that were there before and blocks of a held shard", async () => {
    const held = await makeShard([20_000, 20_000]);
    await client.services.shardStore.storeShard(host.getMultiaddrs(), held.upload);
    const publicBlock = new Uint8Array(randomBytes(20_000));
    await store.put(await pieceCid(publicBlock), publicBlock);
    const before = await storedCids(store);

    const heldPiece = held.bytes[1] as Uint8Array;
    const { upload, bytes } = await makeShard([20_000, heldPiece, 20_000, publicBlock, 20_000, 20_000]);
    const controller = new AbortController();
    const written = deferred();
    upload.readPiece = async (index) => {
      if (index === 4) {
        // Pieces 0 and 2 are acknowledged, so written to the host's store, before the client gives up.
        await written.promise;
        controller.abort(new Error("user cancelled"));
      }
      return bytes[index] as Uint8Array;
    };
    await expect(
      client.services.shardStore.storeShard(host.getMultiaddrs(), upload, {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.storedPieces === 4) written.resolve();
        },
      }),
    ).rejects.toThrow("user cancelled");
    await reservations.ended(2);

    expect(await storedCids(store)).toEqual(before);
    expect(role.get(upload.manifest, upload.shardIndex)).toBeUndefined();
    expect(role.get(held.upload.manifest, held.upload.shardIndex)).toBeDefined();
    for (const [index, cid] of held.upload.pieces.entries()) {
      expect(await readPiece(store, cid)).toEqual(held.bytes[index]);
    }
    expect(await readPiece(store, upload.pieces[3] as CID)).toEqual(publicBlock);
    expect(role.counts).toMatchObject({ begun: 2, committed: 1, aborted: 1 });
    expect(reservations.outstanding).toBe(0);
  });

  it("undoes a push whose connection drops, and one whose client stops sending until the host times out", async () => {
    const { upload, bytes } = await makeShard([30_000, 30_000, 30_000]);
    const hangUp = deferred();
    upload.readPiece = async (index) => {
      if (index === 2) await hangUp.promise;
      return bytes[index] as Uint8Array;
    };
    const dropped = client.services.shardStore.storeShard(host.getMultiaddrs(), upload, {
      onProgress: (p) => {
        if (p.storedPieces === 2) {
          void client.hangUp(host.peerId).then(() => hangUp.resolve());
        }
      },
    });
    await expect(dropped).rejects.toThrow();
    await reservations.ended(1);
    expect(await storedCids(store)).toEqual([]);

    // The second client sends one piece, then nothing: the host gives up after its 2 s message timeout.
    const stalled = await makeShard([30_000, 30_000]);
    const never = new Promise<Uint8Array>(() => {});
    stalled.upload.readPiece = async (index) => (index === 0 ? (stalled.bytes[0] as Uint8Array) : never);
    const controller = new AbortController();
    const pushing = client.services.shardStore.storeShard(host.getMultiaddrs(), stalled.upload, {
      signal: controller.signal,
    });
    pushing.catch(() => {});
    await reservations.ended(2);
    controller.abort();
    expect(await storedCids(store)).toEqual([]);
    expect(role.counts).toMatchObject({ begun: 2, committed: 0, aborted: 2 });
    expect(reservations.outstanding).toBe(0);
  });

  it("undoes a push whose Merkle root does not match its pieces", async () => {
    const checker = new MemoryHost(store, { pieceRoot, admit: reservations.admit });
    const checking = await createTcpNode({
      shardStore: shardStore({ host: checker.shardStore(), timeoutMs: 2_000 }),
    });
    const before = new Uint8Array(randomBytes(4096));
    await store.put(await pieceCid(before), before);
    const good = await makeShard([4096, before, 512], { trueRoot: true });
    const bad = await makeShard([4096, before, 512]);
    await expect(client.services.shardStore.storeShard(checking.getMultiaddrs(), bad.upload)).rejects.toMatchObject({
      name: "RemoteRefusedError",
      code: "bad-root",
    });
    await reservations.ended(1);
    expect(await storedCids(store)).toEqual([bad.upload.pieces[1]?.toString()]);
    expect(checker.get(bad.upload.manifest, bad.upload.shardIndex)).toBeUndefined();
    expect(checker.counts).toMatchObject({ begun: 1, committed: 0, aborted: 1 });

    await client.services.shardStore.storeShard(checking.getMultiaddrs(), good.upload);
    expect(await storedCids(store)).toEqual(good.upload.pieces.map(String).sort());
    expect(checker.get(good.upload.manifest, good.upload.shardIndex)?.pieceRoots).toHaveLength(3);
    expect(checker.counts).toMatchObject({ begun: 2, committed: 1, aborted: 1 });
    expect(reservations.outstanding).toBe(0);
    await checking.stop();
  });

  it("has its host role undo what pushes cut short left before it takes new pushes", async () => {
    // The role's keeper deletes them (see core/hosting/keeper.test.ts); the protocol asks for it once, at start.
    expect(role.counts.recovered).toBe(1);
    const { upload } = await makeShard([5_000]);
    await client.services.shardStore.storeShard(host.getMultiaddrs(), upload);
    expect(role.counts).toEqual({ begun: 1, committed: 1, aborted: 0, recovered: 1 });
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
    expect(role.get(upload.manifest, upload.shardIndex)).toBeUndefined();
  });

  it("refuses with the policy's code, which the client sees with what to do", async () => {
    const off = await createTcpNode({
      shardStore: shardStore({
        host: new MemoryHost(store, {
          admit: () => ({ ok: false, code: "not-hosting", message: "sharing is off" }),
        }).shardStore(),
      }),
    });
    const { upload } = await makeShard([1_000]);
    const refused = client.services.shardStore.storeShard(off.getMultiaddrs(), upload);
    await expect(refused).rejects.toMatchObject({ name: "RemoteRefusedError", code: "not-hosting" });
    await expect(refused).rejects.toThrow("pick another host");
    await off.stop();
  });

  it("sends σ from the host's attestation with the receipt of an offer that names a deal, and none without", async () => {
    const attested: string[] = [];
    const paid = await createTcpNode({
      shardStore: shardStore({
        host: new MemoryHost(new MemoryBlockstore(), {
          attest: async (shard) => {
            attested.push(`${shard.shardIndex}:${shard.dealId?.[31]}`);
            return new Uint8Array(65).fill(7);
          },
        }).shardStore(),
      }),
    });
    const dealId = new Uint8Array(32);
    dealId[31] = 42;
    const { upload } = await makeShard([1_000, 2_000]);
    const withDeal = await client.services.shardStore.storeShard(paid.getMultiaddrs(), { ...upload, dealId });
    expect(withDeal.receipt.dealId).toEqual(dealId);
    expect(withDeal.sigma).toEqual(new Uint8Array(65).fill(7));
    const { upload: free } = await makeShard([3_000]);
    const withoutDeal = await client.services.shardStore.storeShard(paid.getMultiaddrs(), free);
    expect(withoutDeal.sigma).toBeNull();
    expect(attested).toEqual([`${upload.shardIndex}:42`]);
    await paid.stop();
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
