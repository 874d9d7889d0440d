/**
 * What a paid transfer costs in each scheme. The bandwidth channel pays for bytes (its units carry the byte count);
 * the hash chain, Merkle tokens and lottery tickets pay per unit of data, one MB (10^6 bytes), the last one whole
 * even when the transfer ends inside it. A payer pays a unit once it received (and wrote) all of its bytes. A
 * lottery ticket is worth one MB's price in expectation: it wins the whole lot with one chance in the lot's size.
 */
import { type Address, bytesToHex, type Hex } from "viem";
import { getBlock } from "viem/actions";
import type { TabulaClient } from "../../chain/client.ts";
import { balanceOf } from "../../chain/token/balance-of.ts";
import { randomBytes } from "../../lib/bytes.ts";
import { BYTES_PER_MB } from "../../lib/payments/bandwidth.ts";
import { MAX_CHAIN_LENGTH } from "../../lib/payments/hashchain.ts";
import { lotDeposit } from "../../lib/payments/lottery.ts";
import { MAX_MERKLE_PROOF_NODES, type PaymentScheme, type PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import { InsufficientFundsError } from "../deals/errors.ts";
import { TransferTooLargeError } from "./errors.ts";

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

/**
 * The most `totalBytes` cost at `terms` in `scheme` (rounded up): for a lottery, what its tickets are worth in
 * expectation.
 */
export function transferCost(
  terms: Pick<PaymentTerms, "pricePerMB">,
  totalBytes: bigint,
  scheme: PaymentScheme = "bandwidth",
): bigint {
  if (scheme === "bandwidth") return (totalBytes * terms.pricePerMB + BYTES_PER_MB - 1n) / BYTES_PER_MB;
  return unitsFor(totalBytes) * terms.pricePerMB;
}

/** Tickets a new lottery lot holds at least: a lot serves the transfers to one payee until it is full. */
export const LOT_TICKETS = 100;

/** Tickets of the lot a transfer of `totalBytes` opens: at least {@link LOT_TICKETS}, and all its MB. */
export function lotTicketsFor(totalBytes: bigint, lotTickets: number = LOT_TICKETS): number {
  return Math.max(Number(unitsFor(totalBytes)), lotTickets);
}

/**
 * What accepting `totalBytes` at `terms` locks in `scheme`: the cost, but for a lottery a new lot's value, its fine
 * and the payee's cover (three lot values), which come back after the draw less the lot if the payee wins it.
 */
export function transferDeposit(
  terms: Pick<PaymentTerms, "pricePerMB">,
  totalBytes: bigint,
  scheme: PaymentScheme = "bandwidth",
  lotTickets: number = LOT_TICKETS,
): bigint {
  if (scheme !== "lottery") return transferCost(terms, totalBytes, scheme);
  return lotDeposit(lotTicketsFor(totalBytes, lotTickets), terms.pricePerMB, 1);
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
  lotTickets: number = LOT_TICKETS,
): Promise<bigint> {
  return await assertHolds(reader, account, transferDeposit(terms, totalBytes, scheme, lotTickets));
}

/** `deposit`, once `account` holds it; {@link InsufficientFundsError}, naming what is missing, when it holds less. */
export async function assertHolds(reader: TabulaClient, account: Address, deposit: bigint): Promise<bigint> {
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

/** How long a hash chain or Merkle channel stays redeemable: the payee's time to redeem before the payer reclaims. */
export const UNIT_LOCK_SECONDS = 2n * 24n * 60n * 60n;
/** How long the permit that funds a payment stays valid. */
export const OPEN_PERMIT_SECONDS = 3600n;

/** Most units one lock holds: a hash chain's deepest redemption fits a transaction, every Merkle proof a message. */
export const MAX_UNITS = { "hash-chain": MAX_CHAIN_LENGTH, merkle: 2 ** MAX_MERKLE_PROOF_NODES } as const;

/** {@link TransferTooLargeError} when `totalBytes` need more units than one lock of `scheme` holds. */
export function assertFits(scheme: PaymentScheme, totalBytes: bigint): void {
  if (scheme !== "hash-chain" && scheme !== "merkle") return;
  const max = BigInt(MAX_UNITS[scheme]);
  if (unitsFor(totalBytes) > max) {
    throw new TransferTooLargeError({
      scheme: scheme === "merkle" ? "Merkle" : "hash chain",
      maxBytes: max * UNIT_BYTES,
    });
  }
}

/**
 * The terms of a lock paying one unit per MB of `totalBytes` in `scheme`: its units, a fresh salt, its expiry and
 * its permit's deadline (chain time). {@link TransferTooLargeError} past the scheme's units, and
 * {@link InsufficientFundsError} when the owner holds too little; nothing is signed or sent either way.
 */
export async function unitLockTerms(
  reader: TabulaClient,
  parameters: { owner: Address; terms: PaymentTerms; totalBytes: bigint; scheme: "hash-chain" | "merkle" },
): Promise<{ units: bigint; salt: Hex; expiresAt: bigint; deadline: bigint }> {
  const { owner, terms, totalBytes, scheme } = parameters;
  assertFits(scheme, totalBytes);
  await assertCanPay(reader, owner, terms, totalBytes, scheme);
  const now = (await getBlock(reader)).timestamp;
  return {
    units: unitsFor(totalBytes),
    salt: bytesToHex(randomBytes(32)),
    expiresAt: now + UNIT_LOCK_SECONDS,
    deadline: now + OPEN_PERMIT_SECONDS,
  };
}
