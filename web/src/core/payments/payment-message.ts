import { hexToBigInt } from "viem";
import { PaymentRefusedError } from "../../p2p/protocols/common/errors.ts";
import {
  decodeBandwidthMessage,
  decodeHashChainMessage,
  decodeLotteryMessage,
  decodeMerkleMessage,
  type PaymentScheme,
} from "../../p2p/protocols/pay/index.ts";
import type { Payment } from "../../p2p/protocols/transfer/index.ts";

/**
 * The message of `type` that `payment` carries in `scheme`; {@link PaymentRefusedError} for anything else (another
 * scheme, a malformed message, another type), so a payee never acts on what it cannot read.
 */
export function paymentMessage<M extends { type: string }, T extends M["type"]>(
  payment: Payment,
  scheme: PaymentScheme,
  decode: (bytes: Uint8Array) => M,
  type: T,
): Extract<M, { type: T }> {
  let message: M;
  try {
    if (payment.scheme !== scheme) throw new Error(`scheme ${payment.scheme}`);
    message = decode(payment.data);
  } catch (error) {
    throw new PaymentRefusedError("the payment message is malformed", { cause: error });
  }
  if (message.type !== type) throw new PaymentRefusedError(`expected a "${type}" message, got "${message.type}"`);
  return message as Extract<M, { type: T }>;
}

/** The channel (or lot) a session's opening payment names, as its number; `undefined` for one it cannot read. */
export function openedChannel(opening: Payment): bigint | undefined {
  try {
    switch (opening.scheme) {
      case "bandwidth": {
        const message = decodeBandwidthMessage(opening.data);
        return message.type === "open" ? message.channelId : undefined;
      }
      case "hash-chain": {
        const message = decodeHashChainMessage(opening.data);
        return message.type === "open" ? hexToBigInt(message.channelId) : undefined;
      }
      case "merkle": {
        const message = decodeMerkleMessage(opening.data);
        return message.type === "open" ? hexToBigInt(message.channelId) : undefined;
      }
      case "lottery": {
        const message = decodeLotteryMessage(opening.data);
        return message.type === "open" ? message.lotId : undefined;
      }
      default:
        return undefined;
    }
  } catch {
    return undefined;
  }
}
