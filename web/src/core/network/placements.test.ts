import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { describe, expect, it } from "vitest";
import { pieceCid } from "../../p2p/protocols/common/pieces.ts";
import { piecesDigest, type StoreReceipt, signReceipt, verifyReceipt } from "../../p2p/protocols/shard-store/index.ts";
import type { ReceiptRecord } from "../../storage/files-db.ts";
import {
  decodePlacement,
  encodePlacement,
  hostsOfFile,
  liveHolders,
  type Placement,
  placementsOf,
  savePlacement,
} from "./placements.ts";

async function placement(shard: number, status: Placement["status"] = "live"): Promise<Placement> {
  const key = await generateKeyPair("Ed25519");
  const host = peerIdFromPrivateKey(key).toString();
  const pieces = [await pieceCid(new Uint8Array([shard, 1])), await pieceCid(new Uint8Array([shard, 2]))];
  const manifest = await pieceCid(new Uint8Array([9]));
  const receipt: StoreReceipt = {
    version: 1,
    host,
    client: host,
    dealId: null,
    manifest,
    shardIndex: shard,
    root: new Uint8Array(32).fill(shard),
    piecesDigest: piecesDigest(pieces),
    pieceCount: 2,
    totalBytes: 4,
    storedAtMs: 1_700_000_000_000,
  };
  return {
    manifest: manifest.toString(),
    shard,
    host,
    receipt,
    signature: new Uint8Array(await signReceipt(key, receipt)),
    status,
    placedAtMs: 1,
  };
}

describe("placements", () => {
  it("round-trip through the files database's receipt records with the signed receipt intact", async () => {
    const p = { ...(await placement(3)), checkedAtMs: 5, reason: "x" };
    const decoded = decodePlacement(encodePlacement(p));
    expect(decoded).toEqual(p);
    expect(await verifyReceipt((decoded as Placement).receipt, (decoded as Placement).signature)).toBe(true);
  });

  it("round-trip a paid placement's deal, every amount and id a bigint again, the deal it renews included", async () => {
    const p: Placement = {
      ...(await placement(2)),
      deal: {
        id: 7n,
        owner: `0x${"ab".repeat(20)}`,
        price: 5n,
        sigma: new Uint8Array(65).fill(1),
        proposeTx: `0x${"01".repeat(32)}`,
        acceptTx: `0x${"02".repeat(32)}`,
        endsAtS: 1_800_000_000,
        renews: 3n,
      },
    };
    expect(decodePlacement(encodePlacement(p))).toEqual(p);
  });

  it("reject records of another format", () => {
    expect(decodePlacement({ id: "x", manifestCid: "m", shard: 0, value: new Uint8Array([1, 2, 3]) })).toBeUndefined();
  });

  it("list the live holders of each shard, latest status winning per host", async () => {
    const records = new Map<string, ReceiptRecord>();
    const store = {
      putReceipt: async (r: ReceiptRecord) => void records.set(r.id, r),
      receiptsOf: async (m: string) => [...records.values()].filter((r) => r.manifestCid === m),
    };
    const a = await placement(0);
    const b = await placement(1);
    const c = { ...(await placement(1)), manifest: a.manifest };
    for (const p of [a, { ...b, manifest: a.manifest }, c]) await savePlacement(store, p);
    await savePlacement(store, { ...c, status: "lost" });
    const all = await placementsOf(store, a.manifest);
    expect(all).toHaveLength(3);
    expect(liveHolders(all, 3)).toEqual([[a.host], [b.host], []]);
  });

  it("keep every host that holds, lost or corrupted a shard of the file from taking another", async () => {
    const [live, lost, bad, moved] = await Promise.all([
      placement(0),
      placement(1, "lost"),
      placement(2, "bad"),
      placement(3, "moved"),
    ]);
    const taken = hostsOfFile([live, lost, bad, moved] as Placement[]);
    expect([...taken].sort()).toEqual([live, lost, bad].map((p) => (p as Placement).host).sort());
  });
});
