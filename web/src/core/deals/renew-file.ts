/**
 * Renewing a paid file: once its deals near their end, the owner is offered new deals for the same shards on the
 * hosts that hold them. The new deals are escrowed in one transaction and each shard is pushed again with its new
 * deal id; the host holds every piece already, so nothing but the offer crosses the link, and it signs σ for the new
 * terms. All σ are submitted in one transaction, and the replaced deals are ended in one more: each host is paid up
 * to now and the unused rest of their escrow comes back, so no second of storage is paid twice. A host that cannot
 * renew keeps its shard under the running deal until it ends; the next check offers the renewal again, and the
 * repair places the shard elsewhere once the deal is over.
 */
import type { Account, Address } from "viem";
import type { TabulaClient } from "../../chain/client.ts";
import { DealStatus, dealInfo } from "../../chain/market/deal-info.ts";
import type { Manifest } from "../../lib/manifest.ts";
import type { KnownHost } from "../network/known-hosts.ts";
import type { NetworkParts } from "../network/parts.ts";
import { placementTargets } from "../network/placement-targets.ts";
import {
  type Placement,
  type PlacementDeal,
  type PlacementStore,
  placementsOf,
  savePlacement,
} from "../network/placements.ts";
import type { UploadFileParts, UploadProgress } from "../network/upload-file.ts";
import { NothingToRenewError } from "./errors.ts";
import { type DealTransaction, type PaidQuote, quotePaidUpload, type RenewedDeal } from "./paid-upload.ts";
import { type PaidStorageParts, placePaid } from "./place-paid.ts";
import { type EndFileDealsReturnType, endFileDeals } from "./settle-file.ts";

/** A running deal is offered for renewal once it ends within this many seconds (chain time). */
export const RENEWAL_WINDOW_SECONDS = 7 * 24 * 3600;

/** The file's running deals that end within {@link RENEWAL_WINDOW_SECONDS} after `nowS` (chain time). */
export function dealsToRenew(placements: readonly Placement[], nowS: number): RenewedDeal[] {
  return placements.flatMap((p) => {
    const deal = p.deal;
    if (p.status !== "live" || !deal?.acceptTx || deal.ended || deal.endsAtS === undefined) return [];
    // Past its end the host may have dropped the shard: the repair places it again, under a new deal.
    if (deal.endsAtS <= nowS || deal.endsAtS - nowS > RENEWAL_WINDOW_SECONDS) return [];
    return [{ shard: p.shard, host: p.host, dealId: deal.id, endsAtS: deal.endsAtS }];
  });
}

/** The quote of renewing the file's deals that near their end, each on the host that holds its shard. */
export async function quoteRenewal(
  parts: PaidStorageParts & Pick<NetworkParts, "self" | "hosts">,
  parameters: {
    manifest: Manifest;
    manifestCid: string;
    placements: readonly Placement[];
    payer: TabulaClient<Account>;
    /** Chain time now, Unix seconds. */
    nowS: number;
    durationSeconds?: bigint;
    signal?: AbortSignal;
  },
): Promise<PaidQuote> {
  const renews = dealsToRenew(parameters.placements, parameters.nowS);
  if (renews.length === 0) throw new NothingToRenewError();
  const renewed = new Set(renews.map((r) => r.dealId));
  const others = parameters.placements.filter((p) => !(p.deal && renewed.has(p.deal.id)));
  const targets = placementTargets(parameters.manifest, others, parts.hosts.list() as KnownHost[], {
    self: parts.self,
    shards: renews.map((r) => r.shard),
  });
  const quote = await quotePaidUpload(
    { reader: parts.reader, payer: parameters.payer },
    {
      manifestCid: parameters.manifestCid,
      manifest: parameters.manifest,
      targets,
      registry: await parts.registry(parameters.signal),
      keep: new Map(renews.map((r) => [r.shard, r.host])),
      ...(parameters.durationSeconds === undefined ? {} : { durationSeconds: parameters.durationSeconds }),
    },
  );
  return { ...quote, renews };
}

/**
 * Ends, in one transaction, the deals the file's accepted renewals replace where they still run, and then forgets
 * which deal each renewal replaced. A renewal ends them at once; a tab closed before that step has the next check
 * finish it, so the owner never pays twice for the same days.
 */
