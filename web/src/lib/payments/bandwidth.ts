/**
 * Off-chain half of the Tachyon bandwidth channel (contracts/BandwidthChannel.sol): both sides count the bytes
 * they move, the payer proposes signed usage units, the payee countersigns those within the loss tolerance, and
 * every 5 MB a unit carries the digest of the other side's last unit. The last unit both signed closes the
 * channel; a side's own unit (with its link) is its claim in a dispute.
 *
 * A side may propose its next unit before the last one came back countersigned: the other side takes units in
 * order, so by the time it reads the next one, its last unit is its countersignature of the one before. A unit
 * therefore links to our last proposal when one is out, and a countersignature settles every proposal up to its own.
 *
 * Units are signed by the keys the channel bound, not by the owners: the payer binds its key when it opens, the
 * payee when it confirms, each the owner itself or (what the tab does) an operator key the owner authorized in the
 * OperatorRegistry. A meter signs with this side's bound key and checks the other side against its bound key.
 */
import { type Address, type Hex, hashTypedData, isAddressEqual, zeroHash } from "viem";
import { assertSignedBy, BANDWIDTH_DOMAIN_NAME, paymentDomain, USAGE_TYPES } from "./eip712.ts";
import { UsageDisputeError, UsageRejectedError } from "./errors.ts";
import { type ContractRef, nowSeconds, type TypedDataSigner, type UnixSeconds } from "./types.ts";

/** Prices are per MB of 10^6 bytes, as in the contract. */
export const BYTES_PER_MB = 1_000_000n;
/** Every this many bytes a unit must link to the other side's last unit (contract: LINK_INTERVAL_BYTES). */
export const LINK_INTERVAL_BYTES = 5n * BYTES_PER_MB;
/** Default bytes a payee serves beyond the last agreed unit before it waits for the next one (at most the tolerance). */
export const DEFAULT_CREDIT_BYTES = BYTES_PER_MB;
/** Most a one-sided claim's sequence may exceed the highest sequence the other side signed (contract constant). */
export const MAX_CLAIM_SEQUENCE_STEP = 2n;
/** Most a unit's time may run ahead of our clock. */
export const MAX_CLOCK_SKEW_SECONDS = 120n;

export type Role = "payer" | "payee";

/** A usage unit, as signed (EIP-712 `Usage`). */
export interface Usage {
  channelId: bigint;
  sequence: bigint;
  totalBytes: bigint;
  time: UnixSeconds;
  link: Hex;
}

/** A unit signed by one side. */
export interface SignedUsage {
  usage: Usage;
  signature: Hex;
}

/** A unit both sides signed: what `close` and `challenge` take. */
export interface AgreedUsage {
  usage: Usage;
  payerSignature: Hex;
  payeeSignature: Hex;
}

/** A side's own claim with the other side's unit it links to: what `submitClaim` takes. */
export interface UsageClaim {
  usage: Usage;
  signature: Hex;
  linked: Usage;
  linkedSignature: Hex;
}

/** The two signing keys a channel bound (`getChannel`'s `payerSigner` and `payeeSigner`). */
export interface BoundSigners {
  payerSigner: Address;
  payeeSigner: Address;
}

/** The key bound to sign `role`'s units on a channel. */
export function boundSigner(channel: BoundSigners, role: Role): Address {
  return role === "payer" ? channel.payerSigner : channel.payeeSigner;
}

/** The other side of `role`. */
export function otherRole(role: Role): Role {
  return role === "payer" ? "payee" : "payer";
}

/** The "nothing used" unit a channel can close with. */
export function emptyUsage(channelId: bigint): AgreedUsage {
  return {
    usage: { channelId, sequence: 0n, totalBytes: 0n, time: 0n, link: zeroHash },
    payerSignature: "0x",
    payeeSignature: "0x",
  };
}

/** The EIP-712 digest both sides sign for `usage`; also the value a later unit links to. */
export function usageDigest(contract: ContractRef, usage: Usage): Hex {
  return hashTypedData({
    domain: paymentDomain(BANDWIDTH_DOMAIN_NAME, contract),
    types: USAGE_TYPES,
    primaryType: "Usage",
    message: usage,
  });
}

