import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ProgressThrottle } from "./progress.ts";

describe("ProgressThrottle", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("folds a burst into one report now and one at the end of the interval", () => {
    let reports = 0;
    const throttle = new ProgressThrottle(() => reports++, 100);
    for (let i = 0; i < 50; i++) throttle.soon();
    expect(reports).toBe(1);
    vi.advanceTimersByTime(99);
    expect(reports).toBe(1);
    vi.advanceTimersByTime(1);
    expect(reports).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(reports).toBe(2);
  });

  it("reports a change of state at once and drops the pending byte report it supersedes", () => {
    let reports = 0;
    const throttle = new ProgressThrottle(() => reports++, 100);
    throttle.soon();
    throttle.soon();
    throttle.now();
    expect(reports).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(reports).toBe(2);
  });

  it("flushes only what is pending", () => {
    let reports = 0;
    const throttle = new ProgressThrottle(() => reports++, 100);
    throttle.flush();
    expect(reports).toBe(0);
    throttle.soon();
    throttle.soon();
    throttle.flush();
    expect(reports).toBe(2);
    vi.advanceTimersByTime(1_000);
    expect(reports).toBe(2);
  });
});
