import type { Hex } from "viem";
import { BaseError } from "../../lib/errors.ts";
import type { RevertMappers } from "../write.ts";

/** The hash-chain channel's time does not allow what was asked: redeeming after expiry, reclaiming before. */
export class HashChainExpiryError extends BaseError {
  override name = "HashChainExpiryError";
  readonly channelId: Hex;
  constructor(parameters: { channelId: Hex; what: string; expiresAt: bigint; cause?: unknown }) {
    super(`Hash-chain channel ${parameters.channelId}: ${parameters.what} (it expires at ${parameters.expiresAt}).`, {
      details: "Refresh the money screen: it shows what the channel allows now.",
      cause: parameters.cause,
    });
    this.channelId = parameters.channelId;
  }
}

/** The hash-chain channel was redeemed or reclaimed already. */
export class HashChainClosedError extends BaseError {
  override name = "HashChainClosedError";
  constructor(parameters: { channelId: Hex; cause?: unknown }) {
    super(`Hash-chain channel ${parameters.channelId} was redeemed or reclaimed already.`, {
      details: "Nothing is left in it; the money screen shows where its tokens went.",
      cause: parameters.cause,
    });
  }
}

/** Reverts of the HashChainChannel that a user can act on, as named errors. */
export const hashChainErrors: RevertMappers = {
  HashChainChannelExpired: ([channelId, expiresAt], cause) =>
    new HashChainExpiryError({
      channelId: channelId as Hex,
      what: "it expired, so only the payer may take its deposit back",
      expiresAt: expiresAt as bigint,
      cause,
    }),
  HashChainChannelNotExpired: ([channelId, expiresAt], cause) =>
    new HashChainExpiryError({
      channelId: channelId as Hex,
      what: "the payee may still redeem, so the deposit comes back only after expiry",
      expiresAt: expiresAt as bigint,
      cause,
    }),
  HashChainChannelClosed: ([channelId], cause) => new HashChainClosedError({ channelId: channelId as Hex, cause }),
};
