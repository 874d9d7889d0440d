import { raceSignal } from "../../../lib/signals.ts";

/** Something that changes now and then, awaited as an event: each `notify()` settles every wait begun before it. */
export class Changes {
  #next!: Promise<void>;
  #resolve!: () => void;

  constructor() {
    this.#renew();
  }

  /** Resolves at the next change, or rejects with the signal's reason once it aborts. */
  next(signal?: AbortSignal): Promise<void> {
    return raceSignal(this.#next, signal);
  }

  notify(): void {
    const resolve = this.#resolve;
    this.#renew();
    resolve();
  }

  #renew(): void {
    this.#next = new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
}
