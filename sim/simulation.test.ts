import { describe, expect, it } from "vitest";
import { simulate } from "./simulation.ts";

describe("churn simulation", () => {
  it("loses nothing and rebuilds nothing without churn", async () => {
    const result = await simulate({ peers: 10, filesPerSet: 3, rounds: 2, churn: 0, seed: 7 });
    expect(result).toMatchObject({
      lostWithRepair: 0,
      lostWithoutRepair: 0,
      shardsRebuilt: 0,
      auditsFailed: 0,
      peersLeft: 0,
    });
    expect(result.auditsRun).toBe(2 * 3 * 6 + 2 * 3 * 6);
  }, 60_000);

  it("rebuilds lost shards onto new hosts, so repair loses no more files than doing nothing", async () => {
    const result = await simulate({ peers: 14, filesPerSet: 4, rounds: 4, churn: 0.25, seed: 3 });
    expect(result.peersLeft).toBeGreaterThan(0);
    expect(result.peersJoined).toBe(14 + result.peersLeft);
    expect(result.shardsRebuilt).toBeGreaterThan(0);
    expect(result.lostWithRepair).toBeLessThanOrEqual(result.lostWithoutRepair);
  }, 120_000);
});
