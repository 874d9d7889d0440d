/**
 * What a paid sender waits on: each payment the payer makes wakes it, and when none comes for the payment timeout
 * the wait ends with the error that names why sending stopped.
 */
export class PaymentSignal {
  #wake: () => void = () => {};
  #next: Promise<void>;

  constructor() {
    this.#next = this.#arm();
  }

  /** A payment came: whoever waits looks again. */
  notify(): void {
    const wake = this.#wake;
    this.#next = this.#arm();
    wake();
  }

  /**
   * Resolves once `ready()` holds, looking again after each payment; rejects with `stopped()` when no payment came
   * for `timeoutMs`, and with the signal's reason when it aborts.
   */
  async until(
    ready: () => boolean,
    options: { timeoutMs: number; signal: AbortSignal; stopped: () => Error },
  ): Promise<void> {
    const { timeoutMs, signal } = options;
    while (!ready()) {
      signal.throwIfAborted();
      const waiting = this.#next;
      const timedOut = await new Promise<boolean>((resolve, reject) => {
        const timer = setTimeout(() => {
          signal.removeEventListener("abort", onAbort);
          resolve(true);
        }, timeoutMs);
        const onAbort = () => {
          clearTimeout(timer);
          reject(signal.reason);
        };
        signal.addEventListener("abort", onAbort, { once: true });
        void waiting.then(() => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          resolve(false);
        });
      });
      if (timedOut) throw options.stopped();
    }
  }

  #arm(): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wake = resolve;
    });
  }
}
