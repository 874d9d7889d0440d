import { raceSignal } from "../../../lib/signals.ts";

/**
 * Credit-based flow control: a sender reserves room before sending and the receiver's acknowledgements release
 * it. Bounds what a receiver buffers on any transport (WebRTC streams cannot pause their remote).
 */
export class SendWindow {
  readonly #maxBytes: number;
  readonly #maxItems: number;
  #bytes = 0;
  #items = 0;
  #waiter: { promise: Promise<void>; resolve: () => void } | undefined;

  constructor(maxBytes: number, maxItems: number = Number.POSITIVE_INFINITY) {
    this.#maxBytes = maxBytes;
    this.#maxItems = maxItems;
  }

  /** Waits until `bytes` more fit (one item always fits into an empty window). */
  async reserve(bytes: number, signal?: AbortSignal): Promise<void> {
    while (this.#items > 0 && (this.#items >= this.#maxItems || this.#bytes + bytes > this.#maxBytes)) {
      this.#waiter ??= deferred();
      await raceSignal(this.#waiter.promise, signal);
    }
    signal?.throwIfAborted();
    this.#bytes += bytes;
    this.#items += 1;
  }

  release(bytes: number, items = 1): void {
    this.#bytes = Math.max(0, this.#bytes - bytes);
    this.#items = Math.max(0, this.#items - items);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve();
  }

  get inFlightBytes(): number {
    return this.#bytes;
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}
