/**
 * @packageDocumentation
 *
 * Transfer (`/tabula/transfer/1.0.0`): tab-to-tab sending. The sender shares files and gets a link whose
 * fragment holds a ticket (its peer id, a transfer id and a 32-byte secret); the receiver dials the sender,
 * proves it holds the link, gets the sealed file list, accepts from a byte position, and receives AES-256-GCM
 * chunks bound to (transfer, file, offset), acknowledging each once written. When the connection drops, the
 * receiver reconnects and resumes from its last written position.
 *
 * Wire (length-prefixed dag-cbor maps, `t` = type): receiver → `hello` {id, auth}; sender → `offer` {meta,
 * chunk} (or `error` "unknown-transfer"); receiver → `accept` {pos} or `decline`; sender → `chunk` {file, off,
 * data}… `done`; receiver → `ack` {pos} per chunk. The sender keeps at most `WINDOW_BYTES` unacknowledged,
 * so a receiver writing slowly to disk slows the sender instead of filling memory.
 *
 * A paid share's link carries the sender's payment terms. Its receiver sends a `payment` (the payment protocol's
 * message, see ../pay) right after `accept`, naming what it locked, and one for each chunk it has written; the
 * sender answers with its own `payment`s, sends a chunk only once its {@link PayeeGate} allows it, and closes only
 * once the last byte is paid for.
 */
import type { AbortOptions, DialTarget } from "@libp2p/interface";
import type { Address } from "viem";
import type { SigningComponents } from "../common/components.ts";
import type { PaymentMessage } from "../common/messages.ts";
import type { PaymentTerms } from "../pay/index.ts";
import type { TransferFileMeta } from "./codec.ts";
import type { TransferTicket } from "./ticket.ts";
import { TransferService } from "./transfer.ts";

export interface Transfer {
  readonly protocol: string;
  /** Offers files to whoever holds the returned link, until `close()`. */
  share(sources: readonly TransferSource[], options?: ShareOptions): Promise<TransferShare>;
  /** Receives a shared transfer into `sink`, reconnecting and resuming when the connection drops. */
  receive(link: string | TransferTicket, sink: TransferSink, options?: ReceiveOptions): Promise<ReceiveResult>;
}

/** A file to send, read by ranges so that several GB never sit in memory (see {@link blobSource}). */
export interface TransferSource {
  name: string;
  type: string;
  size: number;
  read(offset: number, length: number, options: AbortOptions): Promise<Uint8Array>;
}

/** Where received bytes go: called in order, once per chunk, with the file's index in the offer. */
export interface TransferSink {
  write(file: number, offset: number, bytes: Uint8Array, options: AbortOptions): Promise<void>;
}

export interface TransferProgress {
  bytes: number;
  totalBytes: number;
  bytesPerSecond: number;
}

/** A payment as the transfer carries it: the scheme and the payment protocol's message. */
export type Payment = Omit<PaymentMessage, "type">;

/**
 * The sender's side of one paid session: it decides when the next bytes may go (the payer's payments so far) and
 * answers each payment. Made by {@link PaidShare.admit} from the receiver's first payment.
 */
export interface PayeeGate {
  /** Resolves once the bytes up to `end` may be sent; rejects (naming why) when the payments stopped. */
  allow(end: number, signal: AbortSignal): Promise<void>;
  /** Takes a payment of the payer; returns the answer to send, if any. Throws on a payment it refuses. */
  receive(payment: Payment): Promise<Payment | undefined>;
  /** Whether the bytes up to `end` are paid for (the sender then closes). */
  paid(end: number): boolean;
}

/** What makes a share paid: the terms its link carries and the admission of each receiver's payment. */
export interface PaidShare {
  terms: PaymentTerms;
  /**
   * Checks the receiver's first payment (what it locked, where) against the terms for `totalBytes` from
   * `position`, and returns the session's gate. A {@link PaymentRefusedError} is told to the receiver.
   */
  admit(
    payment: Payment,
    session: { receiver: string; totalBytes: number; position: number; signal: AbortSignal },
  ): Promise<PayeeGate>;
  /**
   * A session opened with `opening` is over (done, failed or stopped): what it was paid may be settled. Called by
   * protocols whose every session stands alone (shard fetch); a share's transfer settles once it is done.
   */
  end?(opening: Payment): void;
}

