import { describe, expect, it } from "vitest";
import { FILE_LOCK_PREFIX, FileLocks, type LockManagerLike } from "./file-locks.ts";

/** A promise with its resolve, for steps the test decides. */
function deferred() {
  let resolve = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe("FileLocks", () => {
  it("runs the operations on one file one after the other, in order, and those on other files beside them", async () => {
    const locks = new FileLocks(undefined);
    const events: string[] = [];
    const first = deferred();
    const a1 = locks.run("a", async () => {
      events.push("a1 start");
      await first.promise;
      events.push("a1 end");
    });
    const a2 = locks.run("a", async () => {
      events.push("a2");
    });
    const b = locks.run("b", async () => {
      events.push("b");
    });
    await b;
    expect(events).toEqual(["a1 start", "b"]);
    expect([...locks.busy]).toEqual(["a"]);
    first.resolve();
    await Promise.all([a1, a2]);
    expect(events).toEqual(["a1 start", "b", "a1 end", "a2"]);
    expect(locks.busy.size).toBe(0);
    expect(locks.has("a")).toBe(false);
  });

  it("counts a file busy while an operation waits for it, and publishes each change", async () => {
    const locks = new FileLocks(undefined);
    const sizes: number[] = [];
    locks.addEventListener("change", () => sizes.push(locks.busy.size));
    const gate = deferred();
    const run = locks.run("a", () => gate.promise);
    expect(locks.has("a")).toBe(true);
    gate.resolve();
    await run;
    expect(sizes).toEqual([1, 0]);
  });

  it("lets the next operation run after one fails", async () => {
    const locks = new FileLocks(undefined);
    await expect(locks.run("a", async () => Promise.reject(new Error("boom")))).rejects.toThrow("boom");
    await expect(locks.run("a", async () => 7)).resolves.toBe(7);
  });

  it("gives up waiting, without running, when the signal aborts", async () => {
    const locks = new FileLocks(undefined);
    const gate = deferred();
    const holder = locks.run("a", () => gate.promise);
    const controller = new AbortController();
    let ran = false;
    const waiting = locks.run(
      "a",
      async () => {
        ran = true;
      },
      controller.signal,
    );
    controller.abort(new Error("cancelled"));
    await expect(waiting).rejects.toThrow("cancelled");
    gate.resolve();
    await holder;
    expect(ran).toBe(false);
    expect(locks.busy.size).toBe(0);
  });

  it("takes the file's Web Lock across tabs, by name", async () => {
    const names: string[] = [];
    const webLocks: LockManagerLike = {
      request: (async (name: string, _options: LockOptions, run: () => Promise<unknown>) => {
        names.push(name);
        return await run();
      }) as LockManagerLike["request"],
    };
    const locks = new FileLocks(webLocks);
    await expect(locks.run("bafy", async () => "done")).resolves.toBe("done");
    expect(names).toEqual([`${FILE_LOCK_PREFIX}bafy`]);
  });
});
