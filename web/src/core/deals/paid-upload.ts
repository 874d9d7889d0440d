/**
 * Paid placement of a file (seed steps 5–14, a file at a time): the client ranks the staked hosts that are online
 * by price, stake, reputation and latency, quotes every shard and shows the total; on confirmation it escrows all
 * shards' deals in one transaction with one permit, pushes each shard with its deal id, checks each σ against the
 * chain, and submits all σ in one transaction. A host that fails mid-upload is replaced by the next one with a new
 * deal, and the unused proposals are cancelled (their escrow back) in one transaction at the end, so no token is
 * left escrowed for a shard nobody stores.
 */
import { type Account, type Address, bytesToHex, type Hash, type Hex, isAddressEqual } from "viem";
import { getBalance, getBlock, getGasPrice, readContract } from "viem/actions";
import { deployedContract } from "../../chain/chain.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { NoAccountError } from "../../chain/errors.ts";
import { type AcceptedDeal, acceptDealsSync } from "../../chain/market/accept-deals.ts";
import { cancelProposals } from "../../chain/market/cancel-proposals.ts";
import { InsufficientFreeStakeError, InvalidReceiptError, ReceiptExpiredError } from "../../chain/market/errors.ts";
import { type ProposedDeal, proposeDealsSync } from "../../chain/market/propose-deals.ts";
import { quote } from "../../chain/market/quote.ts";
import type { RegisteredHost } from "../../chain/market/registered-hosts.ts";
import type { DealTerms } from "../../chain/market/storage-receipt.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { allowance } from "../../chain/token/allowance.ts";
import { balanceOf } from "../../chain/token/balance-of.ts";
import type { Manifest } from "../../lib/manifest.ts";
import type { KnownHost } from "../network/known-hosts.ts";
import type { PlacementTargets } from "../network/placement-targets.ts";
import type { Placement, PlacementDeal } from "../network/placements.ts";
import { type HostCandidate, rankHosts } from "../network/select-hosts.ts";
import { DealRefusedError, type UploadDeals } from "../network/upload-file.ts";
import { InsufficientFundsError, NotEnoughPaidHostsError } from "./errors.ts";

/** Default length of a file's deals: 30 days. */
export const DEFAULT_DEAL_DURATION_SECONDS = 30n * 24n * 3600n;
/** How long a proposal waits for its σ: the upload, then one transaction, with room for a slow link. */
export const ACCEPT_WINDOW_SECONDS = 6n * 3600n;
/** How long the escrow permit stays valid: it is submitted at once. */
export const PERMIT_VALIDITY_SECONDS = 3600n;
/**
 * Gas a file's deals take per shard (proposal and acceptance, measured in contracts/README.md: 166,977 + 53,079
 * per deal of a six-deal file), and once per file: what the ETH check asks the wallet to hold.
 */
export const GAS_PER_DEAL = 225_000n;
export const GAS_PER_FILE = 120_000n;

/** A host the client may pay: online (announced) and staked, with what a shard of this file costs there. */
export interface PaidCandidate extends HostCandidate {
  owner: Address;
  stake: bigint;
  /** Stake not locked by running deals: each new deal locks a share of its price. */
  freeStake: bigint;
  auditsPassed: number;
  auditsFailed: number;
  timesSlashed: number;
  /** What one shard of this file costs there for the chosen duration, in token base units. */
  shardPrice: bigint;
  /** Why it cannot take a deal now; undefined when it can. */
  ineligible?: string;
}

/** What the client confirms before paying: the hosts, every shard's price and the wallet after it. */
export interface PaidQuote {
  manifest: string;
  durationSeconds: bigint;
  /** Each shard to place, with its host and price. */
  shards: { shard: number; peer: string; owner: Address; sizeBytes: bigint; price: bigint }[];
  /** Every staked host online, best first; the chosen ones are the first of the eligible. */
  candidates: PaidCandidate[];
  total: bigint;
  payer: Address;
  tokens: bigint;
  eth: bigint;
  /** ETH the transactions are expected to take (gas at today's price). */
  ethNeeded: bigint;
  /** The market's allowance now, the owner's audit budget: the escrow's permit keeps it. */
  allowance: bigint;
  /** For a renewal: the running deals the new ones replace (ended early once the new ones run). */
  renews?: RenewedDeal[];
}

