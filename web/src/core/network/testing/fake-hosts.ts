/** A fake network of shard hosts for the network use cases' unit tests: no libp2p, receipts really signed. */
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { DialTarget } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { RemoteRefusedError } from "../../../p2p/protocols/common/errors.ts";
import {
  piecesDigest,
  SHARD_STORE_PROTOCOL,
  type ShardUpload,
  type StoreShardOptions,
  type StoreShardResult,
  signReceipt,
} from "../../../p2p/protocols/shard-store/index.ts";
import type { FilesDB } from "../../../storage/files-db.ts";
import type { NetworkParts } from "../parts.ts";

/** What a fake host does with each push it gets, in order; the last behaviour repeats. */
export type Behaviour = "store" | "refuse" | "drop";

/** Hosts that acknowledge each piece as it is read and sign a receipt, refuse, or drop the connection. */
/** A host's σ for a shard pushed with a deal id (a paid host), or null. */
export type Attest = (shard: ShardUpload & { totalBytes: number }) => Promise<Uint8Array | null>;

export async function fakeNetwork(
  db: FilesDB,
  behaviours: Record<string, Behaviour[]>,
  paid: { attest?: Record<string, Attest> } = {},
) {
  const keys = new Map(
    await Promise.all(Object.keys(behaviours).map(async (name) => [name, await generateKeyPair("Ed25519")] as const)),
  );
  const calls: { host: string; fresh: boolean; atMs: number }[] = [];
  const failures: string[] = [];
  const self = peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();
  const parts: NetworkParts = {
    self,
    dial: async (peer, _signal, options) => {
      calls.push({ host: peer, fresh: options?.fresh ?? false, atMs: performance.now() });
      return { host: peer } as unknown as DialTarget;
    },
    shardStore: {
      async storeShard(target: DialTarget, shard: ShardUpload, options: StoreShardOptions = {}) {
        // A push that was given up (stalled, cancelled) never starts.
        options.signal?.throwIfAborted();
        const name = (target as unknown as { host: string }).host;
        const plan = behaviours[name] as Behaviour[];
        const behaviour = (plan.length > 1 ? plan.shift() : plan[0]) as Behaviour;
        if (behaviour === "refuse") throw new RemoteRefusedError(SHARD_STORE_PROTOCOL, "not-hosting", "");
        if (behaviour === "drop") throw new Error("connection reset");
        const totalBytes = shard.sizes.reduce((a, b) => a + b, 0);
        let storedBytes = 0;
        for (const [index, size] of shard.sizes.entries()) {
          await shard.readPiece(index, {});
          storedBytes += size;
          options.onProgress?.({ storedBytes, totalBytes, storedPieces: index + 1 });
        }
        const key = keys.get(name);
        if (!key) throw new Error(`no key for ${name}`);
        const host = peerIdFromPrivateKey(key);
        const receipt = {
          version: 1,
          host: host.toString(),
          client: self,
          dealId: shard.dealId ?? null,
          manifest: shard.manifest,
          shardIndex: shard.shardIndex,
          root: shard.root,
          piecesDigest: piecesDigest(shard.pieces),
          pieceCount: shard.pieces.length,
          totalBytes,
          storedAtMs: Date.now(),
        };
        const result: StoreShardResult = {
          receipt,
          signature: await signReceipt(key, receipt),
          sigma: shard.dealId ? ((await paid.attest?.[name]?.({ ...shard, totalBytes })) ?? null) : null,
          host,
          sentBytes: totalBytes,
        };
        return result;
      },
    },
    shardFetch: { fetchPieces: () => (async function* () {})(), holds: async () => [] },
    audit: { audit: async () => ({}) as never },
    hosts: {
      list: () =>
        // Host "a" is the nearest, so it is always among the first picked.
        Object.keys(behaviours).map((peer) => ({
          peer,
          freeBytes: 1 << 30,
          pricePerGiBMonth: 0n,
          latencyMs: peer === "a" ? 1 : 500,
          addrs: [],
        })),
      reportFailure: (peer) => void failures.push(peer),
      reportSuccess: () => {},
    },
  };
  return { parts: { ...parts, store: db, placements: db }, calls, failures };
}