/** The receiver's side of one paid session, made once the offer was accepted and the payment locked. */
export interface PayerGate {
  /** The first payment, sent right after `accept`: what the payer locked. */
  readonly opening: Payment;
  /** The bytes up to `position` were written; returns a payment to send, if one is due now. */
  received(position: number): Promise<Payment | undefined>;
  /** Takes the payee's answer; returns a payment to send, if one is due now. */
  answer(payment: Payment): Promise<Payment | undefined>;
}

export interface ShareOptions {
  chunkBytes?: number;
  /** Makes the share paid (its chunks are then `PAID_CHUNK_BYTES` unless `chunkBytes` says otherwise). */
  payment?: PaidShare;
  /** Acknowledged bytes, as the receiver confirms them. */
  onProgress?: (progress: TransferProgress) => void;
  onDeclined?: () => void;
}

export interface TransferShare {
  ticket: TransferTicket;
  /** The ticket as base64url text, for the link's `#fragment` (and its QR code). */
  link: string;
  files: TransferFileMeta[];
  /** Settles once a receiver has acknowledged every byte. */
  done: Promise<void>;
  close(): void;
}

export interface ReceiveOptions extends AbortOptions {
  /** How to reach the sender (its relayed or direct addresses); default: the peer id from the link. */
  peer?: DialTarget;
  /**
   * Shown the decrypted file list once, with a paid share's terms (from the offer: they match the link's when it
   * carries them); return false to decline.
   */
  onOffer?: (files: TransferFileMeta[], terms: PaymentTerms | undefined) => boolean | Promise<boolean>;
  onProgress?: (progress: TransferProgress) => void;
  /** Called when the connection dropped and a reconnection is about to be tried. */
  onInterrupted?: (position: number, error: unknown) => void;
  /** Resume a transfer whose first `startPosition` bytes were written earlier (e.g. before a reload). */
  startPosition?: number;
  /** Reconnections in a row without progress before giving up. */
  maxAttempts?: number;
  /**
   * For a link with payment terms: the gate of the next session, once the offer was accepted and the payment
   * locked (called after `onOffer` at every session, so a resumed session keeps paying on what was locked).
   */
  payer?: (session: { totalBytes: number; position: number; via?: Address }) => PayerGate | Promise<PayerGate>;
  /**
   * Carried by a proxy (`/tabula/transfer-proxy/1.0.0`) rather than straight from the sender: for a paid link whose
   * sender this tab cannot reach. The payer's gate is then the route's upstream leg, paid to `via` (the address the
   * proxy answered with), and `onRoute` hears that address before the offer.
   */
  via?: { peer: string; target: DialTarget };
  onRoute?: (proxy: Address) => void;
}

export interface ReceiveResult {
  files: TransferFileMeta[];
  totalBytes: number;
  /** Sessions it took (1 when the connection never dropped). */
  attempts: number;
}

export interface TransferInit {
  chunkBytes?: number;
  timeoutMs?: number;
}

/** libp2p service factory: `services: { transfer: transfer() }`. */
export function transfer(init: TransferInit = {}): (components: SigningComponents) => Transfer {
  return (components) => new TransferService(components, init);
}

/** A {@link TransferSource} over a Blob or File (read by slices). */
export function blobSource(
  blob: Blob,
  name = blob instanceof File ? blob.name : "file",
  type = blob.type,
): TransferSource {
  return {
    name,
    type,
    size: blob.size,
    read: async (offset, length) => new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer()),
  };
}

export * from "./codec.ts";
export * from "./constants.ts";
export * from "./crypto.ts";
export {
  type CarriedPayments,
  TRANSFER_PROXY_PROTOCOL,
  type TransferCarrier,
  type TransferProxy,
  type TransferProxyInit,
  transferProxy,
} from "./proxy.ts";
export * from "./ticket.ts";
export { TransferService } from "./transfer.ts";
