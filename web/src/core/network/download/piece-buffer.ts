import type { Manifest } from "../../../lib/manifest.ts";
import { Changes } from "./changes.ts";
import { AHEAD_SEGMENTS, KEEP_BEHIND_SEGMENTS } from "./constants.ts";

/** Where a piece sits in the file. */
export interface PiecePlace {
  shard: number;
  seg: number;
}

type Waiter = (bytes: Uint8Array | undefined) => void;

/**
 * Pieces that arrived ahead of the decoder, in a window that follows its furthest request: streams may run up to
 * {@link AHEAD_SEGMENTS} ahead of it (then they are held back for room), and pieces are kept
 * {@link KEEP_BEHIND_SEGMENTS} behind it for the decoder's retries. A read of a piece on its way waits for it; when
 * the download's signal aborts, every read gets `undefined` and every held stream is let go.
 */
export class PieceBuffer {
  readonly #places = new Map<string, PiecePlace>();
  readonly #pieces = new Map<string, { bytes: Uint8Array; seg: number }>();
  readonly #waiters = new Map<string, Waiter[]>();
  /** Notified when the decoder's furthest request moves on (or the download ends): held streams look again. */
  readonly #room = new Changes();
  #furthest = 0;
  #closed = false;

  constructor(manifest: Manifest, signal: AbortSignal) {
    for (const [shard, entry] of manifest.shards.entries()) {
      for (const [seg, piece] of entry.pieces.entries()) this.#places.set(piece.toString(), { shard, seg });
    }
    if (signal.aborted) this.#close();
    else signal.addEventListener("abort", () => this.#close(), { once: true });
  }

  /** The furthest segment the decoder asked for. */
  get furthest(): number {
    return this.#furthest;
  }

  /** Where the piece `cid` sits, if it is a piece of the file. */
  place(cid: string): PiecePlace | undefined {
    return this.#places.get(cid);
  }

  /** The decoder asks for a piece of segment `seg`: the window moves on, freeing room ahead and dropping behind. */
  requested(seg: number): void {
    if (seg <= this.#furthest) return;
    this.#furthest = seg;
    for (const [cid, entry] of this.#pieces) {
      if (entry.seg < this.#furthest - KEEP_BEHIND_SEGMENTS) this.#pieces.delete(cid);
    }
    this.#room.notify();
  }

  /** A piece kept in the window. */
  get(cid: string): Uint8Array | undefined {
    return this.#pieces.get(cid)?.bytes;
  }

  /** A verified piece arrived: kept unless the window has passed it, and handed to whoever waits for it. */
  put(cid: string, bytes: Uint8Array): void {
    const place = this.#places.get(cid);
    if (place && place.seg >= this.#furthest - KEEP_BEHIND_SEGMENTS) this.#pieces.set(cid, { bytes, seg: place.seg });
    this.#settle(cid, bytes);
  }

  /** The pieces of `shard` from segment `from` on will not come: whoever waits for them gets `undefined`. */
  lost(shard: number, from: number): void {
    for (const [cid, place] of this.#places) {
      if (place.shard === shard && place.seg >= from) this.#settle(cid, undefined);
    }
  }

  /** Resolves with the piece when it is put, or `undefined` when it is lost or the download ends. */
  wait(cid: string): Promise<Uint8Array | undefined> {
    return new Promise((resolve) => {
      if (this.#closed) return resolve(undefined);
      const list = this.#waiters.get(cid) ?? [];
      list.push(resolve);
      this.#waiters.set(cid, list);
    });
  }

  /** Whether a stream may fetch segment `seg` now. */
  hasRoom(seg: number): boolean {
    return seg <= this.#furthest + AHEAD_SEGMENTS;
  }

  /** Resolves once segment `seg` fits in the window; rejects with the signal's reason once it aborts. */
  async room(seg: number, signal: AbortSignal): Promise<void> {
    while (!this.hasRoom(seg)) {
      signal.throwIfAborted();
      await this.#room.next(signal);
    }
  }

  #settle(cid: string, bytes: Uint8Array | undefined): void {
    const waiters = this.#waiters.get(cid);
    if (!waiters) return;
    this.#waiters.delete(cid);
    for (const w of waiters) w(bytes);
  }

  #close(): void {
    this.#closed = true;
    for (const waiters of this.#waiters.values()) for (const w of waiters) w(undefined);
    this.#waiters.clear();
    this.#pieces.clear();
    this.#room.notify();
  }
}
