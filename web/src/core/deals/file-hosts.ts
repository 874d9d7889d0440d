/**
 * A file's hosts from the chain: every deal proposed for a file carries L, its manifest CID, so a tab with only a
 * share link finds who must hold each shard from the StorageMarket's deal events, without any announcement, and
 * dials them by the peer ids they registered.
 */
import type { CID } from "multiformats/cid";
import { type Address, bytesToHex } from "viem";
import { getBlock } from "viem/actions";
import type { TabulaClient } from "../../chain/client.ts";
import { type FileDeal, fileDeals } from "../../chain/market/file-deals.ts";
import { peerOfHost } from "../../chain/market/peer-of-host.ts";
import { asCid } from "../../lib/cid.ts";
import { deadline, raceSignal } from "../../lib/signals.ts";

/** How long a download waits for the chain's holders before it goes on with the hosts it heard of. */
export const CHAIN_HOLDERS_TIMEOUT_MS = 10_000;

export interface FileHostsParts {
  /** Reads the chain. */
  reader: TabulaClient;
  /** First block to look for deals in (the market's deployment saves a scan from genesis). */
  fromBlock?: bigint;
}

/** The holders of each shard of a file, by shard index: peer ids, the first to ask first. */
export type ShardHolders = string[][];

/** The deals whose host must still hold its shard at `nowSeconds` (chain time): accepted and not yet ended. */
export function holdingDeals(deals: readonly FileDeal[], nowSeconds: bigint): FileDeal[] {
  return deals.filter((deal) => deal.status === "Active" && deal.endsAt > nowSeconds);
}

/**
 * The peer ids of the hosts that must hold each shard of the file whose manifest CID is `manifest`, by shard index,
 * from its deals on the chain. Deals proposed but not accepted, cancelled, ended early, slashed or past their end
 * are left out, and so are hosts whose registered peer id is not one.
 */
export async function chainHolders(
  parts: FileHostsParts,
  manifest: CID | string,
  options: { signal?: AbortSignal } = {},
): Promise<ShardHolders> {
  const { reader } = parts;
  const [deals, block] = await raceSignal(
    Promise.all([
      fileDeals(reader, {
        manifestCid: bytesToHex(asCid(manifest).bytes),
        ...(parts.fromBlock === undefined ? {} : { fromBlock: parts.fromBlock }),
      }),
      getBlock(reader),
    ]),
    options.signal,
  );
  const holding = holdingDeals(deals, block.timestamp);
  const hosts = [...new Set(holding.map((deal) => deal.terms.host))];
  const peers = new Map<Address, string | undefined>(
    await raceSignal(
      Promise.all(hosts.map(async (host) => [host, await peerOfHost(reader, { host })] as const)),
      options.signal,
    ),
  );
  const holders: ShardHolders = [];
  for (const deal of holding) {
    const peer = peers.get(deal.terms.host);
    if (peer) add(holders, deal.terms.shardIndex, peer);
  }
  return fill(holders);
}

/** Every list's holders of each shard, each once, in the order of the lists. */
export function mergeHolders(...lists: readonly (readonly (readonly string[] | undefined)[])[]): ShardHolders {
  const merged: ShardHolders = [];
  for (const list of lists)
    for (const [shard, peers] of list.entries()) for (const p of peers ?? []) add(merged, shard, p);
  return fill(merged);
}

/**
 * `holders` (the owner's placements), with the chain's holders added for a file it knows no holder of (a file that
 * is not mine). The chain is asked once per manifest and for {@link CHAIN_HOLDERS_TIMEOUT_MS} at most; when it does
 * not answer, the download goes on with the announced hosts.
 */
export function withChainHolders(
  holders: (manifest: string) => Promise<ShardHolders>,
  parts: FileHostsParts | undefined,
  options: { timeoutMs?: number } = {},
): (manifest: string) => Promise<ShardHolders> {
  if (!parts) return holders;
  const asked = new Map<string, Promise<ShardHolders>>();
  return async (manifest) => {
    const own = await holders(manifest);
    if (own.some((peers) => peers.length > 0)) return own;
    let found = asked.get(manifest);
    if (!found) {
      found = askChain(parts, manifest, options.timeoutMs ?? CHAIN_HOLDERS_TIMEOUT_MS);
      asked.set(manifest, found);
    }
    return mergeHolders(own, await found);
  };
}

async function askChain(parts: FileHostsParts, manifest: string, timeoutMs: number): Promise<ShardHolders> {
  const limit = deadline(timeoutMs, () => new DOMException("The chain did not answer in time.", "TimeoutError"));
  try {
    return await chainHolders(parts, manifest, { signal: limit.signal });
  } catch (error) {
    console.warn(`The chain's holders of ${manifest} could not be read; the announced hosts are asked.`, error);
    return [];
  } finally {
    limit.clear();
  }
}

function add(holders: ShardHolders, shard: number, peer: string): void {
  const peers = holders[shard];
  if (!peers) holders[shard] = [peer];
  else if (!peers.includes(peer)) peers.push(peer);
}

/** The same holders with an empty list for every shard below the last that has one. */
function fill(holders: ShardHolders): ShardHolders {
  return Array.from(holders, (peers) => peers ?? []);
}
