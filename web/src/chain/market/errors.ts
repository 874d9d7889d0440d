import type { Address } from "viem";
import { formatAmount } from "../../lib/amounts.ts";
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
      `Host ${parameters.host} has ${formatAmount(parameters.freeStake)} TAB of free stake; the deal needs ${formatAmount(parameters.required)}.`,
      { details: "The host must add stake, or the shard goes to another host.", cause: parameters.cause },
    );
    this.host = parameters.host;
    this.freeStake = parameters.freeStake;
    this.required = parameters.required;
  }
}
