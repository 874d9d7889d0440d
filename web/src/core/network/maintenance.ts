/**
 * Automatic upkeep of my files on the network: each file's hosts are checked on a schedule, one file at a time, and a
 * check that finds lost shards is followed at once by a repair. The schedule is plain data over an injected clock,
 * so the state only wires it to the real check and repair (state/network-files.svelte.ts) and tests drive it with
 * fake timers.
 */

/** Default time between two automatic checks of one file. */
export const DEFAULT_CHECK_INTERVAL_MS = 10 * 60_000;
/** The first automatic check after the tab starts: a tab that was closed for a while is when hosts go missing. */
export const FIRST_CHECK_DELAY_MS = 30_000;
/** Every wait is stretched or shrunk at random by up to this fraction, so that many tabs do not check in step. */
export const CHECK_JITTER_FRACTION = 0.1;

/** The clock and timers the schedule runs on (the real ones by default). */
export interface MaintenanceClock {
  now(): number;
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** A file to keep, and when its hosts were last checked (or its shards placed), if known. */
export interface MaintainedFile {
  cid: string;
  lastCheckedAtMs?: number;
}

/** How the last automatic run of a file ended. */
export type MaintenanceOutcome =
  /** Every shard that was checked has a live holder. */
  | "healthy"
  /** The check found lost shards and the repair placed them again. */
  | "repaired"
  /** The check itself failed. */
  | "check-failed"
  /** The check found lost shards and the repair could not run or failed: it is tried again at the next round. */
  | "repair-failed"
  /** Another operation on the file was under way: the check waits for the next round. */
  | "postponed";

/** One file's place in the schedule, as the UI shows it. */
export interface FileSchedule {
  cid: string;
  /** When the next automatic check is due. */
  nextAtMs: number;
  lastCheckedAtMs?: number;
  /** What runs on the file now, when the schedule is at it. */
  running?: "check" | "repair";
  outcome?: MaintenanceOutcome;
  /** Shards the last automatic check found without a live holder. */
  lostShards?: number[];
  /** Why the last automatic check or repair failed. */
  error?: unknown;
}

export interface MaintenanceParts {
  /** Another check, repair or upload of the file is under way (the schedule never runs beside it). */
  isBusy(cid: string): boolean;
  /** Checks the file's hosts; resolves to the shards left without a live holder. */
  check(cid: string, signal: AbortSignal): Promise<{ lostShards: readonly number[] }>;
  /** Rebuilds and places the lost shards; rejects when it cannot. */
  repair(cid: string, signal: AbortSignal): Promise<void>;
  /** Reads the current list of files before each round (files deleted meanwhile drop out). */
  files?: () => Promise<readonly MaintainedFile[]>;
  clock?: MaintenanceClock;
  /** Randomness in [0, 1) for the jitter. */
  random?: () => number;
}

export interface MaintenanceOptions {
  intervalMs?: number;
  firstDelayMs?: number;
  jitterFraction?: number;
  /** Called whenever the schedule changes (a file added, a run started or ended). */
  onChange?: (schedule: readonly FileSchedule[]) => void;
}

const realClock: MaintenanceClock = {
  now: () => Date.now(),
  setTimeout: (run, ms) => setTimeout(run, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The shards that the checks found held by no live host (a shard with one live holder left is not lost), and,
 * given the file's `shardCount`, the shards not placed on any host at all (an upload that found no host for them):
 * the repair places those too.
 */
export function lostShardsOf(checks: readonly { shard: number; status: string }[], shardCount = 0): number[] {
  const live = new Set(checks.filter((c) => c.status === "live").map((c) => c.shard));
  const shards = new Set([...checks.map((c) => c.shard), ...Array.from({ length: shardCount }, (_, i) => i)]);
  return [...shards].filter((shard) => !live.has(shard)).sort((a, b) => a - b);
}

/**
 * Checks each file's hosts every `intervalMs` (± jitter), and soon after {@link start} for files not checked since;
 * one file at a time, never while another operation on the same file is under way. A check that finds lost shards
 * runs the repair at once; a repair that fails is reported in the schedule and tried again at the next round, not
 * before. {@link stop} aborts what runs and leaves no timer behind.
 */
export class Maintenance {
  readonly #parts: MaintenanceParts;
  readonly #clock: MaintenanceClock;
  readonly #random: () => number;
  readonly #intervalMs: number;
  readonly #firstDelayMs: number;
  readonly #jitter: number;
  readonly #onChange: ((schedule: readonly FileSchedule[]) => void) | undefined;
  readonly #files = new Map<string, FileSchedule>();
  #startedAtMs: number | undefined;
  #firstRoundAtMs = 0;
  #timer: unknown;
  #round: Promise<void> | undefined;
  #abort: AbortController | undefined;

  constructor(parts: MaintenanceParts, options: MaintenanceOptions = {}) {
    this.#parts = parts;
    this.#clock = parts.clock ?? realClock;
    this.#random = parts.random ?? Math.random;
    this.#intervalMs = options.intervalMs ?? DEFAULT_CHECK_INTERVAL_MS;
    if (!(this.#intervalMs > 0)) throw new RangeError("the check interval must be a positive number of ms");
    this.#firstDelayMs = Math.min(options.firstDelayMs ?? FIRST_CHECK_DELAY_MS, this.#intervalMs);
    this.#jitter = Math.min(Math.max(options.jitterFraction ?? CHECK_JITTER_FRACTION, 0), 1);
    this.#onChange = options.onChange;
  }

  get intervalMs(): number {
    return this.#intervalMs;
  }

  /** Whether the schedule is running (started and not stopped). */
  get running(): boolean {
    return this.#startedAtMs !== undefined;
  }

  /** Every file's place in the schedule, soonest first. */
  schedule(): FileSchedule[] {
    return [...this.#files.values()].map((f) => ({ ...f })).sort((a, b) => a.nextAtMs - b.nextAtMs);
  }

  /** Starts the schedule: files not checked since now are checked after the first delay, the others on interval. */
  start(): void {
    if (this.#startedAtMs !== undefined) return;
    const now = this.#clock.now();
    this.#startedAtMs = now;
    this.#firstRoundAtMs = now + this.#jittered(this.#firstDelayMs);
    this.#abort = new AbortController();
    for (const file of this.#files.values()) {
      delete file.running;
      file.nextAtMs = this.#firstDueAt(file.lastCheckedAtMs);
    }
    this.#changed();
    this.#arm();
  }

  /** Stops the schedule: aborts the check or repair under way and clears the timer. */
  stop(): void {
    if (this.#startedAtMs === undefined) return;
    this.#startedAtMs = undefined;
    this.#abort?.abort(new DOMException("Automatic checks were paused.", "AbortError"));
    this.#abort = undefined;
    this.#disarm();
    this.#changed();
  }

  /** Resolves once the round under way (if any) has ended. */
  async idle(): Promise<void> {
    await this.#round;
  }

  /**
   * Tells the schedule which files there are. A file not seen before is due soon after start when it was not checked
   * since, else one interval after its last check; a file checked by someone else (a manual check) since is due one
   * interval after that check. Files missing from the list leave the schedule.
   */
  setFiles(files: readonly MaintainedFile[]): void {
    const seen = new Set<string>();
    let changed = false;
    for (const { cid, lastCheckedAtMs } of files) {
      seen.add(cid);
      const known = this.#files.get(cid);
      if (!known) {
        this.#files.set(cid, {
          cid,
          nextAtMs: this.#firstDueAt(lastCheckedAtMs),
          ...(lastCheckedAtMs === undefined ? {} : { lastCheckedAtMs }),
        });
        changed = true;
      } else if (
        lastCheckedAtMs !== undefined &&
        !known.running &&
        (known.lastCheckedAtMs === undefined || lastCheckedAtMs > known.lastCheckedAtMs)
      ) {
        known.lastCheckedAtMs = lastCheckedAtMs;
        if (this.#startedAtMs !== undefined && lastCheckedAtMs >= this.#startedAtMs) {
          known.nextAtMs = Math.max(known.nextAtMs, lastCheckedAtMs + this.#jittered(this.#intervalMs));
        }
        changed = true;
      }
    }
    for (const cid of [...this.#files.keys()]) {
      if (!seen.has(cid) && !this.#files.get(cid)?.running) {
        this.#files.delete(cid);
        changed = true;
      }
    }
    if (!changed) return;
    this.#changed();
    this.#arm();
  }

  #jittered(ms: number): number {
    return Math.round(ms * (1 + this.#jitter * (2 * this.#random() - 1)));
  }

  #firstDueAt(lastCheckedAtMs: number | undefined): number {
    const started = this.#startedAtMs;
    if (started === undefined) return Number.POSITIVE_INFINITY;
    if (lastCheckedAtMs === undefined || lastCheckedAtMs < started) {
      return Math.max(this.#firstRoundAtMs, this.#clock.now());
    }
    return lastCheckedAtMs + this.#jittered(this.#intervalMs);
  }

  #changed(): void {
    this.#onChange?.(this.schedule());
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Sets the one timer for the soonest file, unless a round is under way (it arms the timer when it ends). */
  #arm(): void {
    this.#disarm();
    if (this.#startedAtMs === undefined || this.#round) return;
    let soonest = Number.POSITIVE_INFINITY;
    for (const file of this.#files.values()) soonest = Math.min(soonest, file.nextAtMs);
    if (!Number.isFinite(soonest)) return;
    this.#timer = this.#clock.setTimeout(
      () => {
        this.#timer = undefined;
        this.#round = this.#runRound().finally(() => {
          this.#round = undefined;
          this.#arm();
        });
      },
      Math.max(0, soonest - this.#clock.now()),
    );
  }

  async #runRound(): Promise<void> {
    const signal = this.#abort?.signal;
    if (!signal || signal.aborted) return;
    if (this.#parts.files) {
      try {
        const files = await this.#parts.files();
        if (signal.aborted) return;
        this.setFiles(files);
      } catch {
        // The list from the last round stands.
      }
    }
    const done = new Set<string>();
    for (;;) {
      if (signal.aborted) return;
      const now = this.#clock.now();
      const due = [...this.#files.values()]
        .filter((f) => f.nextAtMs <= now && !done.has(f.cid))
        .sort((a, b) => a.nextAtMs - b.nextAtMs)[0];
      if (!due) return;
      done.add(due.cid);
      await this.#maintain(due, signal);
    }
  }

  async #maintain(file: FileSchedule, signal: AbortSignal): Promise<void> {
    if (this.#parts.isBusy(file.cid)) {
      this.#settle(file, "postponed");
      file.nextAtMs = this.#clock.now() + this.#jittered(this.#intervalMs);
      this.#changed();
      return;
    }
    // What the last run found stays on show until this one ends.
    file.running = "check";
    this.#changed();
    try {
      let lostShards: readonly number[];
      try {
        ({ lostShards } = await this.#parts.check(file.cid, signal));
      } catch (error) {
        if (!signal.aborted) this.#settle(file, "check-failed", { error });
        return;
      }
      file.lastCheckedAtMs = this.#clock.now();
      if (lostShards.length === 0) {
        this.#settle(file, "healthy");
        return;
      }
      if (signal.aborted) return;
      file.running = "repair";
      this.#changed();
      try {
        await this.#parts.repair(file.cid, signal);
        this.#settle(file, "repaired", { lostShards });
      } catch (error) {
        if (!signal.aborted) this.#settle(file, "repair-failed", { lostShards, error });
      }
    } finally {
      delete file.running;
      if (!signal.aborted) file.nextAtMs = this.#clock.now() + this.#jittered(this.#intervalMs);
      this.#changed();
    }
  }

  #settle(
    file: FileSchedule,
    outcome: MaintenanceOutcome,
    found: { lostShards?: readonly number[]; error?: unknown } = {},
  ): void {
    file.outcome = outcome;
    if (found.lostShards) file.lostShards = [...found.lostShards];
    else delete file.lostShards;
    if ("error" in found) file.error = found.error;
    else delete file.error;
  }
}