export async function finishRenewals(
  parts: { reader: TabulaClient; sender: TabulaClient<Account>; owner: Address; store: PlacementStore },
  cid: string,
): Promise<EndFileDealsReturnType> {
  const renewing = (await placementsOf(parts.store, cid)).filter(
    (p) => p.deal?.acceptTx && !p.deal.ended && p.deal.renews !== undefined,
  );
  if (renewing.length === 0) return { ended: [], hostPayments: 0n, refund: 0n };
  const ended = await endFileDeals(
    { reader: parts.reader, payer: parts.sender, owner: parts.owner },
    { placements: [], dealIds: renewing.map((p) => p.deal?.renews as bigint) },
  );
  for (const p of renewing) {
    const { renews, ...deal } = p.deal as PlacementDeal;
    const done =
      ended.ended.includes(renews as bigint) ||
      (await dealInfo(parts.reader, renews as bigint)).status !== DealStatus.Active;
    if (done) await savePlacement(parts.store, { ...p, deal });
  }
  return ended;
}

export interface RenewFileReturnType {
  /** The shards' placements under their new deals. */
  renewed: Placement[];
  /** The replaced deals ended early. */
  ended: bigint[];
  /** What ending them paid the hosts and gave back, in token base units. */
  hostPayments: bigint;
  refund: bigint;
}

/**
 * Renews as quoted (see the file's comment). Throws what stopped the renewal after settling what was done: new deals
 * accepted, unused proposals cancelled, the deals they replace ended; every shard not renewed keeps its running deal.
 */
export async function renewFile(
  parts: PaidStorageParts & UploadFileParts,
  cid: string,
  parameters: {
    manifest: Manifest;
    quote: PaidQuote;
    payer: TabulaClient<Account>;
    /** Who sends the end of the replaced deals: the owner, or its key authorized for the Client role. */
    ender?: TabulaClient<Account>;
    signal?: AbortSignal;
    onProgress?: (progress: UploadProgress) => void;
    onTransaction?: (tx: DealTransaction) => void;
  },
): Promise<RenewFileReturnType> {
  const { quote, payer } = parameters;
  const replaced = new Set((quote.renews ?? []).map((r) => r.dealId));
  const before = await placementsOf(parts.placements, cid);
  const old = before.filter((p) => p.deal && replaced.has(p.deal.id));
  const others = before.filter((p) => !old.includes(p));
  let failure: unknown;
  await placePaid(parts, cid, {
    manifest: parameters.manifest,
    quote,
    payer,
    placements: others,
    maxAttemptsPerShard: 1,
    ...(parameters.signal ? { signal: parameters.signal } : {}),
    ...(parameters.onProgress ? { onProgress: parameters.onProgress } : {}),
    ...(parameters.onTransaction ? { onTransaction: parameters.onTransaction } : {}),
  }).catch((error: unknown) => {
    failure = error;
  });
  const after = await placementsOf(parts.placements, cid);
  const known = new Set(before.flatMap((p) => (p.deal ? [p.deal.id] : [])));
  const renewed = after.filter(
    (p) => p.deal?.acceptTx && !p.deal.ended && !known.has(p.deal.id) && old.some((o) => o.shard === p.shard),
  );
  const renewedShards = new Set(renewed.map((p) => p.shard));
  // A shard not renewed keeps its running deal: its record comes back where a refused push wrote over it.
  for (const p of old) if (!renewedShards.has(p.shard)) await savePlacement(parts.placements, p);
  const ended = await finishRenewals(
    { reader: parts.reader, sender: parameters.ender ?? payer, owner: payer.account.address, store: parts.placements },
    cid,
  );
  if (ended.hash) parameters.onTransaction?.({ what: "end", hash: ended.hash, dealIds: ended.ended });
  const endedIds = new Set(ended.ended);
  for (const p of old) {
    // On the same host the new placement took its record; one renewed on another host keeps its old one, retired.
    if (!renewedShards.has(p.shard) || renewed.some((r) => r.host === p.host && r.shard === p.shard)) continue;
    const deal = p.deal as PlacementDeal;
    await savePlacement(parts.placements, {
      ...p,
      status: "moved",
      reason: "renewed on another host",
      ...(endedIds.has(deal.id) ? { deal: { ...deal, ended: "Ended" } } : {}),
    });
  }
  if (failure !== undefined) throw failure;
  return { renewed, ended: ended.ended, hostPayments: ended.hostPayments, refund: ended.refund };
}