/** A running deal a renewal replaces: its shard, the host that holds it, and when it ends (Unix seconds). */
export interface RenewedDeal {
  shard: number;
  host: string;
  dealId: bigint;
  endsAtS: number;
}

export interface PaidUploadParts {
  /** Reads the chain. */
  reader: TabulaClient;
  /** The owner's wallet client: it signs the permit and sends the proposals, acceptance and cancellations. */
  payer: TabulaClient<Account>;
}

/** One step of a paid upload that touched the chain, for the activity list. */
export interface DealTransaction {
  what: "propose" | "accept" | "cancel" | "end" | "challenge" | "fix seeds" | "penalty";
  hash: Hash;
  dealIds: bigint[];
}

/** Staked hosts online, joined to the market's registry, eligible first, each with its price for one shard. */
export async function paidCandidates(
  parts: Pick<PaidUploadParts, "reader">,
  parameters: {
    online: readonly KnownHost[];
    registry: readonly RegisteredHost[];
    shardSizeBytes: bigint;
    durationSeconds: bigint;
    exclude: ReadonlySet<string>;
  },
): Promise<PaidCandidate[]> {
  const { reader } = parts;
  const market = deployedContract(reader.chain, "StorageMarket");
  const byPeer = new Map(parameters.registry.flatMap((host) => (host.peer ? [[host.peer, host] as const] : [])));
  const joined = parameters.online.flatMap((announced) => {
    const chain = byPeer.get(announced.peer);
    return chain && !parameters.exclude.has(announced.peer) ? [{ announced, chain }] : [];
  });
  const candidates = await Promise.all(
    joined.map(async ({ announced, chain }): Promise<PaidCandidate> => {
      const shardPrice = await quote(reader, {
        host: chain.host,
        shardSizeBytes: parameters.shardSizeBytes,
        durationSeconds: parameters.durationSeconds,
      });
      const collateral = await readContract(reader, {
        address: market.address,
        abi: market.abi,
        functionName: "collateralFor",
        args: [shardPrice],
      });
      const freeStake = chain.stake - chain.lockedCollateral;
      const room = chain.capacityBytes - chain.usedBytes;
      const ineligible =
        freeStake < collateral
          ? "too little free stake for the deal's collateral"
          : room < parameters.shardSizeBytes
            ? "no room left in its registered capacity"
            : undefined;
      return {
        peer: announced.peer,
        freeBytes: Math.min(announced.freeBytes, Number(room)),
        pricePerGiBMonth: chain.pricePerGiBMonth,
        ...(announced.latencyMs === undefined ? {} : { latencyMs: announced.latencyMs }),
        ...(announced.failure ? { failure: announced.failure } : {}),
        owner: chain.host,
        stake: chain.stake,
        freeStake,
        auditsPassed: chain.auditsPassed,
        auditsFailed: chain.auditsFailed,
        timesSlashed: chain.timesSlashed,
        shardPrice,
        ...(ineligible ? { ineligible } : {}),
      };
    }),
  );
  const cheapest = candidates.reduce<bigint | undefined>(
    (min, c) => (c.ineligible || (min !== undefined && min <= c.shardPrice) ? min : c.shardPrice),
    undefined,
  );
  const ranked = rankHosts(
    candidates.filter((c) => !c.ineligible),
    { minFreeBytes: Number(parameters.shardSizeBytes), score: (host) => paidScore(host as PaidCandidate, cheapest) },
  );
  return [...ranked, ...candidates.filter((c) => c.ineligible || !ranked.includes(c))];
}

/**
 * Preference among staked hosts, in latency units (50 ms each): each 10 % above the cheapest price costs one unit,
 * each failed audit two, each slash four; a record of passed audits earns up to two.
 */
export function paidScore(host: PaidCandidate, cheapest: bigint | undefined): number {
  const premium = cheapest && cheapest > 0n ? Number(((host.shardPrice - cheapest) * 100n) / cheapest) / 10 : 0;
  const record = Math.min(2, host.auditsPassed / 10);
  return -premium - 2 * host.auditsFailed - 4 * host.timesSlashed + record;
}

/**
 * The quote the client confirms: the best eligible host for each shard to place, every shard's price from the
 * market, the total, and the payer's balances. Throws {@link NotEnoughPaidHostsError} with too few hosts.
 */
