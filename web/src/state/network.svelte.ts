import type { PeerInfo, RelayStatus, TabulaNode } from "../p2p/node.ts";

/** What the UI shows of the tab's peer: its id, its relay reservation, and its peers with their connection kind. */
export class NetworkState {
  #node: TabulaNode;
  #peerId = $state("");
  #relay = $state.raw<RelayStatus>({ state: "none" });
  #peers = $state.raw<PeerInfo[]>([]);
  #now = $state(Date.now());
  #ticker: ReturnType<typeof setInterval> | undefined;

  constructor(node: TabulaNode) {
    this.#node = node;
    this.#peerId = node.peerId;
    const update = () => {
      this.#relay = node.relayStatus;
      this.#peers = node.peers();
      this.#tick();
    };
    node.addEventListener("change", update);
    update();
  }

  get peerId(): string {
    return this.#peerId;
  }
  get relay(): RelayStatus {
    return this.#relay;
  }
  /** Other tabs and servers this tab is connected to, relay first. */
  get peers(): PeerInfo[] {
    return this.#peers;
  }
  get directPeerCount(): number {
    return this.#peers.filter((p) => p.kind === "webrtc").length;
  }
  /** Seconds until the next relay dial when the relay is unreachable. */
  get retryInSeconds(): number | undefined {
    return this.#relay.state === "unreachable"
      ? Math.max(0, Math.ceil((this.#relay.retryAt - this.#now) / 1000))
      : undefined;
  }
  get node(): TabulaNode {
    return this.#node;
  }

  #tick(): void {
    this.#now = Date.now();
    if (this.#relay.state === "unreachable" && !this.#ticker) {
      this.#ticker = setInterval(() => {
        this.#now = Date.now();
      }, 1000);
    } else if (this.#relay.state !== "unreachable" && this.#ticker) {
      clearInterval(this.#ticker);
      this.#ticker = undefined;
    }
  }
}
