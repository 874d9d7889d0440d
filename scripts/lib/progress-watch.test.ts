import { describe, expect, it } from "vitest";
import { type ProgressSignal, StalledError, watchProgress } from "./progress-watch.ts";

function counter(name: string): ProgressSignal & { value: number } {
  const signal = {
    name,
    value: 0,
    read: async () => signal.value,
  };
  return signal;
}

const later = <T>(ms: number, value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

describe("watchProgress", () => {
  it("waits past the stall time as long as the signal keeps moving", async () => {
    const bytes = counter("bytes");
    const ticker = setInterval(() => bytes.value++, 10);
    try {
      await expect(
        watchProgress("a slow copy", later(300, "copied"), { progress: [bytes], stallMs: 100, pollMs: 5 }),
      ).resolves.toBe("copied");
    } finally {
      clearInterval(ticker);
    }
  });

  it("fails once nothing moved for the stall time, naming what stalled and its last value", async () => {
    const bytes = counter("bytes received");
    bytes.value = 42;
    const error = await watchProgress("the send", new Promise(() => {}), {
      progress: [bytes],
      stallMs: 100,
      pollMs: 5,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StalledError);
    expect((error as Error).message).toMatch(/^the send stalled: no progress for 0 s/);
    expect((error as Error).message).toContain("bytes received: 42");
  });

  it("polls a condition and returns once it holds", async () => {
    const step = counter("step");
    let polls = 0;
    await watchProgress(
      "three steps",
      async () => {
        step.value++;
        return ++polls >= 3;
      },
      { progress: [step], stallMs: 1_000, pollMs: 5 },
    );
    expect(polls).toBe(3);
  });

  it("passes on the operation's own failure", async () => {
    const failed = Promise.reject(new Error("the tab crashed"));
    await expect(watchProgress("a download", failed, { progress: [counter("bytes")], stallMs: 1_000 })).rejects.toThrow(
      "the tab crashed",
    );
  });

  it("counts a signal that hangs as a stall", async () => {
    const frozen: ProgressSignal = { name: "frozen page", read: () => new Promise(() => {}) };
    await expect(watchProgress("a check", new Promise(() => {}), { progress: [frozen], stallMs: 100 })).rejects.toThrow(
      StalledError,
    );
  });

  it("counts a condition that hangs as a stall", async () => {
    await expect(
      watchProgress("a frozen tab", () => new Promise<boolean>(() => {}), {
        progress: [counter("bytes")],
        stallMs: 100,
      }),
    ).rejects.toThrow(StalledError);
  });
});
