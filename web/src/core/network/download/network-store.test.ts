import "fake-indexeddb/auto";
import type { DialTarget } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { describe, expect, it } from "vitest";
import { decodeManifest } from "../../../lib/manifest.ts";
import type { SegmentCodec } from "../../../lib/segment-codec.ts";
import { pseudoRandomBytes } from "../../../lib/testing/node-wasm.ts";
import { PieceMismatchError } from "../../../p2p/protocols/common/errors.ts";
import type { PaymentTerms } from "../../../p2p/protocols/pay/index.ts";
import type { FetchedPiece } from "../../../p2p/protocols/shard-fetch/index.ts";
import type { PayerGate } from "../../../p2p/protocols/transfer/index.ts";
import type { FilesDB } from "../../../storage/files-db.ts";
import { fileSource, useFilesFixture } from "../../../storage/testing/files-fixture.ts";
import { openFile, readAll } from "../../files/open-file.ts";
import { storeFile } from "../../files/store-file.ts";
import type { RetrievalPayment, RetrievalRequest } from "../parts.ts";
import { NetworkStore, type NetworkStoreParts } from "./network-store.ts";

let codec: SegmentCodec;
let db: FilesDB;
useFilesFixture("network-store-test", (c, d) => {
  codec = c;
  db = d;
});

/**
 * Hosts that serve the pieces stored in `db`, shard i from `holders[i]`. After one piece, a "drops-first" host fails
 * its first fetch, as a link that dies does; a "bad-piece" host serves a piece that does not match its CID (the
 * shard-fetch client reports that as PieceMismatchError).
 */
function fakeHosts(
  holders: string[][],
  faults: Record<string, "drops-first" | "bad-piece"> = {},
  charging: readonly string[] = [],
) {
  const dials: { host: string; fresh: boolean }[] = [];
  const fetches = new Map<string, number>();
  const hosts = [...new Set(holders.flat())];
  const parts: NetworkStoreParts = {
    self: "me",
    dial: async (peer, _signal, options) => {
      dials.push({ host: peer, fresh: options?.fresh ?? false });
      return { host: peer } as unknown as DialTarget;
    },
    shardFetch: {
      // Only hosts that charge are asked what they hold.
      holds: async () => [],
      async *fetchPieces(target: DialTarget, cids: readonly CID[]): AsyncGenerator<FetchedPiece> {
        const host = (target as unknown as { host: string }).host;
        const count = (fetches.get(host) ?? 0) + 1;
        fetches.set(host, count);
        for (const [index, cid] of cids.entries()) {
          if (index === 1 && count === 1 && faults[host] === "drops-first") throw new Error("the connection was reset");
          if (index === 1 && faults[host] === "bad-piece") throw new PieceMismatchError(cid.toString());
          const [bytes] = await db.getBlockBytes([cid.toString()]);
          yield { cid, bytes };
        }
      },
    },
    hosts: {
      list: () =>
        hosts.map((peer) => ({
          peer,
          freeBytes: 1 << 30,
          pricePerGiBMonth: 0n,
          latencyMs: 1,
          addrs: [],
          ...(charging.includes(peer) ? { retrieval: termsOf(peer) } : {}),
        })),
      reportFailure: () => {},
      reportSuccess: () => {},
    },
    local: {
      getBlocks: async (cids) => cids.map(() => undefined),
      getBlockBytes: async (cids) => cids.map(() => undefined),
      getManifest: (cid) => db.getManifest(cid),
    },
    holders: async () => holders,
  };
  return { parts, dials };
}

/** What host `peer` asks for its pieces (its payee address made of its name). */
function termsOf(peer: string): PaymentTerms {
  return {
    chainId: 31337,
    payee: `0x${peer.charCodeAt(0).toString(16).padStart(40, "0")}`,
    pricePerMB: 1000n,
    schemes: ["bandwidth"],
  };
}

