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
 */
import type { AbortOptions, DialTarget } from "@libp2p/interface";
import type { SigningComponents } from "../common/components.ts";
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

export interface ShareOptions {
  chunkBytes?: number;
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
  /** Shown the decrypted file list once; return false to decline. */
  onOffer?: (files: TransferFileMeta[]) => boolean | Promise<boolean>;
  onProgress?: (progress: TransferProgress) => void;
  /** Called when the connection dropped and a reconnection is about to be tried. */
  onInterrupted?: (position: number, error: unknown) => void;
  /** Resume a transfer whose first `startPosition` bytes were written earlier (e.g. before a reload). */
  startPosition?: number;
  /** Reconnections in a row without progress before giving up. */
  maxAttempts?: number;
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
export * from "./ticket.ts";
export { TransferService } from "./transfer.ts";
