import type { Libp2p } from "libp2p";
import { afterEach, describe, expect, it } from "vitest";
import { TAB_CONNECTION_LIMITS } from "./constants.ts";
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
