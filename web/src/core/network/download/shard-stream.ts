import type { DialTarget } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { raceSignal } from "../../../lib/signals.ts";
import { type FetchedPiece, type ShardFetch, WINDOW_PIECES } from "../../../p2p/protocols/shard-fetch/index.ts";
import { MAX_CREDIT_BYTES } from "../../payments/bandwidth-payee.ts";
import { HostStalledError, RetrievalUnpaidError } from "../errors.ts";
import {
  childController,
  type NetworkParts,
  type RetrievalPayment,
  type RetrievalRequest,
  retrievalTerms,
} from "../parts.ts";
import { FETCH_STALL_MS } from "./constants.ts";
import type { PieceBuffer } from "./piece-buffer.ts";
import type { DownloadProgress, HostFetch } from "./progress.ts";

/** The host answered that it lacks a piece of the shard it was asked for. */
export class NotHeldError extends Error {
  override name = "NotHeldError";
}

/** What a fetch from one host needs: the protocol, and the hosts' terms and the payer for those that charge. */
export interface FetchParts extends Pick<NetworkParts, "payRetrieval"> {
  shardFetch: Pick<ShardFetch, "fetchPieces">;
  hosts: Pick<NetworkParts["hosts"], "list">;
}

/** The bytes a paid fetch of `pieces` pieces locks for: each piece at its largest. */
export function retrievalBytes(pieces: number, pieceBytes: number): number {
  return pieces * pieceBytes;
}

/**
 * Fetches `cids` from `host` over `target`: free, or through a payment for their bytes (`pieceBytes` each at most)
 * when the host charges for its pieces: `payment`, locked already for those bytes, or one locked now. The payment
 * is ended when the fetch is.
 */
export async function* hostFetch(
  parts: FetchParts,
  host: string,
  target: DialTarget,
  cids: readonly CID[],
  options: {
    signal: AbortSignal;
    pieceBytes: number;
    payment?: Promise<RetrievalPayment>;
    onPayment?: (payment: RetrievalPayment) => void;
  },
): AsyncGenerator<FetchedPiece> {
  const { signal } = options;
  const terms = retrievalTerms(parts.hosts, host);
  if (!terms) {
    yield* parts.shardFetch.fetchPieces(target, cids, { signal });
    return;
  }
  const totalBytes = retrievalBytes(cids.length, options.pieceBytes);
  const payment = await (options.payment ?? lockOne(parts, host, { terms, totalBytes: BigInt(totalBytes) }));
  try {
    options.onPayment?.(payment);
    signal.throwIfAborted();
    // No more in flight than the host may send ahead of what was paid: it then never waits for a payment while
    // this tab holds back for the decoder.
    const windowPieces = Math.max(1, Math.floor(Number(MAX_CREDIT_BYTES) / options.pieceBytes) - 1);
    yield* parts.shardFetch.fetchPieces(target, cids, {
      signal,
      windowPieces: Math.min(WINDOW_PIECES, windowPieces),
      payer: { gate: payment.gate(), totalBytes },
    });
  } finally {
    payment.end?.();
  }
}

/** One payment for a fetch from `host` ({@link RetrievalUnpaidError} when this tab cannot pay). */
async function lockOne(parts: FetchParts, host: string, request: RetrievalRequest): Promise<RetrievalPayment> {
  if (!parts.payRetrieval) throw new RetrievalUnpaidError(host);
  const [payment] = await parts.payRetrieval([request]);
  if (!payment) throw new RetrievalUnpaidError(host);
  return payment;
}

export interface ShardStreamParts extends FetchParts {
  /** The provider session: a link to the host (a new one after a passing failure), and its success. */
  providers: {
    dial(host: string, signal: AbortSignal): Promise<DialTarget>;
    succeeded(host: string): void;
  };
  buffer: Pick<PieceBuffer, "put" | "hasRoom" | "room">;
  progress: Pick<DownloadProgress, "received" | "changed">;
}

export interface ShardStreamInit {
  host: string;
  shard: number;
  /** The shard's pieces, in segment order. */
  pieces: readonly CID[];
  /** Largest size of a piece (what a paid fetch locks for each). */
  pieceBytes: number;
  /** Segment of the first piece to fetch. */
  from: number;
  /** The host already served a verified piece of this shard (a probe found it). */
  verified?: boolean;
  /** The view to carry on (the probe's), else a new one. */
  view?: HostFetch;
  /** The download's signal: the stream stops when it aborts. */
  signal: AbortSignal;
  /** Called when the stream's first piece verified. */
  onVerified?: (stream: ShardStream) => void;
  /** Silence after which the host is dropped as stalled. */
  stallMs?: number;
  /** The payment locked for this stream's pieces (with other hosts'), when the host charges; else one is locked. */
  payment?: Promise<RetrievalPayment>;
}

/** How a stream ended without failing: every piece fetched, cancelled as a spare, or the download closed. */
export type ShardStreamEnd = "done" | "cancelled" | "closed";

/**
 * One shard's pieces from one host, in order, into the piece buffer. Each piece verifies against its CID on the way
 * (shard-fetch), and the stream holds back while it is too far ahead of the decoder. A host that sends nothing for
 * `stallMs`, not counting the time held back, is dropped: {@link run} rejects with {@link HostStalledError}.
 */
