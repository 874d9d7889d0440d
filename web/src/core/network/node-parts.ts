import type { CID } from "multiformats/cid";
import { concatBytes } from "../../lib/bytes.ts";
import type { TabulaNode } from "../../p2p/node.ts";
import type { KnownHosts } from "./known-hosts.ts";
import type { NetworkParts } from "./parts.ts";

/** The tab's peer as my files on the network use it: its protocols, the known hosts, and bitswap for blocks. */
export interface TabNetworkParts extends Omit<NetworkParts, "hosts"> {
  /** The announced hosts; emits `change`. */
  hosts: Pick<KnownHosts, "list" | "reportFailure" | "reportSuccess" | "measure"> & EventTarget;
  /** Any peer's copy of a block, over bitswap (the owner's tab serves its manifests that way). */
  fetchBlock(cid: CID, signal: AbortSignal): Promise<Uint8Array | undefined>;
  /** Keeps a block where peers can fetch it over bitswap. */
  serveBlock(cid: CID, bytes: Uint8Array): Promise<void>;
}

/** The parts of `node` my files on the network need, dialing hosts at the addresses they announce. */
export function tabNetworkParts(node: TabulaNode, hosts: KnownHosts): TabNetworkParts {
  const services = node.libp2p.services;
  return {
    self: node.peerId,
    dial: (peer, signal, options) =>
      node.dialDirect(peer, {
        ...(signal ? { signal } : {}),
        ...(options?.fresh ? { fresh: true } : {}),
        addrs: hosts.get(peer)?.addrs ?? [],
      }),
    shardStore: services.shardStore,
    shardFetch: services.shardFetch,
    audit: services.audit,
    hosts,
    fetchBlock: async (cid, signal) => {
      const chunks: Uint8Array[] = [];
      for await (const chunk of node.helia.blockstore.get(cid, { signal })) chunks.push(chunk);
      return chunks.length === 1 ? chunks[0] : concatBytes(...chunks);
    },
    serveBlock: async (cid, bytes) => {
      await node.helia.blockstore.put(cid, bytes);
    },
  };
}
