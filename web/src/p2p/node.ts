import { noise } from "@chainsafe/libp2p-noise";
import { yamux } from "@chainsafe/libp2p-yamux";
import { withBitswap } from "@helia/bitswap";
import { withLibp2pLight } from "@helia/libp2p";
import { circuitRelayTransport } from "@libp2p/circuit-relay-v2";
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from "@libp2p/crypto/keys";
import { type GossipSub, gossipsub } from "@libp2p/gossipsub";
import { identify } from "@libp2p/identify";
import type { Connection, DialTarget, PeerId, PrivateKey } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { type Ping, ping } from "@libp2p/ping";
import { webRTC } from "@libp2p/webrtc";
import { webSockets } from "@libp2p/websockets";
import { webTransport } from "@libp2p/webtransport";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { IDBBlockstore } from "blockstore-idb";
import { IDBDatastore } from "datastore-idb";
import { createHeliaLight, type Helia, type Pins } from "helia";
import type { Libp2p, Libp2pOptions } from "libp2p";
import {
  DIAL_TIMEOUT_MS,
  PRESENCE_INTERVAL_MS,
  PRESENCE_REPLY_DELAY_MS,
  PRESENCE_TOPIC,
  RELAY_PING_INTERVAL_MS,
  RELAY_PING_TIMEOUT_MS,
  RELAY_RETRY_MAX_MS,
  RELAY_RETRY_MIN_MS,
  TAB_CONNECTION_LIMITS,
  TAB_CONNECTION_MONITOR,
  TAB_PING,
} from "./constants.ts";
import { directTargets } from "./direct-targets.ts";
import { type ConnectionKind, connectionKind, decodePresence, encodePresence } from "./presence.ts";
import { type Audit, type AuditHost, audit } from "./protocols/audit/index.ts";
import { type ShardFetch, type ShardFetchHost, shardFetch } from "./protocols/shard-fetch/index.ts";
import { type ShardStore, type ShardStoreHost, shardStore } from "./protocols/shard-store/index.ts";
import {
  type Transfer,
  type TransferCarrier,
  type TransferProxy,
  transfer,
  transferProxy,
} from "./protocols/transfer/index.ts";
import { watchRelayLink } from "./relay-watch.ts";
import { rankSpeakers } from "./speakers.ts";
import { closeWithWebRtcTransport } from "./webrtc-transport-watch.ts";

export type TabulaServices = {
  identify: ReturnType<ReturnType<typeof identify>>;
  ping: Ping;
  pubsub: GossipSub;
  shardStore: ShardStore;
  shardFetch: ShardFetch;
  audit: Audit;
  transfer: Transfer;
  transferProxy: TransferProxy;
};
export type TabulaLibp2p = Libp2p<TabulaServices>;

export interface PeerInfo {
  peerId: string;
  /** The best connection to this peer: a direct WebRTC one wins over a relayed one. */
  kind: ConnectionKind;
  remoteAddr: string;
  /** True for the relay this tab holds its reservation on. */
  isRelay: boolean;
}

export type RelayStatus =
  | { state: "connecting"; relay: string; attempt: number }
  | { state: "reserved"; relay: string; circuitAddrs: string[] }
  | { state: "unreachable"; relay: string; attempt: number; retryAt: number; error: string }
  | { state: "none" };

/**
 * The host role the shard protocols serve through, each by its own narrow interface: admitting and writing pushes
 * (shard-store), which pieces to serve (shard-fetch), the held shards to prove (audit).
 */
export interface HostRole {
  shardStore: ShardStoreHost;
  shardFetch: ShardFetchHost;
  audit: AuditHost;
}

/** This peer's own block store (hosted pieces, public content) and the pins of the Helia on it. */
export interface NodeStorage {
  blockstore: IDBBlockstore;
  pins: Pins;
}

