/**
 * What a paid transfer costs in each scheme. The bandwidth channel pays for bytes (its units carry the byte count);
 * the hash chain, Merkle tokens and lottery tickets pay per unit of data, one MB (10^6 bytes), the last one whole
 * even when the transfer ends inside it. A payer pays a unit once it received (and wrote) all of its bytes.
 */
import type { Address } from "viem";
import type { TabulaClient } from "../../chain/client.ts";
import { balanceOf } from "../../chain/token/balance-of.ts";
import { BYTES_PER_MB } from "../../lib/payments/bandwidth.ts";
import type { PaymentScheme, PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import { InsufficientFundsError } from "../deals/errors.ts";

/** Bytes one token pays for in the unit schemes. */
export const UNIT_BYTES = BYTES_PER_MB;

/** Units that pay for `totalBytes` (the last one whole). */
export function unitsFor(totalBytes: bigint): bigint {
  return (totalBytes + UNIT_BYTES - 1n) / UNIT_BYTES;
}

/** Units due once the first `received` of `totalBytes` bytes arrived: whole units, and the last one at the end. */
export function unitsDue(received: bigint, totalBytes: bigint): bigint {
  return received >= totalBytes ? unitsFor(totalBytes) : received / UNIT_BYTES;
}

/** Bytes `units` paid for, of `totalBytes`. */
export function bytesPaid(units: bigint, totalBytes: bigint): bigint {
  const bytes = units * UNIT_BYTES;
  return bytes < totalBytes ? bytes : totalBytes;
}

/** The most `totalBytes` cost at `terms` in `scheme`: the deposit it locks (rounded up). */
export function transferCost(
  terms: Pick<PaymentTerms, "pricePerMB">,
  totalBytes: bigint,
  scheme: PaymentScheme = "bandwidth",
): bigint {
  if (scheme === "bandwidth") return (totalBytes * terms.pricePerMB + BYTES_PER_MB - 1n) / BYTES_PER_MB;
  return unitsFor(totalBytes) * terms.pricePerMB;
}

/**
 * The deposit `totalBytes` at `terms` lock in `scheme`; {@link InsufficientFundsError}, naming what is missing, when
 * `account` holds less.
 */
export async function assertCanPay(
  reader: TabulaClient,
  account: Address,
  terms: Pick<PaymentTerms, "pricePerMB">,
  totalBytes: bigint,
  scheme: PaymentScheme = "bandwidth",
): Promise<bigint> {
  const deposit = transferCost(terms, totalBytes, scheme);
  const balance = await balanceOf(reader, { address: account });
  if (balance < deposit) {
    throw new InsufficientFundsError({
      account,
      missingTokens: deposit - balance,
      missingEth: 0n,
      purpose: { what: "these files", retry: "accept them again" },
    });
  }
  return deposit;
}