export class ShardStream {
  readonly host: string;
  readonly shard: number;
  readonly view: HostFetch;
  readonly #parts: ShardStreamParts;
  readonly #pieces: readonly CID[];
  readonly #pieceBytes: number;
  readonly #download: AbortSignal;
  readonly #controller: AbortController;
  readonly #onVerified: ((stream: ShardStream) => void) | undefined;
  readonly #stallMs: number;
  readonly #payment: Promise<RetrievalPayment> | undefined;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #next: number;
  #verified: boolean;

  constructor(parts: ShardStreamParts, init: ShardStreamInit) {
    this.#parts = parts;
    this.host = init.host;
    this.shard = init.shard;
    this.#pieces = init.pieces;
    this.#pieceBytes = init.pieceBytes;
    this.#next = init.from;
    this.#verified = init.verified ?? false;
    this.#download = init.signal;
    this.#controller = childController(init.signal);
    this.#onVerified = init.onVerified;
    this.#stallMs = init.stallMs ?? FETCH_STALL_MS;
    this.#payment = init.payment;
    this.view = init.view ?? { host: init.host, shard: init.shard, state: "asking", bytes: 0, pieces: 0 };
    this.view.shard = init.shard;
    this.view.state = this.#verified ? "streaming" : "asking";
  }

  /** Segment of the next piece expected. */
  get next(): number {
    return this.#next;
  }

  /** Whether the host served a piece of the shard that matched its CID. */
  get verified(): boolean {
    return this.#verified;
  }

  /** Stops a stream that is not needed (enough others verified first). */
  cancel(): void {
    this.view.state = "cancelled";
    this.#disarm();
    this.#controller.abort(new DOMException("Enough hosts answered first.", "AbortError"));
  }

  /**
   * Fetches the pieces from `from` to the end of the shard. Resolves when they are all in, when the stream is
   * cancelled or when the download closes; rejects with why the host failed otherwise.
   */
  async run(): Promise<ShardStreamEnd> {
    const signal = this.#controller.signal;
    const cids = this.#pieces.slice(this.#next);
    let paid = false;
    try {
      if (cids.length === 0) {
        this.view.state = "done";
        return "done";
      }
      this.#arm();
      const target = await this.#parts.providers.dial(this.host, signal);
      // Locking a payment waits for the chain (and maybe the wallet): no stall of the host's.
      if (retrievalTerms(this.#parts.hosts, this.host)) this.#disarm();
      else this.#arm();
      const pieces = hostFetch(this.#parts, this.host, target, cids, {
        signal,
        pieceBytes: this.#pieceBytes,
        ...(this.#payment ? { payment: this.#payment } : {}),
        onPayment: (payment) => {
          paid = true;
          this.view.payment = { scheme: payment.view.scheme, openTx: payment.view.openTx };
          this.#arm();
          this.#parts.progress.changed();
        },
      });
      try {
        for (;;) {
          // Raced with the signal, so that a host whose stream ignores it is still dropped when it stalls.
          const { done, value: piece } = await raceSignal(pieces.next(), signal);
          if (done) break;
          if (!piece.bytes) throw new NotHeldError(`the host does not have piece ${this.#next} of shard ${this.shard}`);
          this.#deliver(piece.cid, piece.bytes);
          await this.#room(signal);
        }
      } finally {
        pieces.return(undefined).catch(() => {});
      }
      this.view.state = "done";
      this.#parts.providers.succeeded(this.host);
      return "done";
    } catch (error) {
      if (this.#download.aborted) return "closed";
      if (signal.aborted && this.view.state === "cancelled") return "cancelled";
      throw signal.aborted ? signal.reason : error;
    } finally {
      this.#disarm();
      // A payment locked for this stream that its fetch never took is over too.
      if (!paid) this.#payment?.then((payment) => payment.end?.()).catch(() => {});
    }
  }

  #deliver(cid: CID, bytes: Uint8Array): void {
    this.#parts.buffer.put(cid.toString(), bytes);
    this.#parts.progress.received(this.view, bytes.byteLength);
    this.#next += 1;
    if (!this.#verified) {
      this.#verified = true;
      this.view.state = "streaming";
      this.#onVerified?.(this);
    }
  }

  /** Holds back while the next piece is too far ahead of the decoder; that wait is no stall. */
  async #room(signal: AbortSignal): Promise<void> {
    if (!this.#parts.buffer.hasRoom(this.#next)) {
      this.#disarm();
      await this.#parts.buffer.room(this.#next, signal);
    }
    this.#arm();
  }

  #arm(): void {
    this.#disarm();
    this.#stallTimer = setTimeout(
      () => this.#controller.abort(new HostStalledError(this.host, this.#stallMs)),
      this.#stallMs,
    );
  }

  #disarm(): void {
    clearTimeout(this.#stallTimer);
    this.#stallTimer = undefined;
  }
}

/** One piece from `host` (the decoder retried a segment whose pieces were already let go), paid if it charges. */
export async function fetchPiece(
  parts: FetchParts & { dial(peer: string, signal?: AbortSignal): Promise<DialTarget> },
  host: string,
  cid: CID,
  options: { signal: AbortSignal; pieceBytes: number },
): Promise<Uint8Array | undefined> {
  const target = await parts.dial(host, options.signal);
  for await (const piece of hostFetch(parts, host, target, [cid], options)) {
    if (piece.bytes) return piece.bytes;
  }
  return undefined;
}
