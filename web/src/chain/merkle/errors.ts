import type { Hex } from "viem";
import { PaymentExpiryError } from "../payments/errors.ts";
import type { RevertMappers } from "../write.ts";

/** Reverts of the MerkleChannel that a user can act on, as named errors. */
export const merkleErrors: RevertMappers = {
  MerkleChannelExpired: ([channelId, expiresAt], cause) =>
    new PaymentExpiryError({
      channelId: channelId as Hex,
      what: "it expired, so only the payer may take back what is left",
      expiresAt: expiresAt as bigint,
      cause,
      kind: "Merkle channel",
    }),
  MerkleChannelNotExpired: ([channelId, expiresAt], cause) =>
    new PaymentExpiryError({
      channelId: channelId as Hex,
      what: "the payee may still redeem, so what is left comes back only after expiry",
      expiresAt: expiresAt as bigint,
      cause,
      kind: "Merkle channel",
    }),
};