export interface NodeOptions {
  relays: string[];
  /**
   * Names the IndexedDB databases of this peer's block store (hosted shards and public IPFS content) and data
   * store, so that a tab that reloads gets its own blocks back.
   */
  storeName: string;
  /** Allow dialing private and `ws://` addresses (a local network); public deployments keep the default gater. */
  localNetwork: boolean;
  /** Persisted identity (protobuf-encoded private key); a new one is generated and reported when absent. */
  privateKey?: Uint8Array;
  /**
   * Serve the shard protocols as a host, through the role built over this peer's storage; without it this peer
   * only speaks them as a client.
   */
  hosting?: (storage: NodeStorage) => HostRole;
  /** What this tab carries paid transfers with, for peers that cannot reach each other (read at every route). */
  carrier?: () => TransferCarrier | undefined;
}

/** The browser's libp2p configuration: WebRTC between tabs, WebSockets/WebTransport to servers, relay client. */
export function browserLibp2pOptions(options: {
  privateKey: PrivateKey;
  localNetwork: boolean;
  hosting?: HostRole;
  carrier?: () => TransferCarrier | undefined;
  /** Opens (or reuses) a direct link to a peer (a sender a carried transfer comes from). */
  directTarget?: (peer: string, options?: { signal?: AbortSignal }) => Promise<DialTarget>;
}): Libp2pOptions<TabulaServices> {
  // The shard protocols never run over a relayed connection (128 KiB limit): callers dial the direct WebRTC link.
  const host = options.hosting;
  return {
    privateKey: options.privateKey,
    addresses: { listen: ["/p2p-circuit", "/webrtc"] },
    transports: [
      webSockets(),
      webTransport(),
      webRTC(),
      circuitRelayTransport({ reservationCompletionTimeout: 10_000 }),
    ],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionManager: { ...TAB_CONNECTION_LIMITS },
    connectionMonitor: TAB_CONNECTION_MONITOR,
    ...(options.localNetwork ? { connectionGater: { denyDialMultiaddr: () => false } } : {}),
    services: {
      identify: identify(),
      ping: ping({ ...TAB_PING }),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, emitSelf: false }),
      shardStore: shardStore(host ? { host: host.shardStore } : {}),
      shardFetch: shardFetch(host ? { host: host.shardFetch } : {}),
      audit: audit(host ? { host: host.audit } : {}),
      transfer: transfer(),
      transferProxy: transferProxy({
        ...(options.carrier ? { carrier: options.carrier } : {}),
        ...(options.directTarget ? { directTarget: options.directTarget } : {}),
      }),
    },
  };
}

/**
 * The tab's peer: keeps a relay reservation (retrying with backoff), announces itself on the presence topic, and
 * upgrades every announced peer to a direct WebRTC connection. Emits `change` whenever what the UI shows changed.
 */
export class TabulaNode extends EventTarget {
  /** Helia on this node's libp2p, with bitswap and the IndexedDB block store. */
  readonly helia: Helia & { libp2p: TabulaLibp2p };
  readonly libp2p: TabulaLibp2p;
  readonly privateKey: PrivateKey;
  /** This peer's own block store (hosted pieces, public content), never reaching out to the network. */
  readonly blockstore: IDBBlockstore;
  #relays: string[];
  #relayPeer: PeerId | undefined;
  #relayStatus: RelayStatus = { state: "none" };
  #stopped = false;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  #replyTimer: ReturnType<typeof setTimeout> | undefined;
  #dialing = new Set<string>();
  #relayLoop: Promise<void> | undefined;
  #wakeRelayLoop: (() => void) | undefined;

  private constructor(
    helia: Helia & { libp2p: TabulaLibp2p },
    privateKey: PrivateKey,
    relays: string[],
    blockstore: IDBBlockstore,
  ) {
    super();
    this.blockstore = blockstore;
    this.helia = helia;
    this.libp2p = helia.libp2p;
    this.privateKey = privateKey;
    this.#relays = relays;
  }

