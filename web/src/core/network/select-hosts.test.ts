import { describe, expect, it } from "vitest";
import { type HostCandidate, rankHosts } from "./select-hosts.ts";

const host = (peer: string, patch: Partial<HostCandidate> = {}): HostCandidate => ({
  peer,
  freeBytes: 1 << 30,
  pricePerGiBMonth: 0n,
  ...patch,
});
const noJitter = () => 0;

describe("rankHosts", () => {
  it("skips hosts without room, excluded ones and ones over the price", () => {
    const ranked = rankHosts(
      [host("a", { freeBytes: 10 }), host("b"), host("c"), host("d", { pricePerGiBMonth: 5n })],
      { minFreeBytes: 100, exclude: new Set(["c"]), maxPricePerGiBMonth: 1n, random: noJitter },
    );
    expect(ranked.map((h) => h.peer)).toEqual(["b"]);
  });

  it("prefers near hosts, puts recent failures last, and lets the score hook outweigh latency", () => {
    const hosts = [
      host("far", { latencyMs: 400 }),
      host("near", { latencyMs: 10 }),
      host("failed", { latencyMs: 1, failure: { atMs: 1, reason: "gone" } }),
      host("unmeasured"),
    ];
    expect(rankHosts(hosts, { random: noJitter }).map((h) => h.peer)).toEqual(["near", "unmeasured", "far", "failed"]);
    const staked = rankHosts(hosts, { random: noJitter, score: (h) => (h.peer === "far" ? 100 : 0) });
    expect(staked[0]?.peer).toBe("far");
  });

  it("breaks ties at random so that owners spread over equal hosts", () => {
    const hosts = [host("a"), host("b"), host("c")];
    const firsts = new Set<string>();
    let seed = 1;
    const random = () => {
      seed = (seed * 16807) % 2147483647;
      return seed / 2147483647;
    };
    for (let i = 0; i < 50; i++) firsts.add(rankHosts(hosts, { random })[0]?.peer ?? "");
    expect(firsts.size).toBe(3);
  });
});
