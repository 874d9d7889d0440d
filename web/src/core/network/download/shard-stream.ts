import type { DialTarget } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { raceSignal } from "../../../lib/signals.ts";
import type { ShardFetch } from "../../../p2p/protocols/shard-fetch/index.ts";
import { HostStalledError } from "../errors.ts";
import { childController } from "../parts.ts";
import { FETCH_STALL_MS } from "./constants.ts";
import type { PieceBuffer } from "./piece-buffer.ts";
import type { DownloadProgress, HostFetch } from "./progress.ts";

/** The host answered that it lacks a piece of the shard it was asked for. */
export class NotHeldError extends Error {
  override name = "NotHeldError";
}

export interface ShardStreamParts {
  shardFetch: Pick<ShardFetch, "fetchPieces">;
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
  readonly #download: AbortSignal;
  readonly #controller: AbortController;
  readonly #onVerified: ((stream: ShardStream) => void) | undefined;
  readonly #stallMs: number;
  #stallTimer: ReturnType<typeof setTimeout> | undefined;
  #next: number;
  #verified: boolean;

  constructor(parts: ShardStreamParts, init: ShardStreamInit) {
    this.#parts = parts;
    this.host = init.host;
    this.shard = init.shard;
    this.#pieces = init.pieces;
    this.#next = init.from;
    this.#verified = init.verified ?? false;
    this.#download = init.signal;
    this.#controller = childController(init.signal);
    this.#onVerified = init.onVerified;
    this.#stallMs = init.stallMs ?? FETCH_STALL_MS;
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
    try {
      if (cids.length === 0) {
        this.view.state = "done";
        return "done";
      }
      this.#arm();
      const target = await this.#parts.providers.dial(this.host, signal);
      this.#arm();
      const pieces = this.#parts.shardFetch.fetchPieces(target, cids, { signal });
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

/** One piece from `host` (the decoder retried a segment whose pieces were already let go). */
export async function fetchPiece(
  parts: { dial(peer: string, signal?: AbortSignal): Promise<DialTarget>; shardFetch: Pick<ShardFetch, "fetchPieces"> },
  host: string,
  cid: CID,
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  const target = await parts.dial(host, signal);
  for await (const piece of parts.shardFetch.fetchPieces(target, [cid], { signal })) {
    if (piece.bytes) return piece.bytes;
  }
  return undefined;
}
