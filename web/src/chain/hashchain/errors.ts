import type { Hex } from "viem";
import { BaseError } from "../../lib/errors.ts";
import { PaymentExpiryError } from "../payments/errors.ts";
import type { RevertMappers } from "../write.ts";

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
    new PaymentExpiryError({
      channelId: channelId as Hex,
      what: "it expired, so only the payer may take its deposit back",
      expiresAt: expiresAt as bigint,
      cause,
      kind: "Hash chain",
    }),
  HashChainChannelNotExpired: ([channelId, expiresAt], cause) =>
    new PaymentExpiryError({
      channelId: channelId as Hex,
      what: "the payee may still redeem, so the deposit comes back only after expiry",
      expiresAt: expiresAt as bigint,
      cause,
      kind: "Hash chain",
    }),
  HashChainChannelClosed: ([channelId], cause) => new HashChainClosedError({ channelId: channelId as Hex, cause }),
};
