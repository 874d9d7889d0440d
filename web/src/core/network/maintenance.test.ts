import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  CHECK_JITTER_FRACTION,
  DEFAULT_CHECK_INTERVAL_MS,
  FIRST_CHECK_DELAY_MS,
  type FileSchedule,
  lostShardsOf,
  Maintenance,
  type MaintenanceParts,
} from "./maintenance.ts";

const INTERVAL_MS = DEFAULT_CHECK_INTERVAL_MS;
const MIN_GAP_MS = INTERVAL_MS * (1 - CHECK_JITTER_FRACTION);
const MAX_GAP_MS = INTERVAL_MS * (1 + CHECK_JITTER_FRACTION);

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Parts whose check and repair record when they ran, with what each check finds set per file. */
function fakeParts(overrides: Partial<MaintenanceParts> = {}) {
  const checks: { cid: string; atMs: number; signal: AbortSignal }[] = [];
  const repairs: { cid: string; atMs: number; signal: AbortSignal }[] = [];
  const lost = new Map<string, number[]>();
  const busy = new Set<string>();
  const parts: MaintenanceParts = {
    isBusy: (cid) => busy.has(cid),
    check: async (cid, signal) => {
      checks.push({ cid, atMs: Date.now(), signal });
      return { lostShards: lost.get(cid) ?? [] };
    },
    repair: async (cid, signal) => {
      repairs.push({ cid, atMs: Date.now(), signal });
      lost.delete(cid);
    },
    clock: {
      now: () => Date.now(),
      setTimeout: (run, ms) => setTimeout(run, ms),
      clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    },
    ...overrides,
  };
  return { parts, checks, repairs, lost, busy };
}

describe("lostShardsOf", () => {
  it("counts a shard lost only when none of its holders answered live", () => {
    expect(
      lostShardsOf([
        { shard: 0, status: "live" },
        { shard: 1, status: "lost" },
        { shard: 1, status: "live" },
        { shard: 3, status: "bad" },
        { shard: 2, status: "lost" },
      ]),
    ).toEqual([2, 3]);
    expect(lostShardsOf([])).toEqual([]);
  });

  it("given the file's shard count, counts shards placed on no host as lost too", () => {
    const checks = [
      { shard: 0, status: "live" },
      { shard: 1, status: "live" },
      { shard: 3, status: "lost" },
    ];
    expect(lostShardsOf(checks, 5)).toEqual([2, 3, 4]);
    expect(lostShardsOf([{ shard: 0, status: "live" }], 1)).toEqual([]);
  });
});

