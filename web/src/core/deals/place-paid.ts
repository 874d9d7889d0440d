import type { Account, LocalAccount } from "viem";
import type { TabulaClient } from "../../chain/client.ts";
import type { RegisteredHost } from "../../chain/market/registered-hosts.ts";
import { asCid } from "../../lib/cid.ts";
import type { Manifest } from "../../lib/manifest.ts";
import type { KnownHost } from "../network/known-hosts.ts";
import type { NetworkParts } from "../network/parts.ts";
import { placementTargets } from "../network/placement-targets.ts";
import { type Placement, placementsOf, savePlacement } from "../network/placements.ts";
import { type UploadFileParts, type UploadProgress, uploadFile } from "../network/upload-file.ts";
import { assertCanPay, type DealTransaction, type PaidQuote, quotePaidUpload, UploadDealBook } from "./paid-upload.ts";

/** What paid storage needs of the tab: the chain, the owner's wallet, and the market's host registry. */
export interface PaidStorageParts {
  reader: TabulaClient;
  /** The connected wallet (undefined when none is): it pays the deals. */
  payer(): Promise<TabulaClient<Account> | undefined>;
  /** Every host registered in the market, with its peer id. */
  registry(signal?: AbortSignal): Promise<RegisteredHost[]>;
  /** The tab's operator key (from the key vault), which sends the audit rounds once the owner authorized it. */
  operatorKey?(): Promise<LocalAccount>;
}

export interface QuoteFileParameters {
  manifest: Manifest;
  manifestCid: string;
  placements: readonly Placement[];
  payer: TabulaClient<Account>;
  durationSeconds?: bigint;
  signal?: AbortSignal;
}

/** The quote of placing a file's unplaced shards for pay on the best staked hosts online now. */
export async function quoteFile(
  parts: PaidStorageParts & Pick<NetworkParts, "self" | "hosts">,
  parameters: QuoteFileParameters,
): Promise<PaidQuote> {
  const online = () =>
    placementTargets(parameters.manifest, parameters.placements, parts.hosts.list() as KnownHost[], {
      self: parts.self,
    });
  let targets = online();
  const registry = await parts.registry(parameters.signal);
  if (parts.hosts.measure) {
    const staked = new Set(registry.map((h) => h.peer));
    await parts.hosts.measure(
      targets.hosts.filter((h) => staked.has(h.peer)).map((h) => h.peer),
      parameters.signal,
    );
    targets = online();
  }
  return await quotePaidUpload(
    { reader: parts.reader, payer: parameters.payer },
    {
      manifestCid: parameters.manifestCid,
      manifest: parameters.manifest,
      targets,
      registry,
      ...(parameters.durationSeconds === undefined ? {} : { durationSeconds: parameters.durationSeconds }),
    },
  );
}

export interface PlacePaidParameters {
  manifest: Manifest;
  quote: PaidQuote;
  payer: TabulaClient<Account>;
  signal?: AbortSignal;
  onProgress?: (progress: UploadProgress) => void;
  onTransaction?: (tx: DealTransaction) => void;
  /** The file's placements the quoted shards join (default: all of them; a renewal leaves out the ones it renews). */
  placements?: readonly Placement[];
  /** Hosts tried per shard (a renewal tries only the host that holds it). */
  maxAttemptsPerShard?: number;
}

export interface PlacePaidReturnType {
  /** Placements whose deal the market accepted. */
  placed: Placement[];
  /** Shards stored whose σ the market refused at submission, and why (the host drops them). */
  refused: { placement: Placement; reason: string }[];
}

/**
 * Places the quoted shards for pay: checks the wallet can pay (a named error and nothing sent otherwise), escrows
 * the deals in one transaction, pushes each shard with its deal id to its quoted host (a failing host's shard goes
 * to the next staked host under a new deal), then submits every σ in one transaction and cancels what was left
 * unused, also when the upload fails or is stopped. Each accepted placement is saved with its deal.
 */
export async function placePaid(
  parts: PaidStorageParts & UploadFileParts,
  cid: string,
  parameters: PlacePaidParameters,
): Promise<PlacePaidReturnType> {
  const { manifest, quote, payer, signal } = parameters;
  assertCanPay(quote);
  const book = new UploadDealBook(
    { reader: parts.reader, payer },
    {
      quote,
      manifestCidBytes: asCid(cid).bytes,
      shards: manifest.shards,
      ...(parameters.onTransaction ? { onTransaction: parameters.onTransaction } : {}),
    },
  );
  await book.proposeQuoted(signal);
  const unstaked = new Set(
    parts.hosts
      .list()
      .map((h) => h.peer)
      .filter((peer) => !quote.candidates.some((c) => c.peer === peer && !c.ineligible)),
  );
  const upload = uploadFile(parts, cid, {
    placements: parameters.placements ?? (await placementsOf(parts.placements, cid)),
    shards: quote.shards.map((s) => s.shard),
    ...(parameters.maxAttemptsPerShard === undefined ? {} : { maxAttemptsPerShard: parameters.maxAttemptsPerShard }),
    assign: new Map(quote.shards.map((s) => [s.shard, s.peer])),
    exclude: unstaked,
    deals: book,
    ...(signal ? { signal } : {}),
    ...(parameters.onProgress ? { onProgress: parameters.onProgress } : {}),
  });
  // What was stored is settled whether or not every shard found a host: σ submitted, the rest cancelled.
  const outcome = await upload.then(
    (placed) => ({ placed, error: undefined }),
    async (error: unknown) => ({
      placed: (await placementsOf(parts.placements, cid)).filter(
        (p) => p.deal && !p.deal.acceptTx && quote.shards.some((s) => s.shard === p.shard),
      ),
      error,
    }),
  );
  const settled = await book.settle(outcome.placed);
  for (const placement of settled.accepted) await savePlacement(parts.placements, placement);
  for (const { placement, reason } of settled.refused) {
    await savePlacement(parts.placements, { ...placement, status: "bad", reason });
  }
  if (outcome.error !== undefined) throw outcome.error;
  return { placed: settled.accepted, refused: settled.refused };
}
