import { BaseError, userMessage } from "../../lib/errors.ts";
import { ProgressThrottle } from "../../lib/progress.ts";
import type { AuditOutcome } from "../deals/audit-deals.ts";
import type { DealTransaction } from "../deals/paid-upload.ts";
import type { ShardCheck } from "./check-file.ts";
import type { FetchProgress } from "./download/index.ts";
import type { RepairProgress } from "./repair-file.ts";
import type { UploadProgress } from "./upload-file.ts";

export interface ActivityError {
  name: string;
  message: string;
}

/** One operation on one of my files (or one download), with its progress, as the UI shows it. */
export interface Activity {
  id: number;
  kind: "upload" | "download" | "check" | "repair" | "deals" | "renew";
  cid: string;
  startedAtMs: number;
  endedAtMs?: number;
  upload?: UploadProgress;
  fetch?: FetchProgress;
  repair?: RepairProgress;
  checks?: ShardCheck[];
  /** Transactions of a paid upload, repair or ending: escrow, σ submitted, proposals cancelled, deals ended. */
  deals?: DealTransaction[];
  /** The on-chain audit round of a paid file's check, deal by deal. */
  audits?: AuditOutcome[];
  /** Why this round challenged nothing (the audit budget), if so. */
  auditError?: ActivityError;
  /** What ending a file's deals paid the hosts and refunded, in token base units. */
  ended?: { hostPayments: bigint; refund: bigint };
  error?: ActivityError;
  /** Started by the automatic checks, not by the user. */
  auto?: boolean;
}

/** Activities started by the user kept in the list once finished. */
export const KEEP_FINISHED = 8;
/** Automatic activities kept once finished (the latest check and repair of each file, at most this many). */
export const KEEP_FINISHED_AUTO = 4;

/** What the UI shows of an error: its class name when it is one users meet, and a sentence. */
export function errorView(error: unknown): ActivityError {
  if (error instanceof DOMException && error.name === "AbortError")
    return { name: "AbortError", message: "Cancelled." };
  return { name: error instanceof BaseError ? error.name : "Error", message: userMessage(error) };
}

/**
 * The operations under way on my files and the last ones that finished, published as a list (running first, then
 * the finished ones, newest first) with a `change` event: at once when one begins or ends, at most every
 * {@link ProgressThrottle} interval while progress comes in.
 */
export class ActivityLog extends EventTarget {
  #nextId = 1;
  readonly #live = new Map<number, Activity>();
  #list: Activity[] = [];
  readonly #throttle: ProgressThrottle;
  readonly #now: () => number;

  constructor(options: { now?: () => number; progressIntervalMs?: number } = {}) {
    super();
    this.#now = options.now ?? Date.now;
    this.#throttle = new ProgressThrottle(() => this.#publish(), options.progressIntervalMs);
  }

  /** Operations under way first, then the last finished ones. */
  get list(): Activity[] {
    return this.#list;
  }

  /**
   * Starts an activity. What the user starts on a file supersedes what the automatic checks last found about it:
   * their finished activities of that file leave the list at once, so they never show beside the new one.
   */
  begin(kind: Activity["kind"], cid: string, auto = false): Activity {
    const activity: Activity = { id: this.#nextId++, kind, cid, startedAtMs: this.#now(), ...(auto ? { auto } : {}) };
    if (!auto && kind !== "download") {
      for (const [id, a] of this.#live) if (a.auto && a.cid === cid && a.endedAtMs) this.#live.delete(id);
    }
    this.#live.set(activity.id, activity);
    this.#throttle.now();
    return activity;
  }

  /** Ends an activity, with the error it failed with if it did. */
  end(activity: Activity, error?: unknown): void {
    activity.endedAtMs = this.#now();
    if (error !== undefined) {
      activity.error = errorView(error);
      if (activity.error.name !== "AbortError") console.error(error);
    }
    this.#throttle.now();
  }

  /** An activity's progress changed (its fields were updated in place). */
  progressed(): void {
    this.#throttle.soon();
  }

  #publish(): void {
    const all = [...this.#live.values()].map((a) => ({ ...a }));
    const running = all.filter((a) => !a.endedAtMs);
    const finished = all.filter((a) => a.endedAtMs).sort((a, b) => (b.endedAtMs ?? 0) - (a.endedAtMs ?? 0));
    const manual = finished.filter((a) => !a.auto);
    const seen = new Set<string>();
    const auto = finished
      .filter((a) => a.auto)
      .filter((a) => {
        const key = `${a.kind} ${a.cid}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .slice(0, KEEP_FINISHED_AUTO);
    const kept = new Set([...manual.slice(0, KEEP_FINISHED), ...auto]);
    for (const old of finished) if (!kept.has(old)) this.#live.delete(old.id);
    this.#list = [...running, ...finished.filter((a) => kept.has(a))];
    this.dispatchEvent(new Event("change"));
  }
}
