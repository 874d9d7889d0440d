import { generateKeyPair } from "@libp2p/crypto/keys";
import type { Libp2p, PrivateKey } from "@libp2p/interface";
import { MemoryBlockstore } from "blockstore-core";
import { encodeAnnouncement, type HostAnnouncement } from "../web/src/p2p/protocols/announce/index.ts";
import { type Audit, audit, pieceRoot } from "../web/src/p2p/protocols/audit/index.ts";
import { type ShardFetch, shardFetch } from "../web/src/p2p/protocols/shard-fetch/index.ts";
import { type ShardStore, shardStore } from "../web/src/p2p/protocols/shard-store/index.ts";
import { MemoryHost } from "../web/src/p2p/testing/memory-host.ts";
import { createTcpNode } from "../web/src/p2p/testing/tcp-node.ts";

export type SimServices = { shardStore: ShardStore; shardFetch: ShardFetch; audit: Audit };
export type SimNode = Libp2p<SimServices>;

/** A hosting peer: the same services a tab with "Share storage" on runs, over an in-memory blockstore. */
export interface SimHost {
  node: SimNode;
  privateKey: PrivateKey;
  peer: string;
  store: MemoryBlockstore;
  /** Its host role: the held shards, over `store`. */
  host: MemoryHost;
}

/** Generous: the simulation shares two cores with everything else, and a slow answer must not count as a loss. */
const TIMEOUT_MS = 10_000;

export async function startHost(): Promise<SimHost> {
  const store = new MemoryBlockstore();
  const host = new MemoryHost(store, { pieceRoot });
  const privateKey = await generateKeyPair("Ed25519");
  const node = await createTcpNode<SimServices>(
    {
      shardStore: shardStore({ host: host.shardStore(), timeoutMs: TIMEOUT_MS }),
      shardFetch: shardFetch({ host: host.shardFetch(), timeoutMs: TIMEOUT_MS }),
      audit: audit({ host: host.audit(), timeoutMs: TIMEOUT_MS }),
    },
    { privateKey },
  );
  return { node, privateKey, peer: node.peerId.toString(), store, host };
}

/** The owner's tab: client side of every protocol. */
export async function startOwner(): Promise<SimNode> {
  return await createTcpNode<SimServices>({
    shardStore: shardStore({ timeoutMs: TIMEOUT_MS }),
    shardFetch: shardFetch({ timeoutMs: TIMEOUT_MS }),
    audit: audit({ timeoutMs: TIMEOUT_MS }),
  });
}

/** The host's signed announcement, as it would publish it on the hosts topic. */
export async function announce(host: SimHost, nowMs: number, freeBytes: number): Promise<Uint8Array> {
  const announcement: HostAnnouncement = {
    peer: host.peer,
    freeBytes,
    pricePerGiBMonth: 0n,
    addrs: host.node.getMultiaddrs().map((addr) => addr.toString()),
    timestampMs: nowMs,
  };
  return await encodeAnnouncement(host.privateKey, announcement);
}
