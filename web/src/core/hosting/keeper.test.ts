import { randomBytes } from "node:crypto";
import type { Libp2p } from "@libp2p/interface";
import { MemoryBlockstore } from "blockstore-core";
import type { CID } from "multiformats/cid";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pieceRoot } from "../../p2p/protocols/audit/merkle.ts";
import { pieceCid, pieceMatches, readPiece } from "../../p2p/protocols/common/pieces.ts";
import type { ShardStoreHost } from "../../p2p/protocols/shard-store/index.ts";
import { type ShardStore, shardStore } from "../../p2p/protocols/shard-store/index.ts";
import { deferred, makeShard, Reservations, storedCids } from "../../p2p/testing/shard-pushes.ts";
import { createTcpNode } from "../../p2p/testing/tcp-node.ts";
import { ShardKeeper } from "./keeper.ts";
import { MemoryShardCatalog } from "./memory-catalog.ts";
import { hostRole } from "./role.ts";

type Node = Libp2p<{ shardStore: ShardStore }>;

/**
 * The keeper under the shard-store protocol: a push is all or nothing over a block store shared with other content,
 * whatever ends it (a bad piece, an abort, a dropped connection, a bad root, a crash).
 */
describe("a host's keeper under shard-store pushes over TCP", () => {
  let client: Node;
  let host: Node;
  let store: MemoryBlockstore;
  let catalog: MemoryShardCatalog;
  let keeper: ShardKeeper;
  let reservations: Reservations;

  /** The shard-store side of a host role over the test's store and catalog, with its own keeper. */
  function role(extra: { pieceRoot?: typeof pieceRoot; admit?: ShardStoreHost["admit"] } = {}): ShardStoreHost {
    const own = new ShardKeeper(store, catalog);
    return hostRole({ store, catalog, keeper: own, ...extra }).shardStore;
  }

  beforeEach(async () => {
    store = new MemoryBlockstore();
    catalog = new MemoryShardCatalog();
    keeper = new ShardKeeper(store, catalog);
    reservations = new Reservations();
    client = await createTcpNode({ shardStore: shardStore() });
    host = await createTcpNode({
      shardStore: shardStore({
        host: hostRole({ store, catalog, keeper, admit: reservations.admit }).shardStore,
        timeoutMs: 2_000,
      }),
    });
  });

  afterEach(async () => {
    await Promise.all([client.stop(), host.stop()]);
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
    expect(await catalog.get(upload.manifest, upload.shardIndex)).toBeUndefined();
    expect(catalog.hostBlocks()).toEqual([]);
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
    expect(await catalog.get(upload.manifest, upload.shardIndex)).toBeUndefined();
    expect(await catalog.get(held.upload.manifest, held.upload.shardIndex)).toBeDefined();
    for (const [index, cid] of held.upload.pieces.entries()) {
      expect(await readPiece(store, cid)).toEqual(held.bytes[index]);
    }
    expect(await readPiece(store, upload.pieces[3] as CID)).toEqual(publicBlock);
    expect(catalog.hostBlocks().map(String).sort()).toEqual(held.upload.pieces.map(String).sort());
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
    expect(catalog.hostBlocks()).toEqual([]);
    expect(reservations.outstanding).toBe(0);
  });

  it("keeps a piece that a push aborting wrote while another push of a shard listing it is under way", async () => {
    const shared = new Uint8Array(randomBytes(40_000));
    const first = await makeShard([shared, 40_000, 40_000]);
    const second = await makeShard([shared, 40_000]);
    second.upload.shardIndex = 3;
    const firstController = new AbortController();
    const sharedWritten = deferred();
    const firstEnded = deferred();
    first.upload.readPiece = async (index) => {
      if (index === 2) {
        // The second push is accepted (finding the shared piece present) before the first gives up.
        await secondAccepted.promise;
        firstController.abort(new Error("first cancelled"));
      }
      return first.bytes[index] as Uint8Array;
    };
    const secondAccepted = deferred();
    second.upload.readPiece = async (index) => {
      await firstEnded.promise;
      return second.bytes[index] as Uint8Array;
    };
    const firstPush = client.services.shardStore.storeShard(host.getMultiaddrs(), first.upload, {
      signal: firstController.signal,
      onProgress: (p) => {
        if (p.storedPieces === 1) sharedWritten.resolve();
      },
    });
    firstPush.catch(() => {});
    await sharedWritten.promise;
    const secondPush = client.services.shardStore.storeShard(host.getMultiaddrs(), second.upload, {
      onProgress: (p) => {
        if (p.storedPieces === 1) secondAccepted.resolve();
      },
    });
    await expect(firstPush).rejects.toThrow("first cancelled");
    await reservations.ended(1);
    firstEnded.resolve();
    const result = await secondPush;
    expect(result.sentBytes).toBe(40_000);
    expect(await readPiece(store, second.upload.pieces[0] as CID)).toEqual(shared);
    expect(await storedCids(store)).toEqual(second.upload.pieces.map(String).sort());
    // The shared piece stays a host block: removing the second shard later deletes it.
    expect(catalog.hostBlocks().map(String).sort()).toEqual(second.upload.pieces.map(String).sort());
    const removed = await keeper.remove([second.upload]);
    expect(removed).toEqual({ shards: 1, blocks: 2 });
    expect(await storedCids(store)).toEqual([]);
  });

  it("undoes a push whose Merkle root does not match its pieces", async () => {
    const checking = await createTcpNode({
      shardStore: shardStore({ host: role({ pieceRoot, admit: reservations.admit }), timeoutMs: 2_000 }),
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
    expect(catalog.hostBlocks()).toEqual([]);

    await client.services.shardStore.storeShard(checking.getMultiaddrs(), good.upload);
    expect(await storedCids(store)).toEqual(good.upload.pieces.map(String).sort());
    expect(catalog.hostBlocks().map(String).sort()).toEqual(
      [good.upload.pieces[0], good.upload.pieces[2]].map(String).sort(),
    );
    expect(reservations.outstanding).toBe(0);
    await checking.stop();
  });

  it("deletes, when it starts, the blocks a push cut short by a crash left", async () => {
    const { upload, bytes } = await makeShard([5_000, 5_000, 5_000]);
    const push = await keeper.begin(upload);
    expect(push.need).toEqual([0, 1, 2]);
    await push.put(upload.pieces[0] as CID, bytes[0] as Uint8Array);
    await push.put(upload.pieces[1] as CID, bytes[1] as Uint8Array);
    // The tab dies here: nothing ends the push. A new peer over the same store and records starts.
    const restarted = await createTcpNode({ shardStore: shardStore({ host: role() }) });
    expect(await storedCids(store)).toEqual([]);
    expect(catalog.hostBlocks()).toEqual([]);
    await restarted.stop();
  });
});
