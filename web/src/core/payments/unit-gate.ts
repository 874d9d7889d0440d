/**
 * The sending side's gate for the schemes that pay one unit per MB (hash chain, Merkle tokens, lottery tickets): bytes go only up
 * to what the units received pay for plus the credit, and when none comes for the payment timeout, sending stops
 * with the error that says why. The payee answers no payment.
 */
import { PaymentStoppedError } from "../../p2p/protocols/common/errors.ts";
import type { PayeeGate, Payment } from "../../p2p/protocols/transfer/index.ts";
import { MAX_CREDIT_BYTES } from "./bandwidth-payee.ts";
import { bytesPaid } from "./cost.ts";
import { PaymentSignal } from "./payment-signal.ts";

/** What a unit gate keeps of one receiver's payment. */
export interface UnitSession {
  totalBytes: bigint;
  /** End of what was sent. */
  sent: bigint;
  payments: PaymentSignal;
}

export function unitSession(totalBytes: bigint): UnitSession {
  return { totalBytes, sent: 0n, payments: new PaymentSignal() };
}

export function unitGate(
  session: UnitSession,
  parts: {
    /** Units the payer paid so far. */
    paidUnits: () => bigint;
    /** Checks and keeps one payment; throws PaymentRefusedError on one it refuses. */
    take: (payment: Payment) => void | Promise<void>;
    timeoutMs: number;
    onStopped: (error: PaymentStoppedError) => void;
    onChange: () => void;
  },
): PayeeGate {
  const paidBytes = () => bytesPaid(parts.paidUnits(), session.totalBytes);
  return {
    allow: async (end, signal) => {
      const target = BigInt(end);
      if (target <= session.sent) return;
      await session.payments.until(() => target <= paidBytes() + MAX_CREDIT_BYTES, {
        timeoutMs: parts.timeoutMs,
        signal,
        stopped: () => {
          const error = new PaymentStoppedError({ paidBytes: paidBytes(), waitedMs: parts.timeoutMs });
          parts.onStopped(error);
          return error;
        },
      });
      session.sent = target;
      parts.onChange();
    },
    receive: async (payment) => {
      await parts.take(payment);
      session.payments.notify();
      parts.onChange();
      return undefined;
    },
    paid: (end) => paidBytes() >= BigInt(end),
  };
}