/** Whether going from `previousBytes` to `totalBytes` passes a 5 MB mark, so the unit must carry a link. */
export function crossesLinkMark(previousBytes: bigint, totalBytes: bigint): boolean {
  return totalBytes / LINK_INTERVAL_BYTES > previousBytes / LINK_INTERVAL_BYTES;
}

export interface BandwidthMeterOptions {
  role: Role;
  contract: ContractRef;
  channelId: bigint;
  /** The key bound to sign this side's units: the tab's operator key (or the owner's wallet if it bound itself). */
  self: TypedDataSigner;
  /**
   * The key the other side bound to sign its units (`payeeSigner` for a payer, `payerSigner` for a payee; see
   * {@link boundSigner}): its operator key, which is not its owner address unless the owner bound itself.
   */
  counterpartySigner: Address;
  lossToleranceBytes: bigint;
  /**
   * Payee only: bytes served beyond the last agreed unit before waiting. At most the loss tolerance, the most a
   * claim may count above what the payer signed, so a payer that stops countersigning gains at most the tolerance.
   */
  creditBytes?: bigint;
  /** Clock in unix seconds; the chain's clock in tests. */
  now?: () => UnixSeconds;
}

/**
 * One side's view of a bandwidth channel: counts bytes, makes and checks units, and keeps the evidence the
 * contract needs (last agreed unit, last unit of the other side).
 */
export class BandwidthMeter {
  readonly role: Role;
  readonly channelId: bigint;
  readonly #contract: ContractRef;
  readonly #self: TypedDataSigner;
  readonly #counterpartySigner: Address;
  readonly #toleranceBytes: bigint;
  readonly #creditBytes: bigint;
  readonly #now: () => UnixSeconds;
  #measuredBytes = 0n;
  #sequence = 0n;
  #agreed: AgreedUsage;
  #lastOwn: SignedUsage | undefined;
  #lastOther: SignedUsage | undefined;
  /** Our proposals not yet countersigned, oldest first. */
  #pending: SignedUsage[] = [];

  constructor(options: BandwidthMeterOptions) {
    this.role = options.role;
    this.channelId = options.channelId;
    this.#contract = options.contract;
    this.#self = options.self;
    if (isAddressEqual(options.self.address, options.counterpartySigner)) {
      throw new RangeError("one key cannot sign both sides of a channel");
    }
    this.#counterpartySigner = options.counterpartySigner;
    this.#toleranceBytes = options.lossToleranceBytes;
    this.#creditBytes = options.creditBytes ?? minBigInt(DEFAULT_CREDIT_BYTES, options.lossToleranceBytes);
    if (this.#creditBytes > this.#toleranceBytes) {
      throw new RangeError(
        `creditBytes must be at most the loss tolerance ${this.#toleranceBytes} so that a claim stays provable`,
      );
    }
    this.#now = options.now ?? nowSeconds;
    this.#agreed = emptyUsage(options.channelId);
  }

  /** Bytes this side counted (sent plus received). */
  get measuredBytes(): bigint {
    return this.#measuredBytes;
  }

  /** The last unit both sides signed (the empty unit before any). */
  get agreed(): AgreedUsage {
    return this.#agreed;
  }

  /** Highest sequence used so far. */
  get sequence(): bigint {
    return this.#sequence;
  }

  /** Adds bytes this side sent or received on the channel. */
  record(bytes: number | bigint): void {
    const amount = BigInt(bytes);
    if (amount < 0n) throw new RangeError("bytes must not be negative");
    this.#measuredBytes += amount;
  }

  /** Payee: whether `bytes` more may be served before the payer's next unit is needed. */
  canServe(bytes: number | bigint): boolean {
    return this.#measuredBytes + BigInt(bytes) <= this.#agreed.usage.totalBytes + this.#creditBytes;
  }

  /** Our proposals the other side has not countersigned yet, oldest first. */
  get pending(): readonly SignedUsage[] {
    return this.#pending;
  }

