import type { Address } from "viem";
import { formatExactAmount } from "../../lib/amounts.ts";
import { BaseError } from "../../lib/errors.ts";

/** A deal's price is below what its host asks now (its `quote`). */
export class DealPriceTooLowError extends BaseError {
  override name = "DealPriceTooLowError";
  readonly offered: bigint;
  readonly required: bigint;
  constructor(parameters: { offered: bigint; required: bigint; cause?: unknown }) {
    super(`A host asks ${parameters.required} token units for this shard; the deal offered ${parameters.offered}.`, {
      details: "The host raised its price since the quote: quote the file again, then confirm the new total.",
      cause: parameters.cause,
    });
    this.offered = parameters.offered;
    this.required = parameters.required;
  }
}

/** A host takes deals only from clients it authorized, and this client is not one of them. */
export class ClientNotAuthorizedError extends BaseError {
  override name = "ClientNotAuthorizedError";
  readonly host: Address;
  readonly client: Address;
  constructor(parameters: { host: Address; client: Address; cause?: unknown }) {
    super(`Host ${parameters.host} has not authorized ${parameters.client} to store with it.`, {
      details: "Choose another host, or ask this one to authorize your address.",
      cause: parameters.cause,
    });
    this.host = parameters.host;
    this.client = parameters.client;
  }
}

/** σ came after the deadline in the deal's terms: the proposal can only be cancelled now. */
export class ReceiptExpiredError extends BaseError {
  override name = "ReceiptExpiredError";
  readonly dealId: bigint;
  readonly acceptBy: bigint;
  constructor(parameters: { dealId: bigint; acceptBy: bigint; cause?: unknown }) {
    super(
      `Deal ${parameters.dealId} had to be accepted by ${new Date(Number(parameters.acceptBy) * 1000).toISOString()}.`,
      {
        details: "Cancel the proposal to get its escrow back, then propose the shard again.",
        cause: parameters.cause,
      },
    );
    this.dealId = parameters.dealId;
    this.acceptBy = parameters.acceptBy;
  }
}

/** σ was not signed by the deal's host or an operator key the host authorized for hosting. */
export class InvalidReceiptError extends BaseError {
  override name = "InvalidReceiptError";
  readonly dealId: bigint;
  readonly signer: Address;
  constructor(parameters: { dealId: bigint; signer: Address; cause?: unknown }) {
    super(`The receipt for deal ${parameters.dealId} was signed by ${parameters.signer}, who does not host it.`, {
      details: "Do not trust this host's answer: cancel the proposal and place the shard elsewhere.",
      cause: parameters.cause,
    });
    this.dealId = parameters.dealId;
    this.signer = parameters.signer;
  }
}

/** The host's stake that no deal has locked cannot back the collateral of another deal. */
export class InsufficientFreeStakeError extends BaseError {
  override name = "InsufficientFreeStakeError";
  readonly host: Address;
  readonly freeStake: bigint;
  readonly required: bigint;
  constructor(parameters: { host: Address; freeStake: bigint; required: bigint; cause?: unknown }) {
    super(
      `Host ${parameters.host} has ${formatExactAmount(parameters.freeStake)} TAB of free stake; it needs ${formatExactAmount(parameters.required)} TAB.`,
      { details: "The host must add stake, or the shard goes to another host.", cause: parameters.cause },
    );
    this.host = parameters.host;
    this.freeStake = parameters.freeStake;
    this.required = parameters.required;
  }
}

/** A host's stake is below the market's minimum, so it cannot register or take deals. */
export class InsufficientStakeError extends BaseError {
  override name = "InsufficientStakeError";
  readonly host: Address;
  readonly stake: bigint;
  readonly minStake: bigint;
  constructor(parameters: { host: Address; stake: bigint; minStake: bigint; cause?: unknown }) {
    super(
      `Host ${parameters.host} would stake ${formatExactAmount(parameters.stake)} TAB; the market asks for at least ${formatExactAmount(parameters.minStake)} TAB.`,
      { details: "Stake at least the minimum, or offer free storage instead.", cause: parameters.cause },
    );
    this.host = parameters.host;
    this.stake = parameters.stake;
    this.minStake = parameters.minStake;
  }
}

