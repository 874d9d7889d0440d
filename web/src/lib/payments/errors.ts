import { BaseError } from "../errors.ts";

/** A signature is not in the one form the contracts accept, or not by the party it should be from. */
export class PaymentSignatureError extends BaseError {
  override name = "PaymentSignatureError";
  constructor(reason: string, cause?: unknown) {
    super(`Payment signature rejected: ${reason}.`, {
      details: "The other side sent a voucher the contract would refuse; stop serving or paying it and reconnect.",
      cause,
    });
  }
}

/** A usage unit from the other side breaks the channel's rules (wrong channel, order, time or link). */
export class UsageRejectedError extends BaseError {
  override name = "UsageRejectedError";
  constructor(reason: string) {
    super(`Usage unit rejected: ${reason}.`, {
      details: "Stop the transfer and close the channel with the last unit both sides signed.",
    });
  }
}

/** The two sides' byte counts differ by more than the channel's loss tolerance. */
export class UsageDisputeError extends BaseError {
  override name = "UsageDisputeError";
  readonly ownBytes: bigint;
  readonly theirBytes: bigint;
  constructor(ownBytes: bigint, theirBytes: bigint, toleranceBytes: bigint) {
    super(`Usage counts disagree: ours ${ownBytes} B, theirs ${theirBytes} B (tolerance ${toleranceBytes} B).`, {
      details: "Close the channel and submit your own claim; the contract's dispute rule settles it.",
    });
    this.ownBytes = ownBytes;
    this.theirBytes = theirBytes;
  }
}

/** Every token of a hash chain (or every ticket of a lot) has been handed out. */
export class PaymentsExhaustedError extends BaseError {
  override name = "PaymentsExhaustedError";
  constructor(what: string) {
    super(`No ${what} left to pay with.`, { details: "Open a new channel (or lot) to keep paying." });
  }
}

/** A hash-chain token, Merkle token or lottery ticket from the payer does not verify. */
export class PaymentTokenRejectedError extends BaseError {
  override name = "PaymentTokenRejectedError";
  constructor(what: string, reason: string) {
    super(`${what} rejected: ${reason}.`, {
      details: "Do not count it as paid; ask the payer for a valid one or stop serving.",
    });
  }
}
