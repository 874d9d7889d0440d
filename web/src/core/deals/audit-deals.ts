/**
 * The owner's on-chain audits of a paid file (seed steps: challenge, the host's proof, the penalty): each round
 * finalizes the audits its hosts missed (the penalty transaction: the host's collateral and the unproven escrow to
 * the client), then challenges the file's other running deals in one transaction, bonds taken from the owner's
 * allowance to the market (the audit budget), and fixes their seeds in one more once the seed block is mined.
 * Hosts answer within the window on their own; the next round sees who did.
 */
import { type Account, type Address, type Hash, parseEventLogs } from "viem";
import { getBlock, getBlockNumber, getContractEvents } from "viem/actions";
import { deployedContract } from "../../chain/chain.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { revertOf } from "../../chain/errors.ts";
import { challengeDeals } from "../../chain/market/challenge-deals.ts";
import { type DealInfo, DealStatus, dealInfo, dealStatusName } from "../../chain/market/deal-info.ts";
import { finalizeMissedAudit } from "../../chain/market/finalize-missed-audit.ts";
import { fixAuditSeeds } from "../../chain/market/fix-audit-seeds.ts";
import { type OpenAudit, openAudit } from "../../chain/market/open-audit.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { allowance } from "../../chain/token/allowance.ts";
import { sleep } from "../../lib/signals.ts";
import { AuditBudgetExhaustedError } from "./errors.ts";

/** How often the round looks for the seed block while it waits to fix the seeds. */
export const SEED_POLL_MS = 1_000;
/** A deal is not challenged when it ends sooner than this many answer windows from now. */
export const CHALLENGE_END_MARGIN_WINDOWS = 2n;

/** The transactions of a round. */
export type AuditTransaction = "challenge" | "fix seeds" | "penalty";

export interface AuditDealsParts {
  reader: TabulaClient;
  /** Sends the challenges, seeds and penalties: the owner, or its key authorized for the client role. */
  sender: TabulaClient<Account>;
  /** The owner whose allowance to the market pays the bonds. */
  owner: Address;
}

/** A deal of the file, by shard. */
export interface AuditedDeal {
  dealId: bigint;
  shard: number;
  /** Settle its open audit but challenge it no more (its shard moved to another host). */
  retired?: boolean;
}

export type AuditOutcome = AuditedDeal &
  (
    | { kind: "challenged"; tx: Hash; bond: bigint }
    /** Challenged earlier, the host still has until `deadline` (Unix seconds) to answer. */
    | { kind: "open"; deadline: bigint }
    /** The host missed its window: the penalty transaction paid the owner. */
    | { kind: "missed"; tx: Hash; collateral: bigint; refund: bigint; hostPayment: bigint; bondReturned: bigint }
    /** The deal no longer runs: `status` says how it ended (Slashed: someone else sent the penalty). */
    | { kind: "ended"; status: keyof typeof DealStatus }
    | { kind: "skipped"; reason: string }
  ) & {
    /** Audits of this deal its host answered so far. */
    answered: number;
  };

export interface AuditDealsReturnType {
  outcomes: AuditOutcome[];
  /** Challenges left unsent because the audit budget could not pay their bonds. */
  budget?: AuditBudgetExhaustedError;
}

/** One audit round over a file's deals; reports each transaction as it is sent. */
export async function auditDeals(
  parts: AuditDealsParts,
  parameters: {
    deals: readonly AuditedDeal[];
    signal?: AbortSignal;
    onTransaction?: (what: AuditTransaction, tx: Hash) => void;
  },
): Promise<AuditDealsReturnType> {
  const { reader, sender, owner } = parts;
  const { signal } = parameters;
  const now = (await getBlock(reader)).timestamp;
  const outcomes: AuditOutcome[] = [];
  const toChallenge: { deal: AuditedDeal; info: DealInfo; answered: number }[] = [];
  const toFix: bigint[] = [];
  for (const deal of parameters.deals) {
    signal?.throwIfAborted();
    const [info, audit, answered] = await Promise.all([
      dealInfo(reader, deal.dealId),
      openAudit(reader, deal.dealId),
      answeredAudits(reader, deal.dealId),
    ]);
    if (info.status !== DealStatus.Active) {
      outcomes.push({ ...deal, kind: "ended", status: dealStatusName(info.status), answered });
    } else if (audit) {
      outcomes.push(await settleOpen(parts, deal, audit, now, answered, toFix, parameters.onTransaction));
    } else if (deal.retired) {
      outcomes.push({ ...deal, kind: "skipped", reason: "its shard moved to another host", answered });
    } else if (info.endsAt <= now + CHALLENGE_END_MARGIN_WINDOWS * info.auditWindowSeconds) {
      outcomes.push({ ...deal, kind: "skipped", reason: "the deal ends before an audit could be answered", answered });
    } else {
      toChallenge.push({ deal, info, answered });
    }
  }
  let budget: AuditBudgetExhaustedError | undefined;
  if (toChallenge.length > 0) {
    const market = deployedContract(reader.chain, "StorageMarket");
    const needed = toChallenge.reduce((sum, c) => sum + c.info.challengeBond, 0n);
    const left = await allowance(reader, { owner, spender: market.address });
    if (left < needed) {
      budget = new AuditBudgetExhaustedError({ needed, left });
      for (const { deal, answered } of toChallenge) {
        outcomes.push({ ...deal, kind: "skipped", reason: budget.shortMessage, answered });
      }
    } else {
      const tx = await challengeDeals(sender, { dealIds: toChallenge.map((c) => c.deal.dealId), bondPayer: owner });
      parameters.onTransaction?.("challenge", tx);
      const receipt = await waitForSuccess(reader, {
        hash: tx,
        what: "Challenging the file's deals",
        ...(signal ? { signal } : {}),
      });
      // Every challenge of one transaction shares its seed block.
      const [challenged] = parseEventLogs({
        abi: market.abi,
        logs: receipt.logs,
        eventName: "AuditChallenged",
        strict: true,
      });
      const seedBlock = challenged?.args.seedBlock ?? receipt.blockNumber + 1n;
      for (const { deal, info, answered } of toChallenge) {
        outcomes.push({ ...deal, kind: "challenged", tx, bond: info.challengeBond, answered });
        toFix.push(deal.dealId);
      }
      await untilMined(reader, seedBlock, signal);
    }
  }
  await fixSeeds(parts, toFix, parameters.onTransaction, signal);
  return { outcomes, ...(budget ? { budget } : {}) };
}

