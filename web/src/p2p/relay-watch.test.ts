import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { circuitRelayServer, circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { identify } from "@libp2p/identify";
import type { Connection } from "@libp2p/interface";
import { ping } from "@libp2p/ping";
import { webSockets } from "@libp2p/websockets";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { createLibp2p } from "libp2p";
import { afterEach, describe, expect, it } from "vitest";
import { sleep } from "../lib/signals.ts";
import { TAB_PING } from "./constants.ts";
import { watchRelayLink } from "./relay-watch.ts";

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(stops.splice(0).map((stop) => stop()));
});

/** A Node peer with the tab's relay client, over the WebSockets transport a tab reaches its relay with. */
async function tabPeer() {
  const peer = await createLibp2p({
    addresses: { listen: ["/p2p-circuit"] },
    transports: [webSockets(), circuitRelayTransport()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionGater: { denyDialMultiaddr: () => false },
    services: { identify: identify(), ping: ping({ ...TAB_PING }) },
  });
  stops.push(async () => {
    await peer.stop();
  });
  return peer;
}

/** A relay as the tabs' one is set up: a WebSockets listener, the circuit relay server, libp2p's liveness pings. */
async function startRelay() {
  const node = await createLibp2p({
    addresses: { listen: ["/ip4/127.0.0.1/tcp/0/ws"] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify(), ping: ping(), relay: circuitRelayServer() },
  });
  stops.push(async () => {
    await node.stop();
  });
  return { node, addresses: node.getMultiaddrs().map((ma) => ma.toString()) };
}

type Relay = Awaited<ReturnType<typeof startRelay>>;

type TabPeer = Awaited<ReturnType<typeof tabPeer>>;

async function relayed(tab: TabPeer, relay: Relay): Promise<Connection> {
  const connection = await tab.dial(multiaddr(relay.addresses[0] as string));
  while (!tab.getMultiaddrs().some((a) => a.toString().includes("/p2p-circuit"))) await sleep(20);
  return connection;
}

/** Whether `dialer` reaches `tab` through the relay, or the relay's refusal. */
async function reach(dialer: TabPeer, relay: Relay, tab: TabPeer): Promise<string> {
  const target: Multiaddr = multiaddr(`${relay.addresses[0]}/p2p-circuit/p2p/${tab.peerId}`);
  try {
    await dialer.dial(target, { signal: AbortSignal.timeout(5_000) });
    await dialer.hangUp(tab.peerId);
    return "reached";
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  }
}

/** The relay drops the tab's link, as its connection monitor does when a busy tab answers a ping late. */
async function relayDrops(relay: Relay, tab: TabPeer): Promise<void> {
  for (const connection of relay.node.getConnections(tab.peerId)) connection.abort(new Error("ping timed out"));
}

describe("a tab's link to its relay", () => {
  it("stays open on the tab when the relay drops it, and the relay refuses every dial to the tab", async () => {
    const relay = await startRelay();
    const [tab, dialer] = await Promise.all([tabPeer(), tabPeer()]);
    const link = await relayed(tab, relay);
    expect(await reach(dialer, relay, tab)).toBe("reached");
    await relayDrops(relay, tab);
    await sleep(1_000);
    expect(link.status).toBe("open");
    expect(await reach(dialer, relay, tab)).toMatch(/NO_RESERVATION/);
  });

  it("is closed by the watch once the relay stops answering, so that the tab redials and is reachable again", async () => {
    const relay = await startRelay();
    const [tab, dialer] = await Promise.all([tabPeer(), tabPeer()]);
    const link = await relayed(tab, relay);
    const watching = new AbortController();
    stops.push(async () => watching.abort());
    const watch = watchRelayLink(tab.services.ping, link, {
      intervalMs: 200,
      timeoutMs: 500,
      signal: watching.signal,
    });
    await sleep(600);
    expect(link.status).toBe("open");
    await relayDrops(relay, tab);
    await watch;
    expect(link.status).not.toBe("open");
    await relayed(tab, relay);
    expect(await reach(dialer, relay, tab)).toBe("reached");
  });

  it("is left alone while the relay answers, and the watch ends when its signal aborts", async () => {
    const relay = await startRelay();
    const tab = await tabPeer();
    const link = await relayed(tab, relay);
    const watching = new AbortController();
    const watch = watchRelayLink(tab.services.ping, link, {
      intervalMs: 100,
      timeoutMs: 1_000,
      signal: watching.signal,
    });
    await sleep(800);
    watching.abort();
    await watch;
    expect(link.status).toBe("open");
  });
});