  /** Creates and starts the node; `onNewKey` receives a freshly generated identity to persist. */
  static async start(options: NodeOptions & { onNewKey?: (key: Uint8Array) => Promise<void> }): Promise<TabulaNode> {
    let privateKey: PrivateKey;
    if (options.privateKey) {
      privateKey = privateKeyFromProtobuf(options.privateKey);
    } else {
      privateKey = await generateKeyPair("Ed25519");
      await options.onNewKey?.(privateKeyToProtobuf(privateKey));
    }
    const blockstore = new IDBBlockstore(`${options.storeName}-blocks`);
    const datastore = new IDBDatastore(`${options.storeName}-data`);
    await Promise.all([blockstore.open(), datastore.open()]);
    const light = createHeliaLight({ blockstore, datastore });
    const hosting = options.hosting?.({ blockstore, pins: light.pins });
    // The proxy dials a carried transfer's sender as the node does any direct link (WebRTC through the relay, with
    // the node's own dial timeout), once the node exists.
    let self: TabulaNode | undefined;
    const directTarget = async (peer: string, options: { signal?: AbortSignal } = {}): Promise<DialTarget> => {
      if (!self) throw new Error("the peer has not started yet");
      return await self.dialDirect(peer, options.signal ? { signal: options.signal } : {});
    };
    const helia = withBitswap(
      withLibp2pLight(
        light,
        browserLibp2pOptions({
          privateKey,
          localNetwork: options.localNetwork,
          ...(hosting ? { hosting } : {}),
          ...(options.carrier ? { carrier: options.carrier, directTarget } : {}),
        }),
      ),
    );
    await helia.start();
    const node = new TabulaNode(helia, privateKey, options.relays, blockstore);
    self = node;
    node.#wire();
    node.#relayLoop = node.#keepRelay();
    return node;
  }

  get peerId(): string {
    return this.libp2p.peerId.toString();
  }

  get relayStatus(): RelayStatus {
    return this.#relayStatus;
  }

  /** Every connected peer with its best connection. */
  peers(): PeerInfo[] {
    const byPeer = new Map<string, PeerInfo>();
    const rank: Record<ConnectionKind, number> = { webrtc: 4, webtransport: 3, websockets: 2, relayed: 1, other: 0 };
    for (const connection of this.libp2p.getConnections()) {
      if (connection.status !== "open") continue;
      const peerId = connection.remotePeer.toString();
      const remoteAddr = connection.remoteAddr.toString();
      const kind = connectionKind(remoteAddr, connection.limits != null);
      const current = byPeer.get(peerId);
      if (!current || rank[kind] > rank[current.kind]) {
        byPeer.set(peerId, {
          peerId,
          kind,
          remoteAddr,
          isRelay: this.#relayPeer?.equals(connection.remotePeer) ?? false,
        });
      }
    }
    return [...byPeer.values()].sort(
      (a, b) => Number(b.isRelay) - Number(a.isRelay) || a.peerId.localeCompare(b.peerId),
    );
  }

  /** This peer's relayed addresses (where other tabs reach it for WebRTC signalling). */
  circuitAddrs(): string[] {
    return this.#circuitAddrs();
  }

  /** True when a direct WebRTC connection to `peer` is open. */
  isDirect(peer: string): boolean {
    try {
      return this.#hasDirect(peerIdFromString(peer));
    } catch {
      return false;
    }
  }

