import { describe, expect, it } from "vitest";
import { runPipeline, segmentIndices } from "./pipeline.ts";

/** A task whose end the test decides. */
function gate() {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

describe("runPipeline", () => {
  it("keeps at most `depth` tasks in flight and runs every item in order", async () => {
    let running = 0;
    let most = 0;
    const started: number[] = [];
    await runPipeline(segmentIndices(10), 3, async (index) => {
      started.push(index);
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 1 + (index % 3)));
      running--;
    });
    expect(started).toEqual([...Array(10).keys()]);
    expect(most).toBe(3);
  });

  it("starts nothing after a failure, waits for the tasks in flight, then throws the first failure", async () => {
    const started: number[] = [];
    const slow = gate();
    let slowEnded = false;
    const run = runPipeline(segmentIndices(10), 2, async (index) => {
      started.push(index);
      if (index === 0) {
        await slow.opened;
        slowEnded = true;
      }
      if (index === 1) throw new Error("segment 1 failed");
    });
    let settled = false;
    void run
      .catch(() => {})
      .finally(() => {
        settled = true;
      });
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(settled).toBe(false);
    slow.open();
    await expect(run).rejects.toThrow("segment 1 failed");
    expect(slowEnded).toBe(true);
    expect(started).toEqual([0, 1]);
  });

  it("stops taking items once the signal aborts and throws its reason after the tasks in flight end", async () => {
    const controller = new AbortController();
    const started: number[] = [];
    const run = runPipeline(
      segmentIndices(10),
      2,
      async (index) => {
        started.push(index);
        if (index === 1) controller.abort(new Error("stop"));
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
      controller.signal,
    );
    await expect(run).rejects.toThrow("stop");
    expect(started).toEqual([0, 1]);
  });

  it("waits for the tasks in flight when the items themselves fail", async () => {
    let ended = 0;
    async function* items() {
      yield 0;
      yield 1;
      throw new Error("the file changed");
    }
    await expect(
      runPipeline(items(), 4, async () => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        ended++;
      }),
    ).rejects.toThrow("the file changed");
    expect(ended).toBe(2);
  });
});