/** Stake being unbonded can be withdrawn only after the unbonding delay. */
export class UnbondingNotReadyError extends BaseError {
  override name = "UnbondingNotReadyError";
  readonly host: Address;
  readonly readyAt: bigint;
  constructor(parameters: { host: Address; readyAt: bigint; cause?: unknown }) {
    super(
      `Host ${parameters.host}'s unbonding stake is withdrawable from ${new Date(Number(parameters.readyAt) * 1000).toISOString()}.`,
      { details: "Withdraw it after that time.", cause: parameters.cause },
    );
    this.host = parameters.host;
    this.readyAt = parameters.readyAt;
  }
}

/** None of the deals has proven earnings left to claim. */
export class NothingToClaimError extends BaseError {
  override name = "NothingToClaimError";
  constructor(parameters: { cause?: unknown } = {}) {
    super("These deals have no proven earnings left to claim.", {
      details: "Earnings are released by answered audits and by deals that ended or completed.",
      cause: parameters.cause,
    });
  }
}

/** The account is neither the owner nor an operator key the owner authorized (still valid) for this role. */
export class NotOperatorError extends BaseError {
  override name = "NotOperatorError";
  readonly owner: Address;
  readonly account: Address;
  readonly role: number;
  constructor(parameters: { owner: Address; account: Address; role: number; cause?: unknown }) {
    super(`${parameters.account} may not act for ${parameters.owner} here.`, {
      details: "Authorize this tab's key again from the owner's wallet (it was revoked, expired or never set).",
      cause: parameters.cause,
    });
    this.owner = parameters.owner;
    this.account = parameters.account;
    this.role = parameters.role;
  }
}

/** The answer window of a deal's audit has passed: the host can no longer prove it, and the audit is missed. */
export class AuditWindowClosedError extends BaseError {
  override name = "AuditWindowClosedError";
  readonly dealId: bigint;
  readonly deadline: bigint;
  constructor(parameters: { dealId: bigint; deadline: bigint; cause?: unknown }) {
    super(
      `The audit of deal ${parameters.dealId} had to be answered by ${new Date(Number(parameters.deadline) * 1000).toISOString()}.`,
      {
        details: "The audit is missed: its collateral goes to the client when anyone finalizes it.",
        cause: parameters.cause,
      },
    );
    this.dealId = parameters.dealId;
    this.deadline = parameters.deadline;
  }
}

/** The block whose hash draws the audited leaf is no longer readable: the challenge can only lapse now. */
export class AuditSeedExpiredError extends BaseError {
  override name = "AuditSeedExpiredError";
  readonly dealId: bigint;
  readonly seedBlock: bigint;
  constructor(parameters: { dealId: bigint; seedBlock: bigint; cause?: unknown }) {
    super(`The seed block ${parameters.seedBlock} of deal ${parameters.dealId}'s audit is too old to read.`, {
      details:
        "Fix an audit's seed within 256 blocks of its challenge; this challenge lapses and its bond goes to the host.",
      cause: parameters.cause,
    });
    this.dealId = parameters.dealId;
    this.seedBlock = parameters.seedBlock;
  }
}

/** The chunk or its proof does not match the deal's shard root: the host does not hold the shard it was paid for. */
export class InvalidAuditProofError extends BaseError {
  override name = "InvalidAuditProofError";
  readonly dealId: bigint;
  readonly leafIndex: bigint;
  constructor(parameters: { dealId: bigint; leafIndex: bigint; cause?: unknown }) {
    super(`Chunk ${parameters.leafIndex} of deal ${parameters.dealId} does not match the shard's root.`, {
      details: "The stored shard is damaged: it cannot be proven, and the deal's audit will be missed.",
      cause: parameters.cause,
    });
    this.dealId = parameters.dealId;
    this.leafIndex = parameters.leafIndex;
  }
}

/** Only a deal's client (or its client operator) may do this. */
export class NotDealClientError extends BaseError {
  override name = "NotDealClientError";
  readonly dealId: bigint;
  readonly account: Address;
  constructor(parameters: { dealId: bigint; account: Address; cause?: unknown }) {
    super(`${parameters.account} is not the client of deal ${parameters.dealId}.`, {
      details: "Use the wallet that stored the file, or a key it authorized as its client operator.",
      cause: parameters.cause,
    });
    this.dealId = parameters.dealId;
    this.account = parameters.account;
  }
}