export async function quotePaidUpload(
  parts: PaidUploadParts,
  parameters: {
    manifestCid: string;
    manifest: Pick<Manifest, "shards">;
    targets: PlacementTargets<KnownHost>;
    registry: readonly RegisteredHost[];
    durationSeconds?: bigint;
    /** Shard → the host to keep it on where that host is eligible (a renewal); the others go to the best. */
    keep?: ReadonlyMap<number, string>;
  },
): Promise<PaidQuote> {
  const { reader, payer } = parts;
  const durationSeconds = parameters.durationSeconds ?? DEFAULT_DEAL_DURATION_SECONDS;
  const { shards, hosts, exclude } = parameters.targets;
  const sizeBytes = BigInt(Math.max(...shards.map((s) => parameters.manifest.shards[s]?.size ?? 0)));
  const candidates = await paidCandidates(parts, {
    online: hosts,
    registry: parameters.registry,
    shardSizeBytes: sizeBytes,
    durationSeconds,
    exclude,
  });
  const eligible = candidates.filter((c) => !c.ineligible);
  if (eligible.length < shards.length) throw new NotEnoughPaidHostsError(shards.length, eligible.length);
  const keep = parameters.keep ?? new Map<number, string>();
  const kept = new Map(
    [...keep].flatMap(([shard, peer]) => {
      const host = eligible.find((c) => c.peer === peer);
      return host ? [[shard, host] as const] : [];
    }),
  );
  // Hosts of the file's other shards are taken by them: a shard that cannot stay goes to a host not yet used.
  const rest = eligible.filter((c) => ![...keep.values()].includes(c.peer));
  const hostOf = (shard: number): PaidCandidate => {
    const host = kept.get(shard) ?? rest.shift();
    if (!host) throw new NotEnoughPaidHostsError(shards.length, eligible.length);
    return host;
  };
  const assigned = shards.map((shard) => ({ shard, host: hostOf(shard) }));
  const chosen = await Promise.all(
    assigned.map(async ({ shard, host }) => {
      const shardSize = BigInt(parameters.manifest.shards[shard]?.size ?? 0);
      const price =
        shardSize === sizeBytes
          ? host.shardPrice
          : await quote(reader, { host: host.owner, shardSizeBytes: shardSize, durationSeconds });
      return { shard, peer: host.peer, owner: host.owner, sizeBytes: shardSize, price };
    }),
  );
  const account = payer.account.address;
  const market = deployedContract(reader.chain, "StorageMarket");
  const [tokens, eth, gasPrice, budget] = await Promise.all([
    balanceOf(reader, { address: account }),
    getBalance(reader, { address: account }),
    getGasPrice(reader),
    allowance(reader, { owner: account, spender: market.address }),
  ]);
  return {
    manifest: parameters.manifestCid,
    durationSeconds,
    shards: chosen,
    candidates,
    total: chosen.reduce((sum, s) => sum + s.price, 0n),
    payer: account,
    tokens,
    eth,
    ethNeeded: (GAS_PER_FILE + GAS_PER_DEAL * BigInt(chosen.length)) * gasPrice,
    allowance: budget,
  };
}

/** Throws {@link InsufficientFundsError} when the wallet cannot pay the quote; nothing is sent. */
export function assertCanPay(q: PaidQuote): void {
  const missingTokens = q.total > q.tokens ? q.total - q.tokens : 0n;
  const missingEth = q.ethNeeded > q.eth ? q.ethNeeded - q.eth : 0n;
  if (missingTokens > 0n || missingEth > 0n) {
    throw new InsufficientFundsError({ account: q.payer, missingTokens, missingEth });
  }
}

interface PaidManifestShard {
  root: Uint8Array;
  size: number;
}

/**
 * The deals of one paid upload: escrows the quoted shards' deals in one transaction, hands each push its deal
 * (proposing one for a replacement host, in one transaction with any other asked for at the same moment), checks
 * σ on the chain, then submits all σ at once and cancels what was not used.
 */
export class UploadDealBook implements UploadDeals {
  readonly #parts: PaidUploadParts;
  readonly #quote: PaidQuote;
  readonly #manifestCidHex: Hex;
  readonly #shards: readonly PaidManifestShard[];
  readonly #owners: ReadonlyMap<string, Address>;
  readonly #onTransaction: (tx: DealTransaction) => void;
  /** Proposed deals by `shard/peer`, not yet given to a push. */
  readonly #open = new Map<string, PlacementDeal>();
  /** Every deal proposed in this upload. */
  readonly #all: PlacementDeal[] = [];
  #batch: { shard: number; peer: string; resolve: (d: PlacementDeal) => void; reject: (e: unknown) => void }[] = [];

