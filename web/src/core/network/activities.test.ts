import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ActivityLog, KEEP_FINISHED, KEEP_FINISHED_AUTO } from "./activities.ts";
import { NotEnoughHostsError } from "./errors.ts";

let clock = 0;
const now = () => ++clock;

beforeEach(() => {
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe("ActivityLog", () => {
  it("lists what runs first, then what finished, newest first, and publishes each begin and end at once", () => {
    const log = new ActivityLog({ now });
    let changes = 0;
    log.addEventListener("change", () => changes++);
    const upload = log.begin("upload", "f1");
    const check = log.begin("check", "f2");
    log.end(upload);
    const repair = log.begin("repair", "f3");
    log.end(check, new NotEnoughHostsError(2, 1));
    expect(changes).toBe(5);
    expect(log.list.map((a) => [a.kind, a.endedAtMs !== undefined])).toEqual([
      ["repair", false],
      ["check", true],
      ["upload", true],
    ]);
    expect(log.list[1]?.error).toEqual({ name: "NotEnoughHostsError", message: expect.any(String) });
    expect(repair.auto).toBeUndefined();
  });

  it("shows a cancelled activity as cancelled, not as an error", () => {
    const log = new ActivityLog({ now });
    const a = log.begin("check", "f");
    log.end(a, new DOMException("stop", "AbortError"));
    expect(log.list[0]?.error).toEqual({ name: "AbortError", message: "Cancelled." });
  });

  it("keeps the last finished ones: the user's up to KEEP_FINISHED, the automatic latest per file and kind", () => {
    const log = new ActivityLog({ now });
    for (let i = 0; i < KEEP_FINISHED + 3; i++) log.end(log.begin("upload", `m${i}`));
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < KEEP_FINISHED_AUTO + 2; i++) log.end(log.begin("check", `a${i}`, true));
    }
    const manual = log.list.filter((a) => !a.auto);
    const auto = log.list.filter((a) => a.auto);
    expect(manual.map((a) => a.cid)).toEqual([...Array(KEEP_FINISHED).keys()].map((i) => `m${KEEP_FINISHED + 2 - i}`));
    expect(auto).toHaveLength(KEEP_FINISHED_AUTO);
    expect(new Set(auto.map((a) => a.cid)).size).toBe(KEEP_FINISHED_AUTO);
    const running = log.begin("repair", "x", true);
    expect(log.list[0]).toMatchObject({ id: running.id, auto: true });
  });

  it("drops the finished automatic activities of a file at once when the user starts one on it", () => {
    const log = new ActivityLog({ now });
    log.end(log.begin("check", "f", true));
    log.end(log.begin("repair", "f", true));
    log.end(log.begin("check", "g", true));
    const running = log.begin("check", "f", true);
    const lists: string[][] = [];
    log.addEventListener("change", () => lists.push(log.list.map((a) => `${a.kind} ${a.cid}${a.auto ? " auto" : ""}`)));
    log.begin("check", "f");
    // The very first list published with the user's check no longer shows what the automatic ones found of "f";
    // one still running stays.
    expect(lists[0]).toEqual(["check f auto", "check f", "check g auto"]);
    expect(log.list.some((a) => a.id === running.id)).toBe(true);
  });

  it("a download does not supersede the automatic activities", () => {
    const log = new ActivityLog({ now });
    log.end(log.begin("check", "f", true));
    log.begin("download", "f");
    expect(log.list.map((a) => a.kind)).toEqual(["download", "check"]);
  });

  it("publishes progress at most once per interval, and the last of it", async () => {
    vi.useFakeTimers();
    const log = new ActivityLog({ progressIntervalMs: 100 });
    const a = log.begin("upload", "f");
    const seen: (number | undefined)[] = [];
    log.addEventListener("change", () => seen.push(log.list[0]?.upload?.placedShards));
    for (let i = 1; i <= 5; i++) {
      a.upload = { transfers: [], placedShards: i, totalShards: 5 };
      log.progressed();
    }
    expect(seen).toEqual([]);
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual([5]);
  });
});
