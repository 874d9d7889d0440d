import { ping } from "@libp2p/ping";
import { byteStream } from "@libp2p/utils";
import type { Libp2p } from "libp2p";
import { afterEach, describe, expect, it } from "vitest";
import { connectionMonitorSettings, TAB_CONNECTION_LIMITS, TAB_CONNECTION_MONITOR, TAB_PING } from "./constants.ts";
import { createTcpNode } from "./testing/tcp-node.ts";

const PEERS = 24;
const nodes: Libp2p[] = [];

async function node(limits?: typeof TAB_CONNECTION_LIMITS): Promise<Libp2p> {
  const created = await createTcpNode({}, limits ? { connectionManager: { ...limits } } : {});
  nodes.push(created);
  return created;
}

/** `PEERS` peers dial `target` at once, all from one address, as every peer reaching a tab through its relay does. */
async function burstInto(target: Libp2p): Promise<number> {
  const dialers = await Promise.all(Array.from({ length: PEERS }, () => node()));
  const address = target.getMultiaddrs()[0];
  if (!address) throw new Error("the target listens nowhere");
  const results = await Promise.allSettled(dialers.map((d) => d.dial(address)));
  return results.filter((r) => r.status === "fulfilled").length;
}

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((n) => n.stop()));
});

describe("a tab's inbound connection limits", () => {
  it("accept a burst of peers that all arrive from one address", async () => {
    const tab = await node(TAB_CONNECTION_LIMITS);
    expect(await burstInto(tab)).toBe(PEERS);
  });

  it("where libp2p's defaults turn some of the same burst away", async () => {
    const server = await node();
    expect(await burstInto(server)).toBeLessThan(PEERS);
  });
});

/** A peer that answers libp2p's liveness pings, but only after `delayMs`, as a tab busy with shards does. */
async function slowToAnswer(delayMs: number): Promise<Libp2p> {
  const peer = await createTcpNode({});
  nodes.push(peer);
  await peer.handle(
    "/ipfs/ping/1.0.0",
    async (stream) => {
      const bytes = byteStream(stream);
      const ping = await bytes.read({ bytes: 32 });
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      await bytes.write(ping);
      await stream.close();
    },
    { maxInboundStreams: 8 },
  );
  return peer;
}

/** The tab's monitor scaled down ten times, so that a test sees several rounds in seconds. */
const SCALED = connectionMonitorSettings(TAB_CONNECTION_MONITOR.pingTimeout.minTimeout / 10);

/**
 * Whether a connection from a peer with the tab's ping service and these monitor settings, to a peer answering
 * pings after `delayMs`, is still open after `waitMs`. With `measure`, the watcher also pings the peer itself one
 * ping after another meanwhile, as a tab measuring a host's latency does.
 */
async function survives(
  monitor: { pingInterval?: number; pingTimeout?: { minTimeout: number; maxTimeout?: number } },
  { delayMs, waitMs, measure = false }: { delayMs: number; waitMs: number; measure?: boolean },
): Promise<boolean> {
  const slow = await slowToAnswer(delayMs);
  const watcher = await createTcpNode({ ping: ping({ ...TAB_PING }) }, { connectionMonitor: monitor });
  nodes.push(watcher);
  const address = slow.getMultiaddrs()[0];
  if (!address) throw new Error("the peer listens nowhere");
  const connection = await watcher.dial(address);
  const until = Date.now() + waitMs;
  if (measure) {
    while (Date.now() < until && connection.status === "open") {
      await watcher.services.ping
        .ping(slow.peerId, { signal: AbortSignal.timeout(until - Date.now()) })
        .catch(() => {});
    }
  }
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, until - Date.now())));
  return connection.status === "open";
}

describe("a tab's connection monitor (scaled down ten times)", () => {
  // libp2p's defaults, scaled the same: a ping every 10 s, 5 s to answer it.
  const defaults = { pingInterval: 1_000, pingTimeout: { minTimeout: 500, maxTimeout: 500 } };

  it("keeps a link whose peer answers its pings late, where libp2p's defaults close it", async () => {
    const late = { delayMs: SCALED.pingTimeout.minTimeout * 0.8, waitMs: SCALED.pingInterval * 3 };
    const [tab, libp2p] = await Promise.all([survives(SCALED, late), survives(defaults, late)]);
    expect({ tab, libp2p }).toEqual({ tab: true, libp2p: false });
  }, 30_000);

  it("never overlaps its pings, even while the tab measures latency, where a ping per 10 s with a 30 s wait did", async () => {
    const late = { delayMs: SCALED.pingTimeout.minTimeout * 0.8, waitMs: SCALED.pingInterval * 3, measure: true };
    // The tab's settings before: libp2p's 10 s interval with the 30 s wait.
    const overlapping = { pingInterval: 1_000, pingTimeout: SCALED.pingTimeout };
    const [tab, before] = await Promise.all([survives(SCALED, late), survives(overlapping, late)]);
    expect({ tab, before }).toEqual({ tab: true, before: false });
  }, 30_000);

  it("waits longer between pings than it waits for an answer", () => {
    expect(TAB_CONNECTION_MONITOR.pingInterval).toBeGreaterThan(TAB_CONNECTION_MONITOR.pingTimeout.maxTimeout);
  });
});
