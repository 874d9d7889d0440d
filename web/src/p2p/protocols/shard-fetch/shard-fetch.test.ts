import { randomBytes } from "node:crypto";
import type { Libp2p } from "@libp2p/interface";
import { MemoryBlockstore } from "blockstore-core";
import type { CID } from "multiformats/cid";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MemoryHost } from "../../testing/memory-host.ts";
import { createTcpNode } from "../../testing/tcp-node.ts";
import { pieceCid } from "../common/pieces.ts";
import { type FetchedPiece, SHARD_FETCH_PROTOCOL, type ShardFetch, shardFetch } from "./index.ts";

type Node = Libp2p<{ shardFetch: ShardFetch }>;

async function collect(pieces: AsyncIterable<FetchedPiece>): Promise<FetchedPiece[]> {
  const out: FetchedPiece[] = [];
  for await (const piece of pieces) out.push(piece);
  return out;
}

describe("shard-fetch over TCP", () => {
  let requester: Node;
  let host: Node;
  let store: MemoryBlockstore;
  let served: number;
  const blocks: { cid: CID; bytes: Uint8Array }[] = [];

  beforeEach(async () => {
    store = new MemoryBlockstore();
    served = 0;
    blocks.length = 0;
    for (let i = 0; i < 20; i++) {
      const bytes = new Uint8Array(randomBytes(10_000 + i * 5_000));
      const cid = await pieceCid(bytes);
      await store.put(cid, bytes);
      blocks.push({ cid, bytes });
    }
    requester = await createTcpNode({ shardFetch: shardFetch({ timeoutMs: 2_000 }) });
    host = await createTcpNode({
      shardFetch: shardFetch({
        host: new MemoryHost(store, { onServed: () => served++ }).shardFetch(),
        timeoutMs: 2_000,
      }),
    });
  });

  afterEach(async () => {
    await Promise.all([requester.stop(), host.stop()]);
  });

  it("streams every wanted piece in order, verified", async () => {
    const got = await collect(
      requester.services.shardFetch.fetchPieces(
        host.getMultiaddrs(),
        blocks.map((b) => b.cid),
        { windowPieces: 3 },
      ),
    );
    expect(got.map((p) => p.cid.toString())).toEqual(blocks.map((b) => b.cid.toString()));
    expect(got.map((p) => p.bytes)).toEqual(blocks.map((b) => b.bytes));
    expect(served).toBe(20);
  });

  it("reports pieces the host lacks as missing and goes on", async () => {
    const absent = await pieceCid(new Uint8Array([1, 2, 3]));
    const cids = [blocks[0]?.cid, absent, blocks[1]?.cid] as CID[];
    const got = await collect(requester.services.shardFetch.fetchPieces(host.getMultiaddrs(), cids));
    expect(got.map((p) => p.bytes === undefined)).toEqual([false, true, false]);
  });

  it("fails with PieceMismatchError when the host serves bytes that do not match the CID", async () => {
    const victim = blocks[2] as { cid: CID; bytes: Uint8Array };
    const corrupted = victim.bytes.slice();
    corrupted[100] = (corrupted[100] as number) ^ 1;
    await store.put(victim.cid, corrupted);
    const got: FetchedPiece[] = [];
    await expect(async () => {
      for await (const piece of requester.services.shardFetch.fetchPieces(
        host.getMultiaddrs(),
        blocks.map((b) => b.cid),
      )) {
        got.push(piece);
      }
    }).rejects.toMatchObject({ name: "PieceMismatchError", cid: victim.cid.toString() });
    expect(got).toHaveLength(2);
  });

  it("cancels the rest when the consumer stops early, and the host keeps serving", async () => {
    const cids = blocks.map((b) => b.cid);
    let count = 0;
    for await (const _ of requester.services.shardFetch.fetchPieces(host.getMultiaddrs(), cids, { windowPieces: 2 })) {
      if (++count === 3) break;
    }
    expect(served).toBeLessThan(20);
    const again = await collect(requester.services.shardFetch.fetchPieces(host.getMultiaddrs(), cids.slice(0, 2)));
    expect(again).toHaveLength(2);
  });

  it("rejects with the caller's reason on abort", async () => {
    const controller = new AbortController();
    const cids = blocks.map((b) => b.cid);
    await expect(async () => {
      for await (const piece of requester.services.shardFetch.fetchPieces(host.getMultiaddrs(), cids, {
        signal: controller.signal,
      })) {
        if (piece.cid.equals(cids[1] as CID)) controller.abort(new Error("download cancelled"));
      }
    }).rejects.toThrow("download cancelled");
  });

  it("times out when the host never answers", async () => {
    await host.handle(SHARD_FETCH_PROTOCOL, () => {}, { force: true });
    const quick = await createTcpNode({ shardFetch: shardFetch({ timeoutMs: 300 }) });
    await expect(
      collect(quick.services.shardFetch.fetchPieces(host.getMultiaddrs(), [blocks[0]?.cid as CID])),
    ).rejects.toMatchObject({ name: "ProtocolTimeoutError" });
    await quick.stop();
  });
});