  /**
   * Where to reach `peer` over a direct WebRTC link: its relayed addresses (from `addrs`, the peer store, or our
   * relays, so that a peer known only by its id is reached too) turned into `/p2p-circuit/webrtc` ones (see
   * direct-targets.ts). Dialing them reuses an open direct connection or opens one; the shard and transfer
   * protocols are refused on relayed connections, so they are always given this target.
   */
  async directTarget(peer: string, addrs: readonly string[] = []): Promise<Multiaddr[]> {
    const id = peerIdFromString(peer);
    const known = new Set<string>(addrs);
    try {
      for (const address of (await this.libp2p.peerStore.get(id)).addresses) known.add(address.multiaddr.toString());
    } catch {
      // not in the peer store yet
    }
    const status = this.#relayStatus;
    const reservedOn =
      status.state === "reserved" && this.#relayPeer
        ? { relay: status.relay, relayPeer: this.#relayPeer.toString() }
        : undefined;
    return directTargets(peer, { known, relays: this.#relays, ...(reservedOn ? { reservedOn } : {}) }).map((a) =>
      multiaddr(a),
    );
  }

  /**
   * Peers that said (identify) they speak `protocol`, best first (see {@link rankSpeakers}): those connected now,
   * and those whose link dropped since, as long as the peer store keeps them.
   */
  async peersSpeaking(protocol: string): Promise<string[]> {
    const connected = new Set(this.libp2p.getPeers().map((id) => id.toString()));
    const known = await this.libp2p.peerStore.all({ filters: [(peer) => peer.protocols.includes(protocol)] });
    return rankSpeakers(
      known.map(({ id }) => {
        const peer = id.toString();
        return { peer, connected: connected.has(peer), direct: this.isDirect(peer) };
      }),
    );
  }

  /**
   * Opens (or reuses) a direct WebRTC connection to `peer`; resolves to the target the protocols should dial.
   * `fresh` first closes what is open to the peer: a tab that reloaded leaves a connection that looks open for
   * a while on this side.
   */
  async dialDirect(
    peer: string,
    options: { signal?: AbortSignal; addrs?: readonly string[]; fresh?: boolean } = {},
  ): Promise<Multiaddr[]> {
    const target = await this.directTarget(peer, options.addrs);
    if (options.fresh) await this.libp2p.hangUp(peerIdFromString(peer)).catch(() => {});
    if (!this.isDirect(peer)) {
      const signal = AbortSignal.any([
        AbortSignal.timeout(DIAL_TIMEOUT_MS),
        ...(options.signal ? [options.signal] : []),
      ]);
      await this.libp2p.dial(target, { signal });
      this.#emit();
    }
    return target;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    if (this.#replyTimer) clearTimeout(this.#replyTimer);
    this.#wakeRelayLoop?.();
    await this.helia.stop();
    await this.#relayLoop;
  }

  #emit(): void {
    this.dispatchEvent(new CustomEvent("change"));
  }

  #later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      fn();
    }, ms);
    this.#timers.add(timer);
  }

  #wire(): void {
    const { libp2p } = this;
    libp2p.addEventListener("connection:open", (event) => {
      closeWithWebRtcTransport(event.detail);
      this.#emit();
    });
    libp2p.addEventListener("connection:close", (event) => {
      if (this.#relayPeer && event.detail.remotePeer.equals(this.#relayPeer)) {
        const stillConnected = libp2p.getConnections(this.#relayPeer).some((c) => c.status === "open");
        if (!stillConnected) this.#wakeRelayLoop?.();
      }
      this.#emit();
    });
    libp2p.addEventListener("self:peer:update", () => {
      const circuitAddrs = this.#circuitAddrs();
      if (circuitAddrs.length > 0 && this.#relayStatus.state !== "none") {
        const wasReserved = this.#relayStatus.state === "reserved";
        this.#relayStatus = { state: "reserved", relay: this.#relayStatus.relay, circuitAddrs };
        if (!wasReserved) this.#announce();
      }
      this.#emit();
    });
    const pubsub = libp2p.services.pubsub;
    pubsub.subscribe(PRESENCE_TOPIC);
    pubsub.addEventListener("subscription-change", (event) => {
      if (event.detail.subscriptions.some((s) => s.topic === PRESENCE_TOPIC && s.subscribe)) this.#announce();
    });
    pubsub.addEventListener("message", (event) => {
      const message = event.detail;
      if (message.topic !== PRESENCE_TOPIC || message.type !== "signed") return;
      const presence = decodePresence(message.data);
      if (!presence) return;
      this.#onPresence(message.from, presence.addrs);
    });
    const tick = () => {
      if (this.#stopped) return;
      this.#announce();
      this.#later(PRESENCE_INTERVAL_MS, tick);
    };
    this.#later(PRESENCE_INTERVAL_MS, tick);
  }

  #circuitAddrs(): string[] {
    return this.libp2p
      .getMultiaddrs()
      .map((ma) => ma.toString())
      .filter((a) => a.includes("/p2p-circuit"));
  }

  #announce(): void {
    const addrs = this.#circuitAddrs();
    if (this.#stopped || addrs.length === 0) return;
    this.libp2p.services.pubsub.publish(PRESENCE_TOPIC, encodePresence({ addrs })).catch(() => {
      // Nobody subscribed yet; the next tick retries.
    });
  }

  #hasDirect(peer: PeerId): boolean {
    return this.libp2p
      .getConnections(peer)
      .some((c) => c.status === "open" && connectionKind(c.remoteAddr.toString(), c.limits != null) === "webrtc");
  }

  /** Upgrades an announced peer to direct WebRTC; the lower peer id dials so that two tabs never dial each other at once. */
  #onPresence(from: PeerId, addrs: string[]): void {
    if (from.equals(this.libp2p.peerId) || this.#hasDirect(from)) return;
    const id = from.toString();
    if (this.peerId > id) {
      // The other side dials; make sure it has heard of us.
      if (!this.#replyTimer) {
        this.#replyTimer = setTimeout(() => {
          this.#replyTimer = undefined;
          this.#announce();
        }, PRESENCE_REPLY_DELAY_MS);
      }
      return;
    }
    if (this.#dialing.has(id)) return;
    const target = addrs
      .map((a) => (a.includes("/webrtc") ? a : `${a.replace(new RegExp(`/p2p/${id}$`), "")}/webrtc/p2p/${id}`))
      .find((a) => a.includes("/p2p-circuit"));
    if (!target) return;
    this.#dialing.add(id);
    this.libp2p
      .dial(multiaddr(target), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) })
      .catch(() => {
        // Retried on the peer's next announcement.
      })
      .finally(() => {
        this.#dialing.delete(id);
        this.#emit();
      });
  }

  /**
   * Dials the configured relays in turn until one holds our reservation; redials with backoff when the link drops,
   * and when it stops answering pings (the relay may have dropped it without the socket closing).
   */
  async #keepRelay(): Promise<void> {
    let attempt = 0;
    let index = 0;
    while (!this.#stopped) {
      if (this.#relays.length === 0) {
        this.#relayStatus = { state: "none" };
        this.#emit();
        return;
      }
      const relay = this.#relays[index % this.#relays.length] as string;
      attempt++;
      this.#relayStatus = { state: "connecting", relay, attempt };
      this.#emit();
      let connection: Connection | undefined;
      try {
        connection = await this.libp2p.dial(multiaddr(relay), { signal: AbortSignal.timeout(DIAL_TIMEOUT_MS) });
        this.#relayPeer = connection.remotePeer;
        attempt = 0;
        const circuitAddrs = this.#circuitAddrs();
        if (circuitAddrs.length > 0) {
          this.#relayStatus = { state: "reserved", relay, circuitAddrs };
          this.#announce();
        }
        this.#emit();
        // Sleep until the relay connection closes, stops carrying pings, or the node stops.
        const watching = new AbortController();
        const link = connection;
        await new Promise<void>((resolve) => {
          this.#wakeRelayLoop = resolve;
          void watchRelayLink(this.libp2p.services.ping, link, {
            intervalMs: RELAY_PING_INTERVAL_MS,
            timeoutMs: RELAY_PING_TIMEOUT_MS,
            signal: watching.signal,
          }).then(resolve);
        });
        watching.abort();
        if (this.#stopped) return;
      } catch (error) {
        if (this.#stopped) return;
        const delay = Math.min(RELAY_RETRY_MAX_MS, RELAY_RETRY_MIN_MS * 2 ** Math.min(attempt - 1, 10));
        this.#relayStatus = {
          state: "unreachable",
          relay,
          attempt,
          retryAt: Date.now() + delay,
          error: error instanceof Error ? error.message : String(error),
        };
        this.#emit();
        index++;
        await new Promise<void>((resolve) => {
          this.#wakeRelayLoop = resolve;
          this.#later(delay, resolve);
        });
      }
    }
  }
}