describe("Maintenance", () => {
  let started: Maintenance | undefined;

  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    started?.stop();
    started = undefined;
    vi.useRealTimers();
  });

  function start(parts: MaintenanceParts, files: string[], options: ConstructorParameters<typeof Maintenance>[1] = {}) {
    const maintenance = new Maintenance(parts, options);
    maintenance.setFiles(files.map((cid) => ({ cid, lastCheckedAtMs: Date.now() - 3_600_000 })));
    maintenance.start();
    started = maintenance;
    return maintenance;
  }

  it("checks every file soon after the tab starts, one after the other", async () => {
    const { parts, checks } = fakeParts({ random: () => 0.5 });
    start(parts, ["a", "b"]);
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS - 1);
    expect(checks).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(checks.map((c) => c.cid)).toEqual(["a", "b"]);
    expect(checks[0]?.atMs).toBe(1_000_000 + FIRST_CHECK_DELAY_MS);
  });

  it("spreads the first check and every next one by the jitter, within its bounds", async () => {
    for (const [random, factor] of [
      [0, 1 - CHECK_JITTER_FRACTION],
      [0.999_999, 1 + CHECK_JITTER_FRACTION],
    ] as const) {
      const { parts, checks } = fakeParts({ random: () => random });
      const t0 = Date.now();
      start(parts, ["a"]);
      await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS * 2 + INTERVAL_MS * 2);
      expect(checks[0]?.atMs).toBe(t0 + Math.round(FIRST_CHECK_DELAY_MS * factor));
      expect(((checks[1]?.atMs ?? 0) - (checks[0]?.atMs ?? 0)) / INTERVAL_MS).toBeCloseTo(factor, 5);
      started?.stop();
    }
    // With real randomness, every gap stays in the bounds and the gaps differ.
    const { parts, checks } = fakeParts();
    start(parts, ["a"]);
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS * 2 + INTERVAL_MS * 20);
    const gaps = checks.slice(1).map((c, i) => c.atMs - (checks[i]?.atMs ?? 0));
    expect(gaps.length).toBeGreaterThanOrEqual(17);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(MIN_GAP_MS);
      expect(gap).toBeLessThanOrEqual(MAX_GAP_MS);
    }
    expect(new Set(gaps).size).toBeGreaterThan(1);
  });

  it("takes the interval from its options and never waits longer than it for the first check", async () => {
    const { parts, checks } = fakeParts({ random: () => 0.5 });
    start(parts, ["a"], { intervalMs: 20_000 });
    await vi.advanceTimersByTimeAsync(20_000);
    expect(checks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(checks).toHaveLength(2);
  });

  it("postpones a file while another check, repair or upload of it is under way, to the next round", async () => {
    const { parts, checks, busy } = fakeParts({ random: () => 0.5 });
    busy.add("a");
    const maintenance = start(parts, ["a", "b"]);
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    expect(checks.map((c) => c.cid)).toEqual(["b"]);
    const a = maintenance.schedule().find((f) => f.cid === "a") as FileSchedule;
    expect(a.outcome).toBe("postponed");
    expect(a.nextAtMs).toBe(Date.now() + INTERVAL_MS);
    busy.delete("a");
    await vi.advanceTimersByTimeAsync(INTERVAL_MS - 1);
    expect(checks.map((c) => c.cid)).toEqual(["b"]);
    await vi.advanceTimersByTimeAsync(1);
    expect(checks.map((c) => c.cid).sort()).toEqual(["a", "b", "b"]);
  });

  it("runs one file at a time and never overlaps its own check", async () => {
    const pending = new Map<string, Deferred<{ lostShards: number[] }>>();
    const { parts, checks } = fakeParts({ random: () => 0.5 });
    parts.check = (cid, signal) => {
      checks.push({ cid, atMs: Date.now(), signal });
      const d = deferred<{ lostShards: number[] }>();
      pending.set(cid, d);
      return d.promise;
    };
    start(parts, ["a", "b"], { intervalMs: 60_000 });
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    expect(checks.map((c) => c.cid)).toEqual(["a"]);
    // "a" hangs for several intervals: nothing else starts, and "a" is not started again.
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(checks.map((c) => c.cid)).toEqual(["a"]);
    pending.get("a")?.resolve({ lostShards: [] });
    await vi.advanceTimersByTimeAsync(0);
    expect(checks.map((c) => c.cid)).toEqual(["a", "b"]);
  });

  it("repairs at once when a check finds lost shards, and only then", async () => {
    const { parts, checks, repairs, lost } = fakeParts({ random: () => 0.5 });
    lost.set("b", [4, 5]);
    const maintenance = start(parts, ["a", "b"]);
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    expect(checks.map((c) => c.cid)).toEqual(["a", "b"]);
    expect(repairs.map((r) => r.cid)).toEqual(["b"]);
    expect(repairs[0]?.atMs).toBe(checks[1]?.atMs);
    const schedule = maintenance.schedule();
    expect(schedule.find((f) => f.cid === "a")?.outcome).toBe("healthy");
    expect(schedule.find((f) => f.cid === "b")).toMatchObject({ outcome: "repaired", lostShards: [4, 5] });
    // The next round finds nothing lost and repairs nothing.
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(checks).toHaveLength(4);
    expect(repairs).toHaveLength(1);
  });

  it("reports a repair that cannot run and tries it again at the next round, not before", async () => {
    const { parts, checks, repairs, lost } = fakeParts({ random: () => 0.5 });
    const tooFewHosts = new Error("too few hosts");
    parts.repair = async (cid, signal) => {
      repairs.push({ cid, atMs: Date.now(), signal });
      throw tooFewHosts;
    };
    lost.set("a", [1]);
    const maintenance = start(parts, ["a"]);
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    expect(repairs).toHaveLength(1);
    const failedAt = Date.now();
    expect(maintenance.schedule()[0]).toMatchObject({
      outcome: "repair-failed",
      error: tooFewHosts,
      lostShards: [1],
      nextAtMs: failedAt + INTERVAL_MS,
    });
    await vi.advanceTimersByTimeAsync(INTERVAL_MS - 1);
    expect(checks).toHaveLength(1);
    expect(repairs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(checks).toHaveLength(2);
    expect(repairs).toHaveLength(2);
    expect(repairs[1]?.atMs).toBe(failedAt + INTERVAL_MS);
  });

  it("keeps a failed repair on show while the next round runs, and clears it once the file is healthy", async () => {
    const { parts, lost } = fakeParts({ random: () => 0.5 });
    const hostsBack = deferred<{ lostShards: number[] }>();
    parts.repair = async () => {
      throw new Error("too few hosts");
    };
    lost.set("a", [3]);
    const maintenance = start(parts, ["a"]);
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    parts.check = () => hostsBack.promise;
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(maintenance.schedule()[0]).toMatchObject({ running: "check", outcome: "repair-failed", lostShards: [3] });
    hostsBack.resolve({ lostShards: [] });
    await vi.advanceTimersByTimeAsync(0);
    const a = maintenance.schedule()[0] as FileSchedule;
    expect(a.outcome).toBe("healthy");
    expect(a.running).toBeUndefined();
    expect(a.error).toBeUndefined();
    expect(a.lostShards).toBeUndefined();
  });

  it("records a failed check and goes on with the next file", async () => {
    const { parts, checks, repairs } = fakeParts({ random: () => 0.5 });
    const check = parts.check;
    parts.check = async (cid, signal) => {
      if (cid === "a") throw new Error("manifest gone");
      return await check(cid, signal);
    };
    const maintenance = start(parts, ["a", "b"]);
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    expect(checks.map((c) => c.cid)).toEqual(["b"]);
    expect(repairs).toEqual([]);
    expect(maintenance.schedule().find((f) => f.cid === "a")?.outcome).toBe("check-failed");
  });

  it("counts a check made meanwhile (a manual one) and drops files that are gone", async () => {
    const { parts, checks } = fakeParts({ random: () => 0.5 });
    const maintenance = start(parts, ["a", "b"]);
    await vi.advanceTimersByTimeAsync(10_000);
    // "a" was checked by hand: its automatic check comes one interval later. "b" was deleted.
    maintenance.setFiles([{ cid: "a", lastCheckedAtMs: Date.now() }]);
    expect(maintenance.schedule().map((f) => f.cid)).toEqual(["a"]);
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    expect(checks).toEqual([]);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS - FIRST_CHECK_DELAY_MS);
    expect(checks.map((c) => c.cid)).toEqual(["a"]);
  });

  it("schedules a file placed after start one interval after its placement", async () => {
    const { parts, checks } = fakeParts({ random: () => 0.5 });
    const maintenance = start(parts, []);
    await vi.advanceTimersByTimeAsync(5_000);
    maintenance.setFiles([{ cid: "new", lastCheckedAtMs: Date.now() }]);
    expect(maintenance.schedule()[0]?.nextAtMs).toBe(Date.now() + INTERVAL_MS);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(checks.map((c) => c.cid)).toEqual(["new"]);
  });

  it("reads the file list before each round", async () => {
    const { parts, checks } = fakeParts({ random: () => 0.5 });
    let list = [{ cid: "a", lastCheckedAtMs: 0 }];
    parts.files = async () => list;
    start(parts, ["a", "gone"]);
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    expect(checks.map((c) => c.cid)).toEqual(["a"]);
    list = [];
    await vi.advanceTimersByTimeAsync(INTERVAL_MS);
    expect(checks.map((c) => c.cid)).toEqual(["a"]);
  });

  it("stops everything when stopped: the check under way is aborted and no timer is left", async () => {
    const { parts, checks, repairs, lost } = fakeParts({ random: () => 0.5 });
    const hang = deferred<{ lostShards: number[] }>();
    parts.check = (cid, signal) => {
      checks.push({ cid, atMs: Date.now(), signal });
      signal.addEventListener("abort", () => hang.reject(signal.reason), { once: true });
      return hang.promise;
    };
    lost.set("a", [0]);
    const maintenance = start(parts, ["a", "b"]);
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    expect(checks).toHaveLength(1);
    maintenance.stop();
    expect(maintenance.running).toBe(false);
    expect(checks[0]?.signal.aborted).toBe(true);
    await maintenance.idle();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 3);
    expect(checks).toHaveLength(1);
    expect(repairs).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    // Started again, it checks soon, as after a fresh start.
    parts.check = async (cid, signal) => {
      checks.push({ cid, atMs: Date.now(), signal });
      return { lostShards: [] };
    };
    maintenance.start();
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    expect(checks.map((c) => c.cid)).toEqual(["a", "a", "b"]);
  });

  it("leaves no timer behind when stopped while waiting for the next round", async () => {
    const { parts, checks } = fakeParts({ random: () => 0.5 });
    const maintenance = start(parts, ["a"]);
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    expect(vi.getTimerCount()).toBe(1);
    maintenance.stop();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(INTERVAL_MS * 3);
    expect(checks).toHaveLength(1);
  });

  it("stops between a check and its repair without starting the repair", async () => {
    const { parts, repairs, lost } = fakeParts({ random: () => 0.5 });
    const gate = deferred<{ lostShards: number[] }>();
    parts.check = () => gate.promise;
    lost.set("a", [0]);
    const maintenance = start(parts, ["a"]);
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    maintenance.stop();
    gate.resolve({ lostShards: [0] });
    await maintenance.idle();
    expect(repairs).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("tells its listener when the schedule changes", async () => {
    const seen: (FileSchedule["running"] | FileSchedule["outcome"])[] = [];
    const { parts, lost } = fakeParts({ random: () => 0.5 });
    lost.set("a", [2]);
    start(parts, ["a"], {
      onChange: (schedule) => {
        const a = schedule[0];
        seen.push(a?.running ?? a?.outcome);
      },
    });
    await vi.advanceTimersByTimeAsync(FIRST_CHECK_DELAY_MS);
    expect(seen.slice(-3)).toEqual(["check", "repair", "repaired"]);
  });
});
