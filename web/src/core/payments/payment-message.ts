import { PaymentRefusedError } from "../../p2p/protocols/common/errors.ts";
import type { PaymentScheme } from "../../p2p/protocols/pay/index.ts";
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
