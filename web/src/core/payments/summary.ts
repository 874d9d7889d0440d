/**
 * What the money screen adds up over a tab's channels: per scheme, what this tab holds locked as payer, what it
 * paid and what it earned, and how many channels still need something (open, closing or expired).
 */
import type { ChannelRecord, TransferScheme } from "./transfer-payments.ts";

export interface SchemeTotals {
  scheme: TransferScheme;
  /** Deposits of the payer's channels that are not over yet: what may still come back or be paid. */
  locked: bigint;
  paid: bigint;
  earned: bigint;
  /** Channels not settled, redeemed or reclaimed yet. */
  pending: number;
}

const OVER = new Set(["Settled", "Reclaimed", "Redeemed", "None"]);
/** A lot's fine and cover stay locked after its winner is paid, until its payer takes them back. */
const LOT_OVER = new Set(["Finished", "None"]);

/** Totals per scheme, in the order the schemes first appear in `channels`. */
export function moneyTotals(channels: readonly ChannelRecord[]): SchemeTotals[] {
  const totals = new Map<TransferScheme, SchemeTotals>();
  for (const channel of channels) {
    const scheme = channel.scheme ?? "bandwidth";
    const total = totals.get(scheme) ?? { scheme, locked: 0n, paid: 0n, earned: 0n, pending: 0 };
    const over = (scheme === "lottery" ? LOT_OVER : OVER).has(channel.status);
    if (!over) total.pending += 1;
    if (channel.role === "payer") {
      total.paid += channel.amount;
      if (!over) total.locked += channel.deposit - channel.amount;
    } else {
      total.earned += channel.amount;
    }
    totals.set(scheme, total);
  }
  return [...totals.values()];
}
