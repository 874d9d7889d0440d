import type { Hex } from "viem";
import { BaseError } from "../../lib/errors.ts";

/**
 * A hash chain's or Merkle channel's time does not allow what was asked: redeeming after expiry, reclaiming
 * before.
 */
export class PaymentExpiryError extends BaseError {
  override name = "PaymentExpiryError";
  readonly channelId: Hex;
  constructor(parameters: {
    channelId: Hex;
    what: string;
    expiresAt: bigint;
    cause?: unknown;
    kind: "Hash chain" | "Merkle channel";
  }) {
    super(`${parameters.kind} ${parameters.channelId}: ${parameters.what} (it expires at ${parameters.expiresAt}).`, {
      details: "Refresh the money screen: it shows what the channel allows now.",
      cause: parameters.cause,
    });
    this.channelId = parameters.channelId;
  }
}
