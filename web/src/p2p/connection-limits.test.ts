import { byteStream } from "@libp2p/utils";
import type { Libp2p } from "libp2p";
import { afterEach, describe, expect, it } from "vitest";
import { TAB_CONNECTION_LIMITS, TAB_CONNECTION_MONITOR } from "./constants.ts";
import { createTcpNode } from "./sim/tcp-node.ts";

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
  await peer.handle("/ipfs/ping/1.0.0", async (stream) => {
    const bytes = byteStream(stream);
    const ping = await bytes.read({ bytes: 32 });
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    await bytes.write(ping);
  });
  return peer;
}

/** Whether a connection from a peer with these monitor settings to a slow peer is still open after a while. */
async function survives(monitor: { pingTimeout?: { minTimeout: number } }): Promise<boolean> {
  const slow = await slowToAnswer(6_000);
  const watcher = await createTcpNode({}, { connectionMonitor: { pingInterval: 500, ...monitor } });
  nodes.push(watcher);
  const address = slow.getMultiaddrs()[0];
  if (!address) throw new Error("the peer listens nowhere");
  const connection = await watcher.dial(address);
  await new Promise((resolve) => setTimeout(resolve, 8_000));
  return connection.status === "open";
}

describe("a tab's connection monitor", () => {
  it("keeps a link whose peer answers its pings late, where libp2p's default timeout closes it", async () => {
    const [tab, defaults] = await Promise.all([
      survives({ pingTimeout: { ...TAB_CONNECTION_MONITOR.pingTimeout } }),
      survives({}),
    ]);
    expect({ tab, defaults }).toEqual({ tab: true, defaults: false });
  }, 30_000);
});
