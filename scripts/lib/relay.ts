import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { circuitRelayServer } from "@libp2p/circuit-relay-v2";
import { gossipsub } from "@libp2p/gossipsub";
import { identify } from "@libp2p/identify";
import { ping } from "@libp2p/ping";
import { webSockets } from "@libp2p/websockets";
import { createLibp2p, type Libp2p } from "libp2p";
import { TAB_CONNECTION_MONITOR } from "../../web/src/p2p/constants.ts";

export interface RelayOptions {
  host: string;
  port: number;
  /** Circuit relay v2 reservations this relay grants at once. */
  maxReservations?: number;
}

export interface Relay {
  node: Libp2p;
  /** Multiaddrs the tabs dial: `/ip4/…/tcp/…/ws/p2p/<relay id>`. */
  addresses: string[];
  stop(): Promise<void>;
}

/**
 * A libp2p relay for browser tabs: WebSockets listener, circuit relay v2 server (tabs reserve a slot and are
 * reachable at `<relay>/p2p-circuit/p2p/<tab>`, which WebRTC uses for signalling), identify, ping, and gossipsub so
 * that tabs subscribed to the same topics find each other through it.
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const node = await createLibp2p({
    addresses: { listen: [`/ip4/${options.host}/tcp/${options.port}/ws`] },
    transports: [webSockets()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: 1024 },
    // A tab busy coding or storing shards answers pings late; libp2p's default wait (5 s) dropped such tabs, and
    // with them their reservations' reach. The relay waits for an answer as long as the tabs wait for each other.
    connectionMonitor: TAB_CONNECTION_MONITOR,
    services: {
      identify: identify(),
      ping: ping(),
      relay: circuitRelayServer({
        reservations: { maxReservations: options.maxReservations ?? 512 },
      }),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, doPX: true }),
    },
  });
  await node.start();
  // Keep the relay in every topic's mesh so messages between tabs flow through it.
  node.services.pubsub.addEventListener("subscription-change", (event) => {
    for (const { topic, subscribe } of event.detail.subscriptions) {
      if (subscribe && !node.services.pubsub.getTopics().includes(topic)) node.services.pubsub.subscribe(topic);
    }
  });
  const addresses = node.getMultiaddrs().map((ma) => ma.toString());
  return {
    node,
    addresses,
    stop: async () => {
      await node.stop();
    },
  };
}
