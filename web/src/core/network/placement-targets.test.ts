import { describe, expect, it } from "vitest";
import { NotEnoughHostsError } from "./errors.ts";
import { assertEnoughHosts, placementTargets, unplacedShards } from "./placement-targets.ts";
import type { Placement } from "./placements.ts";
import type { HostCandidate } from "./select-hosts.ts";

/** A 2 + 1 file whose shard 2 is the largest. */
const file = { k: 2, m: 1, shards: [{ size: 100 }, { size: 100 }, { size: 300 }] };

function placed(shard: number, host: string, status: Placement["status"] = "live"): Placement {
  return { manifest: "m", shard, host, status, placedAtMs: 1 } as Placement;
}

function host(peer: string, extra: Partial<HostCandidate> = {}): HostCandidate {
  return { peer, freeBytes: 1_000, pricePerGiBMonth: 0n, latencyMs: 10, ...extra };
}

describe("unplacedShards", () => {
  it("lists the shards with no live holder (lost, bad, moved or never placed)", () => {
    const placements = [placed(0, "a"), placed(1, "b", "lost"), placed(1, "c", "moved")];
    expect(unplacedShards(placements, 3)).toEqual([1, 2]);
  });
});

describe("placementTargets", () => {
  it("needs a host for every shard with no live holder, never one holding, having lost or corrupted a shard", () => {
    const placements = [placed(0, "a"), placed(1, "b", "lost"), placed(2, "c", "bad"), placed(2, "d", "moved")];
    const hosts = ["a", "b", "c", "d", "e", "self"].map((peer) => host(peer));
    const targets = placementTargets(file, placements, hosts, { self: "self" });
    expect(targets.shards).toEqual([1, 2]);
    // "d" only held a shard that moved elsewhere: it is free again.
    expect(targets.hosts.map((h) => h.peer).sort()).toEqual(["d", "e"]);
    expect([...targets.exclude].sort()).toEqual(["a", "b", "c", "self"]);
  });

  it("asks room for the largest shard to place", () => {
    const targets = placementTargets(file, [placed(0, "a"), placed(1, "b")], [host("x", { freeBytes: 200 })], {
      self: "self",
    });
    expect(targets.shards).toEqual([2]);
    expect(targets.hosts).toEqual([]);
  });

  it("places the shards asked for, leaves out the extra hosts asked and ranks the rest nearest first", () => {
    const hosts = [host("far", { latencyMs: 400 }), host("near", { latencyMs: 5 }), host("no", { latencyMs: 1 })];
    const targets = placementTargets(file, [], hosts, { self: "self", shards: [0], exclude: ["no"] });
    expect(targets.shards).toEqual([0]);
    expect(targets.hosts.map((h) => h.peer)).toEqual(["near", "far"]);
  });

  it("keeps hosts that failed lately last, or leaves them out when asked", () => {
    const failure = { atMs: 1, reason: "did not answer" };
    const hosts = [host("failed", { failure, latencyMs: 1 }), host("ok", { latencyMs: 100 })];
    expect(placementTargets(file, [], hosts, { self: "s" }).hosts.map((h) => h.peer)).toEqual(["ok", "failed"]);
    expect(placementTargets(file, [], hosts, { self: "s", skipFailed: true }).hosts.map((h) => h.peer)).toEqual(["ok"]);
  });

  it("needs nothing when every shard has a live holder", () => {
    const placements = [placed(0, "a"), placed(1, "b"), placed(2, "c")];
    const targets = placementTargets(file, placements, [host("e")], { self: "s" });
    expect(targets.shards).toEqual([]);
    expect(() => assertEnoughHosts(targets)).not.toThrow();
  });

  it("throws NotEnoughHostsError with the counts when too few hosts may take the shards", () => {
    const targets = placementTargets(file, [placed(0, "a")], [host("a"), host("e")], { self: "s" });
    let error: unknown;
    try {
      assertEnoughHosts(targets);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(NotEnoughHostsError);
    expect(error).toMatchObject({ needed: 2, found: 1 });
  });
});
