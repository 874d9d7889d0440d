/**
 * A paid file's deals after the upload: a reload finishes what a closed tab left (σ it holds submitted, every other
 * proposal of the file cancelled, its escrow back), and ending a file early ends all its deals in one transaction
 * (each host paid up to now, the rest refunded). The chain is the record: the file's `DealProposed` events list
 * every deal this wallet proposed for it, whatever this browser remembers.
 */
import { type Account, type Address, bytesToHex, type Hash, isAddressEqual, parseEventLogs } from "viem";
import { getBlock } from "viem/actions";
import { deployedContract } from "../../chain/chain.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { acceptDealsSync } from "../../chain/market/accept-deals.ts";
import { cancelProposals } from "../../chain/market/cancel-proposals.ts";
import { DealStatus, dealInfo } from "../../chain/market/deal-info.ts";
import { endDeals } from "../../chain/market/end-deals.ts";
import { type FileDeal, fileDeals } from "../../chain/market/file-deals.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { asCid } from "../../lib/cid.ts";
import type { Placement, PlacementDeal } from "../network/placements.ts";
import type { DealTransaction } from "./paid-upload.ts";

/** σ is submitted on reload only while its deal has at least this long left before `acceptBy`. */
export const RESUME_ACCEPT_MARGIN_SECONDS = 120n;

export interface SettleFileParts {
  reader: TabulaClient;
  payer: TabulaClient<Account>;
}

export interface ResumeFileDealsReturnType {
  /** Placements whose σ was submitted now, with their deal's acceptance. */
  accepted: Placement[];
  /** Proposals of the file that no σ could start, cancelled with their escrow back. */
  cancelled: bigint[];
  transactions: DealTransaction[];
}

/**
 * Finishes a paid upload a closed tab left half done: submits in one transaction the σ this browser kept for deals
 * still waiting, and cancels in one transaction every other proposal this wallet made for the file.
 */
export async function resumeFileDeals(
  parts: SettleFileParts,
  parameters: { manifestCid: string; placements: readonly Placement[]; proposed?: readonly FileDeal[] },
): Promise<ResumeFileDealsReturnType> {
  const { reader, payer } = parts;
  const proposed = parameters.proposed ?? (await openProposals(parts, parameters.manifestCid));
  const transactions: DealTransaction[] = [];
  if (proposed.length === 0) return { accepted: [], cancelled: [], transactions };
  const now = (await getBlock(reader)).timestamp;
  const waiting = new Set(
    proposed.filter((d) => d.terms.acceptBy >= now + RESUME_ACCEPT_MARGIN_SECONDS).map((d) => d.dealId),
  );
  const withSigma = parameters.placements.filter(
    (p) => p.deal?.sigma && !p.deal.acceptTx && waiting.has(p.deal.id) && p.status === "live",
  );
  let accepted: Placement[] = [];
  if (withSigma.length > 0) {
    const { receipt, deals } = await acceptDealsSync(payer, {
      receipts: withSigma.map((p) => ({
        dealId: (p.deal as PlacementDeal).id,
        signature: bytesToHex((p.deal as PlacementDeal).sigma as Uint8Array),
      })),
    });
    transactions.push({ what: "accept", hash: receipt.transactionHash, dealIds: deals.map((d) => d.dealId) });
    const ends = new Map(deals.map((d) => [d.dealId, Number(d.endsAt)]));
    accepted = withSigma.map((p) => {
      const deal = p.deal as PlacementDeal;
      const endsAtS = ends.get(deal.id);
      return {
        ...p,
        deal: { ...deal, acceptTx: receipt.transactionHash, ...(endsAtS === undefined ? {} : { endsAtS }) },
      };
    });
  }
  const started = new Set(accepted.map((p) => (p.deal as PlacementDeal).id));
  const cancelled = proposed.map((d) => d.dealId).filter((id) => !started.has(id));
  if (cancelled.length > 0) {
    const hash = await cancelProposals(payer, { dealIds: cancelled });
    await waitForSuccess(reader, { hash, what: "Cancelling the file's unused proposals" });
    transactions.push({ what: "cancel", hash, dealIds: cancelled });
  }
  return { accepted, cancelled, transactions };
}

/** The file's proposals this wallet made that no σ started yet (their escrow still held by the market). */
export async function openProposals(parts: SettleFileParts, manifestCid: string): Promise<FileDeal[]> {
  const deals = await fileDeals(parts.reader, { manifestCid: bytesToHex(asCid(manifestCid).bytes) });
  return deals.filter((d) => d.status === "Proposed" && isAddressEqual(d.client, parts.payer.account.address));
}

export interface EndFileDealsReturnType {
  hash?: Hash;
  /** Deals ended now. */
  ended: bigint[];
  /** Paid to the hosts for the time kept, and refunded to the client, summed over the deals (token base units). */
  hostPayments: bigint;
  refund: bigint;
}

/**
 * Ends every running deal of a file early in one transaction (its placements' accepted deals, and `dealIds`): each
 * host is paid up to now and the client gets the rest of the escrow back (pro rata), with each open audit's bond
 * returned. Deals no longer running are left out; nothing is sent when none is.
 */
export async function endFileDeals(
  parts: SettleFileParts & { owner?: Address },
  parameters: { placements: readonly Placement[]; dealIds?: readonly bigint[] },
): Promise<EndFileDealsReturnType> {
  const { reader, payer } = parts;
  // The client, or its key authorized for the Client role, sends it; the deals are the owner's.
  const client = parts.owner ?? payer.account.address;
  const ids = [
    ...new Set([
      ...parameters.placements.flatMap((p) => (p.deal?.acceptTx ? [p.deal.id] : [])),
      ...(parameters.dealIds ?? []),
    ]),
  ];
  const running: bigint[] = [];
  for (const id of ids) {
    const info = await dealInfo(reader, id);
    if (info.status === DealStatus.Active && isAddressEqual(info.client, client)) running.push(id);
  }
  if (running.length === 0) return { ended: [], hostPayments: 0n, refund: 0n };
  const hash = await endDeals(payer, { dealIds: running });
  const receipt = await waitForSuccess(reader, { hash, what: "Ending the file's deals" });
  const market = deployedContract(reader.chain, "StorageMarket");
  const events = parseEventLogs({ abi: market.abi, logs: receipt.logs, eventName: "DealEnded", strict: true });
  return {
    hash,
    ended: events.map((e) => e.args.dealId),
    hostPayments: events.reduce((sum, e) => sum + e.args.hostPayment, 0n),
    refund: events.reduce((sum, e) => sum + e.args.refund, 0n),
  };
}
