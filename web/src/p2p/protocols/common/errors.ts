import { BaseError } from "../../../lib/errors.ts";

/**
 * Errors of the Tabula wire protocols. Each says what went wrong with which peer and what to do; callers that
 * pick hosts branch on the class (a host that sent a bad piece is dropped, a timeout is retried elsewhere).
 */

/** A peer sent bytes that do not decode as a message of the protocol, or a message out of order. */
export class MalformedMessageError extends BaseError {
  override name = "MalformedMessageError";
  readonly protocol: string;
  constructor(protocol: string, reason: string, options: { cause?: unknown } = {}) {
    super(`A peer sent an invalid ${protocol} message: ${reason}.`, {
      details: "The peer runs an incompatible or faulty version of Tabula; try another peer.",
      cause: options.cause,
    });
    this.protocol = protocol;
  }
}

/** A message (incoming or outgoing) is longer than the protocol allows. */
export class MessageTooLargeError extends BaseError {
  override name = "MessageTooLargeError";
  readonly maxBytes: number;
  constructor(protocol: string, maxBytes: number, options: { cause?: unknown; bytes?: number } = {}) {
    const size = options.bytes === undefined ? "" : ` (${options.bytes} bytes)`;
    super(`A ${protocol} message${size} is larger than the ${maxBytes} bytes the protocol allows.`, {
      details: "The peer runs an incompatible or faulty version of Tabula; try another peer.",
      cause: options.cause,
    });
    this.maxBytes = maxBytes;
  }
}

/** The peer did not answer in time. */
export class ProtocolTimeoutError extends BaseError {
  override name = "ProtocolTimeoutError";
  readonly timeoutMs: number;
  constructor(protocol: string, what: string, timeoutMs: number) {
    super(`The peer did not ${what} within ${timeoutMs} ms (${protocol}).`, {
      details: "The peer is slow or gone; try again or pick another peer.",
    });
    this.timeoutMs = timeoutMs;
  }
}

/** The stream or connection closed before the exchange finished. */
export class PeerDisconnectedError extends BaseError {
  override name = "PeerDisconnectedError";
  constructor(protocol: string, options: { cause?: unknown } = {}) {
    super(`The connection to the peer closed before the ${protocol} exchange finished.`, {
      details: "Check your network connection; the operation can be retried, with this peer or another.",
      cause: options.cause,
    });
  }
}

/** A piece's bytes do not hash to its CID (or have the wrong size): the peer that sent it is faulty. */
export class PieceMismatchError extends BaseError {
  override name = "PieceMismatchError";
  readonly cid: string;
  constructor(cid: string, reason = "its bytes do not match its CID") {
    super(`Piece ${cid} was rejected: ${reason}.`, {
      details: "The peer that sent it is faulty or dishonest; the piece should be fetched from another peer.",
    });
    this.cid = cid;
  }
}

/** The remote peer answered with an error code of the protocol. */
export class RemoteRefusedError extends BaseError {
  override name = "RemoteRefusedError";
  readonly code: string;
  /** The protocol the peer refused a request of. */
  readonly protocol: string;
  constructor(protocol: string, code: string, message: string) {
    super(`The peer refused the ${protocol} request (${code}${message ? `: ${message}` : ""}).`, {
      details: detailsForCode(code),
    });
    this.code = code;
    this.protocol = protocol;
  }
}

function detailsForCode(code: string): string {
  switch (code) {
    case "no-space":
      return "The host has no room for this shard; pick another host.";
    case "not-hosting":
      return "The peer stopped sharing storage; pick another host.";
    case "not-held":
      return "The peer does not hold this data; ask another peer or repair the file.";
    case "piece-mismatch":
      return "A piece sent to the host did not match its CID; re-encode the file and try again.";
    case "bad-root":
      return "The shard's Merkle root does not match its pieces; re-encode the file and try again.";
    case "unknown-transfer":
      return "The link is wrong or the sender closed the tab; ask the sender for a new link.";
    case "payment-refused":
      return "The sender did not take what was locked for it; the locked tokens stay yours (see the money screen).";
    case "payment-stopped":
      return "The sender stopped because payments stopped coming; what was paid stays paid, the rest is not charged.";
    case "not-carrying":
      return "This peer carries no transfers for others now; ask the sender to open the link where you can reach it.";
    case "unreachable":
      return "The peer asked to carry the transfer cannot reach the sender either; try again when the sender is online.";
    default:
      return "Try another peer.";
  }
}