  /** The count of our last proposal out, or of the last agreed unit when none is. */
  get proposedBytes(): bigint {
    return (this.#pending.at(-1)?.usage ?? this.#agreed.usage).totalBytes;
  }

  /**
   * Signs a unit with this side's count as the next sequence, to send to the other side for countersigning. It may
   * follow proposals still out: it then counts from, and links to, the last of them.
   */
  async propose(): Promise<SignedUsage> {
    const previous = this.proposedBytes;
    const total = maxBigInt(this.#measuredBytes, previous);
    const usage = this.#unit(total, crossesLinkMark(previous, total));
    const signed = { usage, signature: await this.#sign(usage) };
    this.#sequence = usage.sequence;
    this.#lastOwn = signed;
    this.#pending.push(signed);
    return signed;
  }

  /**
   * Forgets the proposals still out (after a drop that lost them): the next proposal counts from, and links to, the
   * last agreed unit, which is then the other side's last.
   */
  withdrawPending(): void {
    this.#pending = [];
  }

  /**
   * Checks the other side's proposed unit and, if its count is within the loss tolerance of ours, countersigns
   * it. Throws {@link UsageDisputeError} when the counts are further apart (close and claim then).
   */
  async countersign(proposal: SignedUsage): Promise<AgreedUsage> {
    const { usage } = proposal;
    this.#checkIncoming(usage);
    await assertSignedBy(usageDigest(this.#contract, usage), proposal.signature, this.#counterpartySigner);
    this.#lastOther = proposal;
    this.#sequence = usage.sequence;
    const difference =
      usage.totalBytes > this.#measuredBytes
        ? usage.totalBytes - this.#measuredBytes
        : this.#measuredBytes - usage.totalBytes;
    if (difference > this.#toleranceBytes) {
      throw new UsageDisputeError(this.#measuredBytes, usage.totalBytes, this.#toleranceBytes);
    }
    const signature = await this.#sign(usage);
    this.#lastOwn = { usage, signature };
    this.#agreed = this.#pair(usage, proposal.signature, signature, this.role === "payee");
    return this.#agreed;
  }

  /**
   * Takes the other side's countersignature on one of our proposals still out; it settles the earlier ones too.
   */
  async acceptCountersignature(agreed: AgreedUsage): Promise<void> {
    const at = this.#pending.findIndex((unit) => unit.usage.sequence === agreed.usage.sequence);
    const pending = this.#pending[at];
    if (!pending) throw new UsageRejectedError("countersignature for a unit we have no proposal out for");
    const digest = usageDigest(this.#contract, pending.usage);
    if (usageDigest(this.#contract, agreed.usage) !== digest) {
      throw new UsageRejectedError("countersigned unit differs from the one we proposed");
    }
    const theirs = this.role === "payer" ? agreed.payeeSignature : agreed.payerSignature;
    await assertSignedBy(digest, theirs, this.#counterpartySigner);
    this.#lastOther = { usage: pending.usage, signature: theirs };
    this.#agreed = this.#pair(pending.usage, pending.signature, theirs, this.role === "payer");
    this.#pending = this.#pending.slice(at + 1);
  }

  /**
   * This side's own claim for a dispute, linked to the other side's last unit. The contract takes a claim that
   * counts at least the agreed bytes and at most the tolerance above the higher of the agreed and the linked
   * count, at a sequence at most {@link MAX_CLAIM_SEQUENCE_STEP} above theirs: our count is clamped to that
   * range and the sequence is one above theirs.
   */
  async claim(): Promise<UsageClaim> {
    const linked = this.#lastOther;
    if (!linked) throw new UsageRejectedError("no unit of the other side to link a claim to");
    const agreed = this.#agreed.usage;
    const total = claimableBytes(this.#measuredBytes, agreed.totalBytes, linked.usage.totalBytes, this.#toleranceBytes);
    const sequence = maxBigInt(agreed.sequence, linked.usage.sequence) + 1n;
    const link = usageDigest(this.#contract, linked.usage);
    const usage: Usage = { channelId: this.channelId, sequence, totalBytes: total, time: this.#now(), link };
    const signature = await this.#sign(usage);
    this.#sequence = maxBigInt(this.#sequence, sequence);
    this.#lastOwn = { usage, signature };
    return { usage, signature, linked: linked.usage, linkedSignature: linked.signature };
  }

  #unit(totalBytes: bigint, withLink: boolean): Usage {
    // The other side's last unit, when it reads this one: its countersignature of our last proposal, if one is out.
    const last = this.#pending.at(-1) ?? this.#lastOther;
    const link = withLink && last ? usageDigest(this.#contract, last.usage) : zeroHash;
    return { channelId: this.channelId, sequence: this.#sequence + 1n, totalBytes, time: this.#now(), link };
  }

  #checkIncoming(usage: Usage): void {
    if (usage.channelId !== this.channelId) throw new UsageRejectedError(`unit of channel ${usage.channelId}`);
    if (usage.sequence <= this.#sequence) {
      throw new UsageRejectedError(`sequence ${usage.sequence} not above ${this.#sequence}`);
    }
    const previous = this.#agreed.usage;
    if (usage.totalBytes < previous.totalBytes) throw new UsageRejectedError("cumulative count went backwards");
    if (usage.time < previous.time || usage.time > this.#now() + MAX_CLOCK_SKEW_SECONDS) {
      throw new UsageRejectedError(`time ${usage.time} out of order or in the future`);
    }
    if (crossesLinkMark(previous.totalBytes, usage.totalBytes)) {
      const expected = this.#lastOwn ? usageDigest(this.#contract, this.#lastOwn.usage) : zeroHash;
      if (usage.link !== expected)
        throw new UsageRejectedError("missing or wrong link to our last unit at a 5 MB mark");
    }
  }

  #pair(usage: Usage, first: Hex, second: Hex, firstIsPayer: boolean): AgreedUsage {
    return firstIsPayer
      ? { usage, payerSignature: first, payeeSignature: second }
      : { usage, payerSignature: second, payeeSignature: first };
  }

  #sign(usage: Usage): Promise<Hex> {
    return this.#self.signTypedData({
      domain: paymentDomain(BANDWIDTH_DOMAIN_NAME, this.#contract),
      types: USAGE_TYPES,
      primaryType: "Usage",
      message: usage,
    });
  }
}

/** A channel's terms, as the settlement needs them. */
export interface ChannelTerms {
  deposit: bigint;
  pricePerMB: bigint;
  lossToleranceBytes: bigint;
}

/** What the contract knows at settlement: the agreed count and each side's own claim. */
export interface ClosingCounts {
  agreedBytes: bigint;
  payerClaimBytes: bigint;
  payeeClaimBytes: bigint;
}

export interface Settlement {
  paid: bigint;
  refunded: bigint;
  burned: bigint;
  disputed: boolean;
}

/**
 * What a one-sided claim may count on-chain: at least the agreed bytes, at most the tolerance above the higher of
 * the agreed count and the other side's linked unit; `measured` clamped into that range.
 */
export function claimableBytes(measured: bigint, agreedBytes: bigint, linkedBytes: bigint, toleranceBytes: bigint) {
  const ceiling = maxBigInt(agreedBytes, linkedBytes) + toleranceBytes;
  return minBigInt(maxBigInt(measured, agreedBytes), ceiling);
}

/** The price of `totalBytes`, rounded down and capped at the deposit (as the contract computes it). */
export function usageCost(terms: ChannelTerms, totalBytes: bigint): bigint {
  return minBigInt((totalBytes * terms.pricePerMB) / BYTES_PER_MB, terms.deposit);
}

/**
 * The contract's settlement rule: a claim counts at least the agreed bytes; within the tolerance the agreed count
 * is paid; beyond it the payee gets the lower claim, the payer pays the payee's claim and the difference is burned.
 */
export function settleUsage(terms: ChannelTerms, counts: ClosingCounts): Settlement {
  const payer = maxBigInt(counts.payerClaimBytes, counts.agreedBytes);
  const payee = maxBigInt(counts.payeeClaimBytes, counts.agreedBytes);
  const difference = payer > payee ? payer - payee : payee - payer;
  const disputed = difference > terms.lossToleranceBytes;
  const charged = usageCost(terms, disputed ? payee : counts.agreedBytes);
  const paid = disputed ? usageCost(terms, minBigInt(payer, payee)) : charged;
  return { paid, refunded: terms.deposit - charged, burned: charged - paid, disputed };
}

function minBigInt(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

function maxBigInt(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