/** An audit already open: the penalty once its window passed, its seed fixed once it can be, else still open. */
async function settleOpen(
  parts: AuditDealsParts,
  deal: AuditedDeal,
  audit: OpenAudit,
  now: bigint,
  answered: number,
  toFix: bigint[],
  onTransaction?: (what: AuditTransaction, tx: Hash) => void,
): Promise<AuditOutcome> {
  if (audit.deadline === 0n) {
    const latest = await getBlockNumber(parts.reader, { cacheTime: 0 });
    if (latest >= audit.seedBlock) toFix.push(deal.dealId);
    return { ...deal, kind: "open", deadline: 0n, answered };
  }
  if (now <= audit.deadline) return { ...deal, kind: "open", deadline: audit.deadline, answered };
  const tx = await finalizeMissedAudit(parts.sender, { dealId: deal.dealId });
  onTransaction?.("penalty", tx);
  const receipt = await waitForSuccess(parts.reader, { hash: tx, what: "Finalizing a missed audit" });
  const market = deployedContract(parts.reader.chain, "StorageMarket");
  const [missed] = parseEventLogs({ abi: market.abi, logs: receipt.logs, eventName: "AuditMissed", strict: true });
  return {
    ...deal,
    kind: "missed",
    tx,
    collateral: missed?.args.collateral ?? 0n,
    refund: missed?.args.refund ?? 0n,
    hostPayment: missed?.args.hostPayment ?? 0n,
    bondReturned: missed?.args.bondReturned ?? 0n,
    answered,
  };
}

/**
 * Fixes the seeds still unfixed among `dealIds` in one transaction. A host may fix its own (and even answer) first:
 * the seeds are read again just before, and again after each transaction that lost such a race.
 */
async function fixSeeds(
  parts: AuditDealsParts,
  dealIds: readonly bigint[],
  onTransaction?: (what: AuditTransaction, tx: Hash) => void,
  signal?: AbortSignal,
): Promise<void> {
  const unfixed = async () => {
    const left: bigint[] = [];
    for (const dealId of dealIds) if ((await openAudit(parts.reader, dealId))?.deadline === 0n) left.push(dealId);
    return left;
  };
  // Each race lost means a host fixed a seed meanwhile: at most one more attempt per deal.
  for (let attempt = 0; ; attempt++) {
    const left = await unfixed();
    if (left.length === 0) return;
    try {
      const tx = await fixAuditSeeds(parts.sender, { dealIds: left });
      onTransaction?.("fix seeds", tx);
      await waitForSuccess(parts.reader, { hash: tx, what: "Fixing the audits' seeds", ...(signal ? { signal } : {}) });
      return;
    } catch (error) {
      signal?.throwIfAborted();
      // A host fixed its own seed (or answered) first, before the call or in the same block (the transaction then
      // reverts): what is left unfixed is sent again; a failure that leaves no seed unfixed did no harm.
      const still = await unfixed();
      if (still.length === 0) return;
      const name = revertOf(error)?.errorName;
      const raced =
        name === "StorageMarketAuditSeedAlreadyFixed" ||
        name === "StorageMarketNoOpenAudit" ||
        still.length < left.length;
      if (raced && attempt < dealIds.length) continue;
      throw error;
    }
  }
}

/** How many audits of the deal its host answered (its `AuditAnswered` events). */
async function answeredAudits(reader: TabulaClient, dealId: bigint): Promise<number> {
  const market = deployedContract(reader.chain, "StorageMarket");
  const events = await getContractEvents(reader, {
    address: market.address,
    abi: market.abi,
    eventName: "AuditAnswered",
    args: { dealId },
    fromBlock: 0n,
    strict: true,
  });
  return events.length;
}

/** Resolves once the seed block is mined: a transaction sent now lands after it and can read its hash. */
async function untilMined(reader: TabulaClient, seedBlock: bigint, signal?: AbortSignal): Promise<void> {
  while ((await getBlockNumber(reader, { cacheTime: 0 })) < seedBlock) await sleep(SEED_POLL_MS, signal);
}
