/**
 * Waiting on a long operation by its progress instead of a wall-clock total: a slow machine that keeps moving passes,
 * one that stops fails after `stallMs` without a change, naming what stopped and the last value seen.
 */

/** Something read from the operation that changes while it moves (bytes moved, a state, a list of events). */
export interface ProgressSignal {
  /** What it measures, for the failure message ("bytes received"). */
  name: string;
  read(): Promise<string | number>;
}

export interface WatchOptions {
  progress: ProgressSignal[];
  /** Fails once no signal has changed for this long. */
  stallMs: number;
  /** How often the signals (and a condition given as a function) are read. */
  pollMs?: number;
  /** Added to the failure message: what the page showed, to tell why. */
  explain?: () => Promise<string>;
}

const DEFAULT_POLL_MS = 250;
/** How long the failure message waits for what the page shows. */
const EXPLAIN_MS = 5_000;
/** How much of a value the failure message shows. */
const SHOWN_CHARS = 600;

export class StalledError extends Error {
  override name = "StalledError";
}

function shown(value: string | number | undefined): string {
  if (value === undefined) return "(never read)";
  const text = String(value).replace(/\s+/g, " ");
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
}

/** Settles like `promise`, or with undefined once `ms` pass. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let clear = () => {};
  const timeout = new Promise<undefined>((resolve) => {
    const timer = setTimeout(resolve, ms);
    clear = () => clearTimeout(timer);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clear();
  }
}

/**
 * Resolves with `until` (a promise, or a condition polled until true) while the signals keep changing; rejects with a
 * `StalledError` once none has changed for `stallMs`. A signal that cannot be read (a page mid-reload) counts as
 * unchanged; a read that takes longer than the stall budget left counts as a stall.
 */
export function watchProgress<T>(what: string, until: Promise<T>, options: WatchOptions): Promise<T>;
export function watchProgress(what: string, until: () => Promise<boolean>, options: WatchOptions): Promise<void>;
export async function watchProgress<T>(
  what: string,
  until: Promise<T> | (() => Promise<boolean>),
  options: WatchOptions,
): Promise<T | undefined> {
  const { progress, stallMs, pollMs = DEFAULT_POLL_MS } = options;
  const started = Date.now();
  const last = new Map<ProgressSignal, string | number>();
  let lastChangeAt = started;
  let settled: { value: T } | { error: unknown } | undefined;
  let wake: () => void = () => {};
  if (typeof until !== "function") {
    until.then(
      (value) => {
        settled = { value };
        wake();
      },
      (error: unknown) => {
        settled = { error };
        wake();
      },
    );
  }

  for (;;) {
    if (settled) {
      if ("error" in settled) throw settled.error;
      return settled.value;
    }
    const budgetMs = Math.max(0, lastChangeAt + stallMs - Date.now());
    const polled = await within(
      Promise.all([
        typeof until === "function" ? until().catch(() => false) : false,
        Promise.all(progress.map((signal) => signal.read().catch(() => last.get(signal)))),
      ]),
      budgetMs,
    );
    if (polled?.[0]) return undefined;
    const reads = polled?.[1];
    if (reads) {
      for (const [i, value] of reads.entries()) {
        const signal = progress[i] as ProgressSignal;
        if (value !== undefined && value !== last.get(signal)) {
          if (last.has(signal)) lastChangeAt = Date.now();
          last.set(signal, value);
        }
      }
    }
    if (settled) continue;
    const now = Date.now();
    if (now - lastChangeAt >= stallMs) {
      const values = progress.map((s) => `  ${s.name}: ${shown(last.get(s))}`).join("\n");
      const page = options.explain
        ? ((await within(
            options.explain().catch(() => ""),
            EXPLAIN_MS,
          )) ?? "")
        : "";
      throw new StalledError(
        `${what} stalled: no progress for ${(stallMs / 1000).toFixed(0)} s (after ${((now - started) / 1000).toFixed(0)} s in all); last seen:\n${values}${page ? `\n${shown(page)}` : ""}`,
      );
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, pollMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
