import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import type { PrivateKey, ServiceMap } from "@libp2p/interface";
import { tcp } from "@libp2p/tcp";
import { createLibp2p, type Libp2p, type Libp2pOptions, type ServiceFactoryMap } from "libp2p";

/**
 * A Node libp2p peer on loopback TCP (noise, yamux) carrying the given services: the same protocol modules as
 * the tab, over a transport Node has. Used by the protocol tests and the simulation.
 */
export async function createTcpNode<S extends ServiceMap>(
  services: ServiceFactoryMap<S>,
  options: {
    privateKey?: PrivateKey;
    connectionManager?: Libp2pOptions["connectionManager"];
    connectionMonitor?: Libp2pOptions["connectionMonitor"];
  } = {},
): Promise<Libp2p<S>> {
  return await createLibp2p<S>({
    ...(options.privateKey ? { privateKey: options.privateKey } : {}),
    addresses: { listen: ["/ip4/127.0.0.1/tcp/0"] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { maxConnections: 1_000, ...options.connectionManager },
    ...(options.connectionMonitor ? { connectionMonitor: options.connectionMonitor } : {}),
    services,
  });
}