  constructor(
    parts: PaidUploadParts,
    parameters: {
      quote: PaidQuote;
      manifestCidBytes: Uint8Array;
      shards: readonly PaidManifestShard[];
      onTransaction?: (tx: DealTransaction) => void;
    },
  ) {
    this.#parts = parts;
    this.#quote = parameters.quote;
    this.#manifestCidHex = bytesToHex(parameters.manifestCidBytes);
    this.#shards = parameters.shards;
    this.#owners = new Map(parameters.quote.candidates.map((c) => [c.peer, c.owner]));
    this.#onTransaction = parameters.onTransaction ?? (() => {});
  }

  /** The quoted shards' deals, escrowed in one transaction with one permit. */
  async proposeQuoted(signal?: AbortSignal): Promise<void> {
    const deals = await this.#propose(
      this.#quote.shards.map(({ shard, peer }) => ({ shard, peer })),
      signal,
    );
    for (const [i, { shard, peer }] of this.#quote.shards.entries()) {
      this.#open.set(`${shard}/${peer}`, deals[i] as PlacementDeal);
    }
  }

  async dealFor(shard: number, peer: string, _signal: AbortSignal): Promise<PlacementDeal> {
    const key = `${shard}/${peer}`;
    const ready = this.#open.get(key);
    if (ready) {
      this.#open.delete(key);
      return ready;
    }
    if (!this.#owners.has(peer)) throw new DealRefusedError(`host ${peer.slice(-8)} has no stake in the market`);
    // Replacements asked for at the same moment share one proposal.
    return await new Promise<PlacementDeal>((resolve, reject) => {
      this.#batch.push({ shard, peer, resolve, reject });
      if (this.#batch.length === 1) {
        queueMicrotask(() => {
          const batch = this.#batch;
          this.#batch = [];
          // Once asked for, the proposal goes through whatever happens to this push, so that its deal is known
          // here and cancelled if no push uses it.
          this.#propose(batch).then(
            (deals) => {
              for (const [i, ask] of batch.entries()) ask.resolve(deals[i] as PlacementDeal);
            },
            (error: unknown) => {
              for (const ask of batch)
                ask.reject(new DealRefusedError("the deal could not be escrowed", { cause: error }));
            },
          );
        });
      }
    });
  }

  async checkSigma(deal: PlacementDeal, sigma: Uint8Array | null, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (!sigma)
      throw new DealRefusedError(`host ${deal.owner} stored the shard but gave no receipt σ for deal ${deal.id}`);
    const { reader } = this.#parts;
    const market = deployedContract(reader.chain, "StorageMarket");
    const valid = await readContract(reader, {
      address: market.address,
      abi: market.abi,
      functionName: "isValidReceipt",
      args: [deal.id, bytesToHex(sigma)],
    });
    if (!valid) throw new DealRefusedError(`the receipt σ of deal ${deal.id} is not one the market accepts`);
  }

  /**
   * Submits σ of every placed shard in one transaction, then cancels the proposals no push used. A σ the market
   * refuses at submission (expired, its host's key revoked, its free stake gone) leaves out that deal only: the
   * rest are submitted again without it, and its placement is returned as refused.
   */
  async settle(
    placed: readonly Placement[],
    signal?: AbortSignal,
  ): Promise<{ accepted: Placement[]; refused: { placement: Placement; reason: string }[] }> {
    const refused: { placement: Placement; reason: string }[] = [];
    let pending = placed.filter((p) => p.deal?.sigma);
    let accepted: AcceptedDeal[] = [];
    let acceptTx: Hash | undefined;
    while (pending.length > 0) {
      try {
        const { receipt, deals } = await acceptDealsSync(this.#parts.payer, {
          receipts: pending.map((p) => ({
            dealId: (p.deal as PlacementDeal).id,
            signature: bytesToHex((p.deal as PlacementDeal).sigma as Uint8Array),
          })),
          onHash: (hash) =>
            this.#onTransaction({ what: "accept", hash, dealIds: pending.map((p) => p.deal?.id as bigint) }),
          ...(signal ? { signal } : {}),
        });
        accepted = deals;
        acceptTx = receipt.transactionHash;
        break;
      } catch (error) {
        const culprit = refusedDeal(error, pending);
        if (!culprit) throw error;
        refused.push({ placement: culprit, reason: (error as Error).message });
        pending = pending.filter((p) => p !== culprit);
      }
    }
    const startedById = new Map(accepted.map((d) => [d.dealId, d]));
    const acceptedPlacements = pending.map((p) => {
      const deal = p.deal as PlacementDeal;
      const started = startedById.get(deal.id);
      return {
        ...p,
        deal: { ...deal, ...(acceptTx ? { acceptTx } : {}), ...(started ? { endsAtS: Number(started.endsAt) } : {}) },
      };
    });
    const used = new Set(acceptedPlacements.map((p) => (p.deal as PlacementDeal).id));
    const unused = this.#all.filter((d) => !used.has(d.id)).map((d) => d.id);
    if (unused.length > 0) {
      const hash = await cancelProposals(this.#parts.payer, { dealIds: unused });
      this.#onTransaction({ what: "cancel", hash, dealIds: unused });
      await waitForSuccess(this.#parts.reader, { hash, what: "Cancelling the unused proposals" });
    }
    return { accepted: acceptedPlacements, refused };
  }

  /** Cancels every proposal of this upload that was not accepted (an upload that failed or was stopped). */
  async cancelAll(signal?: AbortSignal): Promise<void> {
    await this.settle([], signal);
  }

  async #propose(asks: readonly { shard: number; peer: string }[], signal?: AbortSignal): Promise<PlacementDeal[]> {
    const { reader, payer } = this.#parts;
    // The chain's clock, not this device's: acceptBy and the permit's deadline are checked against block time.
    const now = (await getBlock(reader)).timestamp;
    const terms: DealTerms[] = await Promise.all(
      asks.map(async ({ shard, peer }) => {
        const owner = this.#owners.get(peer) as Address;
        const entry = this.#shards[shard] as PaidManifestShard;
        const quoted = this.#quote.shards.find((s) => s.shard === shard && s.peer === peer);
        const price =
          quoted?.price ??
          (await quote(reader, {
            host: owner,
            shardSizeBytes: BigInt(entry.size),
            durationSeconds: this.#quote.durationSeconds,
          }));
        return {
          host: owner,
          manifestCid: this.#manifestCidHex,
          shardIndex: shard,
          shardSizeBytes: BigInt(entry.size),
          shardRoot: bytesToHex(entry.root),
          durationSeconds: this.#quote.durationSeconds,
          price,
          acceptBy: now + ACCEPT_WINDOW_SECONDS,
        };
      }),
    );
    let proposeTx: Hash | undefined;
    signal?.throwIfAborted();
    // Not abortable once sent: an escrow the book did not record could not be cancelled by it.
    const { deals } = await proposeDealsSync(payer, {
      terms,
      permitDeadline: now + PERMIT_VALIDITY_SECONDS,
      onHash: (hash) => {
        proposeTx = hash;
      },
    });
    const made = deals.map((d: ProposedDeal, i): PlacementDeal => {
      // A renewal's deal names the one it replaces, so that a tab closed before ending that one ends it later.
      const renews = this.#quote.renews?.find((r) => r.shard === asks[i]?.shard)?.dealId;
      return {
        id: d.dealId,
        owner: d.terms.host,
        price: d.terms.price,
        proposeTx: proposeTx as Hash,
        ...(renews === undefined ? {} : { renews }),
      };
    });
    this.#all.push(...made);
    this.#onTransaction({ what: "propose", hash: proposeTx as Hash, dealIds: made.map((d) => d.id) });
    return made;
  }
}

/** The placement whose deal the market named in refusing an acceptance, if it named one. */
function refusedDeal(error: unknown, pending: readonly Placement[]): Placement | undefined {
  if (error instanceof ReceiptExpiredError || error instanceof InvalidReceiptError) {
    return pending.find((p) => p.deal?.id === error.dealId);
  }
  if (error instanceof InsufficientFreeStakeError) {
    return pending.find((p) => p.deal && isAddressEqual(p.deal.owner, error.host));
  }
  return undefined;
}

/** Throws {@link NoAccountError} unless a wallet is connected to pay. */
export function requirePayer(payer: TabulaClient<Account> | undefined): TabulaClient<Account> {
  if (!payer) throw new NoAccountError({ action: "Paying hosts for storage" });
  return payer;
}
