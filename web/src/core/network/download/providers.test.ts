import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { PieceMismatchError } from "../../../p2p/protocols/common/errors.ts";
import { RetrievalUnpaidError } from "../errors.ts";
import { Changes } from "./changes.ts";
import { DISCOVERY_RETRY_MS, HOST_ATTEMPTS } from "./constants.ts";
import { DownloadProgress, type HostFetch } from "./progress.ts";
import { type Provider, ProviderSession, type ProviderSessionParts } from "./providers.ts";
import { type FakeHost, fakeShardFetch, fakeShards, targetOf } from "./testing/fake-shards.ts";

/** Lets every pending promise and callback run (no timer fires: they are fake). */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}

/**
 * A session over a 2-of-3 file whose hosts are `hosts`; `announced` lists the hosts the tab knows (it may grow),
 * `hostsChanged.notify()` announces a change. Discovery wants a provider until two were found.
 */
async function setup(
  hosts: Record<string, FakeHost>,
  options: { holders?: string[][]; withHostsChanged?: boolean; dialFails?: Record<string, number> } = {},
) {
  const { manifest, bytes } = await fakeShards(3, 2);
  const { shardFetch, requests } = fakeShardFetch(manifest, bytes, hosts);
  const announced: string[] = [];
  const hostsChanged = new Changes();
  const dials: { host: string; fresh: boolean }[] = [];
  const failures: string[] = [];
  const bad: [string, number | undefined][] = [];
  const found: Provider[] = [];
  const dialFails = { ...options.dialFails };
  const parts: ProviderSessionParts = {
    self: "me",
    dial: async (peer, _signal, dialOptions) => {
      dials.push({ host: peer, fresh: dialOptions?.fresh ?? false });
      if ((dialFails[peer] ?? 0) > 0) {
        dialFails[peer] = (dialFails[peer] ?? 0) - 1;
        throw new Error("the connection was reset");
      }
      return targetOf(peer);
    },
    shardFetch,
    hosts: {
      list: () =>
        announced.map((peer) => ({ peer, freeBytes: 1 << 30, pricePerGiBMonth: 0n, latencyMs: 1, addrs: [] })),
      reportFailure: (peer) => void failures.push(peer),
      reportSuccess: () => {},
    },
    onBadHost: (host, shard) => void bad.push([host, shard]),
    ...(options.holders ? { holders: async () => options.holders as string[][] } : {}),
    ...(options.withHostsChanged === false ? {} : { hostsChanged: (signal: AbortSignal) => hostsChanged.next(signal) }),
  };
  const controller = new AbortController();
  const progress = new DownloadProgress();
  const providers = new ProviderSession(parts, {
    cid: "manifest",
    manifest,
    signal: controller.signal,
    progress,
    demand: {
      wanted: () => found.length < manifest.k,
      settled: async () => {},
      busy: () => false,
      found: (provider) => void found.push(provider),
    },
  });
  return {
    manifest,
    bytes,
    announced,
    hostsChanged,
    dials,
    requests,
    failures,
    bad,
    found,
    controller,
    progress,
    providers,
  };
}

