import type { Address } from "viem";
import { BaseError } from "../../lib/errors.ts";
import type { RevertMappers } from "../write.ts";

/** The payee already serves as many paid channels as the contract lets one address hold. */
export class PayeeBusyError extends BaseError {
  override name = "PayeeBusyError";
  readonly payee: Address;
  constructor(parameters: { payee: Address; open: bigint; cause?: unknown }) {
    super(`${parameters.payee} already has ${parameters.open} paid channels open, the most one address may hold.`, {
      details: "Try again once one of its transfers has settled, or ask the sender for a free link.",
      cause: parameters.cause,
    });
    this.payee = parameters.payee;
  }
}

/** One side of the channel blacklisted the other, so no channel between them opens. */
export class CounterpartyBlacklistedError extends BaseError {
  override name = "CounterpartyBlacklistedError";
  constructor(parameters: { payer: Address; payee: Address; cause?: unknown }) {
    super(`${parameters.payer} and ${parameters.payee} cannot open a channel: one has blacklisted the other.`, {
      details: "Use another sender, or receive this file for free if the sender offers it.",
      cause: parameters.cause,
    });
  }
}

/** The channel's confirmation or challenge window already ran out for what was asked. */
export class ChannelWindowError extends BaseError {
  override name = "ChannelWindowError";
  readonly channelId: bigint;
  constructor(parameters: { channelId: bigint; what: string; deadline: bigint; cause?: unknown }) {
    super(`Channel ${parameters.channelId}: ${parameters.what} (deadline ${parameters.deadline}).`, {
      details: "Refresh the money screen: it shows what the channel allows now.",
      cause: parameters.cause,
    });
    this.channelId = parameters.channelId;
  }
}

/** Reverts of the BandwidthChannel that a user can act on, as named errors. */
export const bandwidthErrors: RevertMappers = {
  BandwidthChannelPayeeFull: ([payee, open], cause) =>
    new PayeeBusyError({ payee: payee as Address, open: open as bigint, cause }),
  BandwidthChannelBlacklisted: ([payer, payee], cause) =>
    new CounterpartyBlacklistedError({ payer: payer as Address, payee: payee as Address, cause }),
  BandwidthChannelConfirmWindowClosed: ([channelId, deadline], cause) =>
    new ChannelWindowError({
      channelId: channelId as bigint,
      what: "the payee's time to confirm is over",
      deadline: deadline as bigint,
      cause,
    }),
  BandwidthChannelConfirmWindowOpen: ([channelId, deadline], cause) =>
    new ChannelWindowError({
      channelId: channelId as bigint,
      what: "the payee may still confirm, so the deposit comes back only after its deadline",
      deadline: deadline as bigint,
      cause,
    }),
  BandwidthChannelChallengeWindowOpen: ([channelId, deadline], cause) =>
    new ChannelWindowError({
      channelId: channelId as bigint,
      what: "the challenge window is still open",
      deadline: deadline as bigint,
      cause,
    }),
  BandwidthChannelChallengeWindowClosed: ([channelId, deadline], cause) =>
    new ChannelWindowError({
      channelId: channelId as bigint,
      what: "the challenge window is over",
      deadline: deadline as bigint,
      cause,
    }),
};
