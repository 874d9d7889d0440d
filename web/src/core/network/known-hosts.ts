import { peerIdFromString } from "@libp2p/peer-id";
import type { TabulaNode } from "../../p2p/node.ts";
import { HOSTS_TOPIC, type HostAnnouncement, HostDirectory } from "../../p2p/protocols/announce/index.ts";

/** A host as the owner's tab knows it: its latest announcement and what this tab measured of it. */
export interface KnownHost extends HostAnnouncement {
  /** Round trip of a ping over the direct link, once measured. */
  latencyMs?: number;
  /** When and why the last exchange with it failed, if it did recently. */
  failure?: { atMs: number; reason: string };
}

/** How long a failure counts against a host when picking hosts. */
export const FAILURE_MEMORY_MS = 5 * 60_000;
/** Measuring a host's latency (dialing it directly, then a ping) gives up after this. */
export const PING_TIMEOUT_MS = 10_000;

/**
 * The hosts heard on the hosts topic (signed announcements, kept fresh by {@link HostDirectory}), with the
 * latency and failures this tab saw. Every tab listens, so an owner can pick hosts and a tab opening a share
 * link can find who holds a file. Emits `change`.
 */
export class KnownHosts extends EventTarget {
  readonly directory = new HostDirectory();
  readonly #latency = new Map<string, number>();
  readonly #failures = new Map<string, { atMs: number; reason: string }>();
  #node: TabulaNode | undefined;
  #self = "";

  attach(node: TabulaNode): void {
    this.#node = node;
    this.#self = node.peerId;
    const pubsub = node.libp2p.services.pubsub;
    if (!pubsub.getTopics().includes(HOSTS_TOPIC)) pubsub.subscribe(HOSTS_TOPIC);
    pubsub.addEventListener("message", (event) => {
      const message = event.detail;
      if (message.topic !== HOSTS_TOPIC || message.type !== "signed") return;
      this.directory
        .receive(message.data, { from: message.from.toString() })
        .then(() => this.dispatchEvent(new CustomEvent("change")))
        .catch(() => {
          // Invalid, stale or forged announcements are ignored.
        });
    });
  }

  /** Every other host with a fresh announcement. */
  list(): KnownHost[] {
    const now = Date.now();
    return this.directory
      .hosts()
      .filter((host) => host.peer !== this.#self)
      .map((host) => {
        const latencyMs = this.#latency.get(host.peer);
        const failure = this.#failures.get(host.peer);
        return {
          ...host,
          ...(latencyMs === undefined ? {} : { latencyMs }),
          ...(failure && now - failure.atMs < FAILURE_MEMORY_MS ? { failure } : {}),
        };
      });
  }

  get(peer: string): KnownHost | undefined {
    return this.list().find((host) => host.peer === peer);
  }

  /** Records that an exchange with `peer` failed (it is picked last for a while). */
  reportFailure(peer: string, reason: string): void {
    this.#failures.set(peer, { atMs: Date.now(), reason });
    this.dispatchEvent(new CustomEvent("change"));
  }

  reportSuccess(peer: string): void {
    if (this.#failures.delete(peer)) this.dispatchEvent(new CustomEvent("change"));
  }

  /**
   * Pings each host over a direct link (dialing it), so that picking can prefer near hosts. A host that does not
   * answer in time is only left unmeasured: a busy tab is slow to set up WebRTC, and the push itself will tell.
   */
  async measure(peers: readonly string[], signal?: AbortSignal): Promise<void> {
    const node = this.#node;
    if (!node) return;
    await Promise.all(
      peers.map(async (peer) => {
        try {
          const timeout = AbortSignal.timeout(PING_TIMEOUT_MS);
          const both = signal ? AbortSignal.any([signal, timeout]) : timeout;
          const addrs = this.directory.get(peer)?.addrs ?? [];
          await node.dialDirect(peer, { signal: both, addrs });
          const rtt = await node.libp2p.services.ping.ping(peerIdFromString(peer), { signal: both });
          this.#latency.set(peer, rtt);
        } catch {
          this.#latency.delete(peer);
        }
      }),
    );
    this.dispatchEvent(new CustomEvent("change"));
  }
}
