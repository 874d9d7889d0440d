/** Progress is reported at most this often: each report copies per-host state for the UI. */
export const PROGRESS_INTERVAL_MS = 100;

/**
 * Folds a burst of progress reports into one per interval without ever dropping the last: `soon()` reports now when
 * the interval has passed since the last report, else once at its end; `now()` reports at once (a change of state);
 * `flush()` reports what is pending (at the end of the work).
 */
export class ProgressThrottle {
  readonly #emit: () => void;
  readonly #intervalMs: number;
  #reportedAtMs = 0;
  #pending: ReturnType<typeof setTimeout> | undefined;

  constructor(emit: () => void, intervalMs = PROGRESS_INTERVAL_MS) {
    this.#emit = emit;
    this.#intervalMs = intervalMs;
  }

  now(): void {
    if (this.#pending) clearTimeout(this.#pending);
    this.#pending = undefined;
    this.#reportedAtMs = Date.now();
    this.#emit();
  }

  soon(): void {
    const waitMs = this.#reportedAtMs + this.#intervalMs - Date.now();
    if (waitMs <= 0) this.now();
    else this.#pending ??= setTimeout(() => this.now(), waitMs);
  }

  flush(): void {
    if (this.#pending) this.now();
  }
}