describe("ProviderSession", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("finds the holders among hosts announced while it waits, woken by the change of the known hosts", async () => {
    const { manifest, bytes, announced, hostsChanged, dials, found, progress, providers } = await setup({
      x: { shards: [] },
      a: { shards: [1] },
      b: { shards: [2] },
    });
    announced.push("me", "x");
    const discovery = providers.discover();
    let finished = false;
    void discovery.then(() => {
      finished = true;
    });
    await flush();
    expect(found).toEqual([]);
    expect(progress.current.hosts.map((h) => [h.host, h.state])).toEqual([["x", "not-held"]]);

    // No time passes: only the announcement can wake the waiting discovery.
    announced.push("a");
    hostsChanged.notify();
    await flush();
    expect(found.map((p) => [p.peer, p.shard])).toEqual([["a", 1]]);
    const first = manifest.shards[1]?.pieces[0];
    expect(found[0]?.piece?.cid.equals(first)).toBe(true);
    expect(found[0]?.piece?.bytes).toEqual(bytes.get(String(first)));
    expect(found[0]?.view.shard).toBe(1);
    expect(finished).toBe(false);

    announced.push("b");
    hostsChanged.notify();
    await flush();
    expect(found.map((p) => [p.peer, p.shard])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    expect(finished).toBe(true);
    // Each host asked once, never this tab itself.
    expect(dials.map((d) => d.host)).toEqual(["x", "a", "b"]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("without word of a change, looks at the known hosts again after the retry pause", async () => {
    const { announced, dials, found, providers } = await setup(
      { a: { shards: [0] }, b: { shards: [1] } },
      { withHostsChanged: false },
    );
    announced.push("b");
    const discovery = providers.discover();
    await flush();
    expect(found.map((p) => p.peer)).toEqual(["b"]);
    announced.push("a");

    await vi.advanceTimersByTimeAsync(DISCOVERY_RETRY_MS - 1);
    await flush();
    expect(dials.map((d) => d.host)).toEqual(["b"]);
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(found.map((p) => p.peer)).toEqual(["b", "a"]);
    await discovery;
    expect(vi.getTimerCount()).toBe(0);
  });

  it("asks a host whose probe failed for a passing reason again at once, on a new connection", async () => {
    const { announced, dials, found, controller, providers } = await setup(
      { a: { shards: [0] }, b: { shards: [1] } },
      { dialFails: { a: 1 } },
    );
    announced.push("a", "b");
    await providers.discover();
    expect(dials).toEqual([
      { host: "a", fresh: false },
      { host: "b", fresh: false },
      { host: "a", fresh: true },
    ]);
    expect(found.map((p) => p.peer)).toEqual(["b", "a"]);
    controller.abort();
  });

  it("gives up on a host after its tries, even when the known hosts change", async () => {
    const { announced, hostsChanged, dials, failures, found, controller, providers } = await setup(
      { a: { shards: [0] }, b: { shards: [1] } },
      { dialFails: { a: 100 } },
    );
    announced.push("a", "b");
    const discovery = providers.discover();
    await flush();
    hostsChanged.notify();
    await flush();
    expect(dials.filter((d) => d.host === "a")).toHaveLength(HOST_ATTEMPTS);
    expect(failures).toEqual(Array.from({ length: HOST_ATTEMPTS }, () => "a"));
    expect(found.map((p) => p.peer)).toEqual(["b"]);
    controller.abort();
    await discovery;
  });

  it("evicts a host that serves a piece not matching its CID, and never asks it again", async () => {
    const { announced, hostsChanged, requests, failures, bad, found, controller, progress, providers } = await setup({
      b: { shards: [0], bad: true },
      a: { shards: [1] },
    });
    announced.push("b", "a");
    const discovery = providers.discover();
    await flush();
    expect(bad).toEqual([["b", undefined]]);
    expect(failures).toEqual(["b"]);
    expect(providers.badHosts).toEqual(["b"]);
    expect(progress.current.hosts.find((h) => h.host === "b")?.state).toBe("bad-piece");
    expect(found.map((p) => p.peer)).toEqual(["a"]);

    hostsChanged.notify();
    await flush();
    hostsChanged.notify();
    await flush();
    expect(requests.filter(([host]) => host === "b")).toHaveLength(1);
    controller.abort();
    await discovery;
  });

  it("drops a known holder whose stream served a bad piece, and keeps one that failed for a passing reason until its tries run out", async () => {
    const { manifest, bad, dials, providers } = await setup({}, { holders: [["b", "a"], ["c"], []] });
    await providers.addKnownHolders();
    expect(providers.freeHolder(0)).toBe("b");
    const view = (host: string): HostFetch => ({ host, shard: 0, state: "streaming", bytes: 0, pieces: 0 });

    const badView = view("b");
    providers.streamFailed(badView, "b", 0, new PieceMismatchError(String(manifest.shards[0]?.pieces[1])));
    expect(badView.state).toBe("bad-piece");
    expect(bad).toEqual([["b", 0]]);
    expect(providers.freeHolder(0)).toBe("a");

    for (let attempt = 1; attempt < HOST_ATTEMPTS; attempt++) {
      const failed = view("a");
      providers.streamFailed(failed, "a", 0, new Error("the connection was reset"));
      expect(failed.state).toBe("failed");
      expect(providers.freeHolder(0)).toBe("a");
      // The next attempt dials a new connection, the one after it the one then open.
      await providers.dial("a", new AbortController().signal);
      await providers.dial("a", new AbortController().signal);
    }
    expect(dials.map((d) => d.fresh)).toEqual(Array.from({ length: HOST_ATTEMPTS - 1 }, () => [true, false]).flat());
    providers.streamFailed(view("a"), "a", 0, new Error("the connection was reset"));
    expect(providers.freeHolder(0)).toBeUndefined();
    expect(providers.freeHolder(1)).toBe("c");
  });

  it("drops at once a holder that charges when this tab cannot pay it: another try would not pay it either", async () => {
    const { providers } = await setup({}, { holders: [["a", "b"], [], []] });
    await providers.addKnownHolders();
    expect(providers.freeHolder(0)).toBe("a");
    const failed: HostFetch = { host: "a", shard: 0, state: "streaming", bytes: 0, pieces: 0 };
    providers.streamFailed(failed, "a", 0, new RetrievalUnpaidError("a"));
    expect(failed.state).toBe("failed");
    expect(providers.freeHolder(0)).toBe("b");
  });

  it("stops when the download closes, leaving no timer and asking no host heard afterwards", async () => {
    const { announced, hostsChanged, requests, controller, providers } = await setup({ a: { shards: [0] } });
    const discovery = providers.discover();
    await flush();
    expect(vi.getTimerCount()).toBeGreaterThan(0);

    controller.abort();
    await discovery;
    expect(vi.getTimerCount()).toBe(0);
    announced.push("a");
    hostsChanged.notify();
    await flush();
    expect(requests).toEqual([]);
  });
});
