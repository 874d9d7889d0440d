import type { PeerInfo, RelayStatus } from "../../p2p/node.ts";

export type { PeerInfo, RelayStatus };

/** How often the relay's retry countdown moves while the relay is unreachable. */
export const RETRY_COUNTDOWN_INTERVAL_MS = 1_000;

/** What the peers view reads of the tab's node (`TabulaNode`): it emits `change` when any of it changed. */
export interface PeerSource extends EventTarget {
  readonly peerId: string;
  readonly relayStatus: RelayStatus;
  peers(): PeerInfo[];
}

export interface PeersOptions {
  /** The clock the countdown reads; a test's fake. */
  now?: () => number;
}

/**
 * The tab's place in the network: its peer id, its relay reservation, and its peers with their connection kind.
 * Emits `change` whenever the node changed, and every second while the relay is unreachable so that the retry
 * countdown moves.
 */
export class Peers extends EventTarget {
  readonly #source: PeerSource;
  readonly #now: () => number;
  readonly #onChange = () => this.#update();
  #relay: RelayStatus = { state: "none" };
  #peers: PeerInfo[] = [];
  #ticker: ReturnType<typeof setInterval> | undefined;

  constructor(source: PeerSource, options: PeersOptions = {}) {
    super();
    this.#source = source;
    this.#now = options.now ?? Date.now;
    source.addEventListener("change", this.#onChange);
    this.#read();
  }

  get peerId(): string {
    return this.#source.peerId;
  }
  get relay(): RelayStatus {
    return this.#relay;
  }
  /** Other tabs and servers this tab is connected to, relay first. */
  get peers(): readonly PeerInfo[] {
    return this.#peers;
  }
  get directPeerCount(): number {
    return this.#peers.filter((p) => p.kind === "webrtc").length;
  }
  /** Seconds until the next relay dial when the relay is unreachable. */
  get retryInSeconds(): number | undefined {
    return this.#relay.state === "unreachable"
      ? Math.max(0, Math.ceil((this.#relay.retryAt - this.#now()) / 1000))
      : undefined;
  }

  /** Stops following the node and the countdown. */
  stop(): void {
    this.#source.removeEventListener("change", this.#onChange);
    this.#setTicking(false);
  }

  #read(): void {
    this.#relay = this.#source.relayStatus;
    this.#peers = this.#source.peers();
    this.#setTicking(this.#relay.state === "unreachable");
  }

  #update(): void {
    this.#read();
    this.#emit();
  }

  #setTicking(on: boolean): void {
    if (on && !this.#ticker) this.#ticker = setInterval(() => this.#emit(), RETRY_COUNTDOWN_INTERVAL_MS);
    else if (!on && this.#ticker) {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
    }
  }

  #emit(): void {
    this.dispatchEvent(new Event("change"));
  }
}