/** Stores a 2+1 file of several segments in `db`. */
async function storedFile() {
  const bytes = pseudoRandomBytes(9 * 1024 * 1024 + 5, 11);
  const file = fileSource(bytes);
  const { cid, rawKey } = await storeFile({ codec, store: db }, file, { k: 2, m: 1 });
  return { bytes, cid, rawKey };
}

describe("NetworkStore", () => {
  it("asks a host again on a new connection after its link failed, and the file comes back whole", async () => {
    const { bytes, cid, rawKey } = await storedFile();
    // Shard 2's host is gone: the two others must both serve, and host a drops its first link.
    const { parts, dials } = fakeHosts([["a"], ["b"], []], { a: "drops-first" });
    const network = new NetworkStore(parts, cid);
    try {
      const { stream } = await openFile({ codec, store: network }, cid, rawKey);
      const back = await readAll(stream);
      expect(back.length).toBe(bytes.length);
      expect(Buffer.compare(back, bytes)).toBe(0);
    } finally {
      network.close();
    }
    expect(dials.filter((d) => d.host === "a").map((d) => d.fresh)).toEqual([false, true]);
    expect(dials.filter((d) => d.host === "b").map((d) => d.fresh)).toEqual([false]);
    expect(network.progress.hosts.map((h) => [h.host, h.state])).toEqual([
      ["a", "failed"],
      ["b", "done"],
      ["a", "done"],
    ]);
  });

  it("drops a host that serves a piece not matching its CID, and decodes from the others", async () => {
    const { bytes, cid, rawKey } = await storedFile();
    const { parts, dials } = fakeHosts([["a"], ["b"], ["c"]], { b: "bad-piece" });
    const bad: string[] = [];
    const network = new NetworkStore({ ...parts, onBadHost: (host) => void bad.push(host) }, cid);
    try {
      const { stream } = await openFile({ codec, store: network }, cid, rawKey);
      const back = await readAll(stream);
      expect(Buffer.compare(back, bytes)).toBe(0);
    } finally {
      network.close();
    }
    expect(bad).toEqual(["b"]);
    expect(network.badHosts).toEqual(["b"]);
    // Never asked again, not even on a new connection.
    expect(dials.filter((d) => d.host === "b")).toHaveLength(1);
  });

  it("locks the payments of the hosts that charge together, once they make k, and ends each when its fetch is over", async () => {
    const { bytes, cid, rawKey } = await storedFile();
    const { parts } = fakeHosts([["a"], ["b"], ["c"]], {}, ["a", "b", "c"]);
    const calls: RetrievalRequest[][] = [];
    let ended = 0;
    const payRetrieval = async (requests: readonly RetrievalRequest[]): Promise<RetrievalPayment[]> => {
      calls.push([...requests]);
      return requests.map(() => ({
        gate: () => ({}) as PayerGate,
        end: () => void ended++,
        view: { scheme: "bandwidth", openTx: "0xbatch" },
      }));
    };
    const network = new NetworkStore({ ...parts, payRetrieval }, cid);
    try {
      const { stream } = await openFile({ codec, store: network }, cid, rawKey);
      const back = await readAll(stream);
      expect(Buffer.compare(back, bytes)).toBe(0);
    } finally {
      network.close();
    }
    // k = 2: the first two holders lock in one call, each for its whole shard; the third is never paid.
    expect(calls).toHaveLength(1);
    const manifest = await decodeManifest((await db.getManifest(cid.toString())) as Uint8Array);
    const shardBytes = BigInt((manifest.shards[0]?.pieces.length ?? 0) * manifest.pieceSize);
    expect(calls[0]?.map((r) => [r.terms.payee, r.totalBytes])).toEqual([
      [termsOf("a").payee, shardBytes],
      [termsOf("b").payee, shardBytes],
    ]);
    expect(ended).toBe(2);
    expect(network.progress.hosts.map((h) => [h.host, h.state, h.payment?.openTx])).toEqual([
      ["a", "done", "0xbatch"],
      ["b", "done", "0xbatch"],
    ]);
  });
});