/** A host's signed receipt does not verify or does not describe what was sent. */
export class ReceiptInvalidError extends BaseError {
  override name = "ReceiptInvalidError";
  constructor(reason: string) {
    super(`The host's storage receipt is invalid: ${reason}.`, {
      details: "Do not count this host as holding the shard; store the shard on another host.",
    });
  }
}

/** An audit proof does not verify against the shard's Merkle root. */
export class AuditFailedError extends BaseError {
  override name = "AuditFailedError";
  constructor(reason: string) {
    super(`The host failed the audit: ${reason}.`, {
      details: "Treat the shard on this host as lost and repair the file.",
    });
  }
}

/** A signed host announcement is malformed, stale or not signed by the peer it names. */
export class AnnouncementInvalidError extends BaseError {
  override name = "AnnouncementInvalidError";
  constructor(reason: string, options: { cause?: unknown } = {}) {
    super(`A host announcement was rejected: ${reason}.`, {
      details: "Ignore this host; it will be heard again at its next announcement if it is honest.",
      cause: options.cause,
    });
  }
}

/** A transfer link or message failed authentication (wrong key, tampered chunk). */
export class TransferIntegrityError extends BaseError {
  override name = "TransferIntegrityError";
  constructor(reason: string) {
    super(`The transfer failed its integrity check: ${reason}.`, {
      details: "The link is wrong or the data was tampered with; ask the sender for the link again.",
    });
  }
}

/** A share link could not be parsed. */
export class TransferLinkError extends BaseError {
  override name = "TransferLinkError";
  constructor(reason: string) {
    super(`The transfer link is invalid: ${reason}.`, {
      details: "Copy the whole link again from the sender (the part after # included).",
    });
  }
}

/** The receiver declined the offered files. */
export class TransferDeclinedError extends BaseError {
  override name = "TransferDeclinedError";
  constructor() {
    super("The receiver declined the transfer.", { details: "Nothing was sent; share the link again if needed." });
  }
}

/** A transfer kept failing after the allowed number of reconnections. */
export class TransferInterruptedError extends BaseError {
  override name = "TransferInterruptedError";
  readonly receivedBytes: number;
  constructor(receivedBytes: number, attempts: number, options: { cause?: unknown } = {}) {
    super(`The transfer stopped after ${receivedBytes} bytes and ${attempts} attempts to reconnect.`, {
      details: "Make sure the sender's tab is still open, then open the link again to resume.",
      cause: options.cause,
    });
    this.receivedBytes = receivedBytes;
  }
}

/** The host serves for pay, and the requester opened without a payment. */
export class PaymentRequiredError extends BaseError {
  override name = "PaymentRequiredError";
  constructor() {
    super("This host serves its pieces for pay, and no payment was opened.", {
      details: "Lock a payment in one of the schemes the host announces, then fetch again.",
    });
  }
}

/** A payer's payment is not one the payee takes (wrong channel, terms, amount or signature). */
export class PaymentRefusedError extends BaseError {
  override name = "PaymentRefusedError";
  constructor(reason: string, options: { cause?: unknown } = {}) {
    super(`The payment was refused: ${reason}.`, {
      details: "Nothing more is sent or charged; the locked tokens can be taken back from the money screen.",
      cause: options.cause,
    });
  }
}

/** The payer stopped paying, so the payee stopped sending at what the payments covered. */
export class PaymentStoppedError extends BaseError {
  override name = "PaymentStoppedError";
  readonly paidBytes: bigint;
  constructor(parameters: { paidBytes: bigint; waitedMs: number; cause?: unknown }) {
    super(
      `The receiver stopped paying: nothing came for ${Math.round(parameters.waitedMs / 1000)} s, ` +
        `so sending stopped at the ${parameters.paidBytes} bytes paid for.`,
      {
        details: "The bytes paid for are settled from the channel; send a new link to try again.",
        cause: parameters.cause,
      },
    );
    this.paidBytes = parameters.paidBytes;
  }
}
