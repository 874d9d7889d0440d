import type { PeerInfo, Peers, RelayStatus } from "../core/peers/peers.ts";

/** What the UI shows of the tab's peer: its id, its relay reservation, and its peers with their connection kind. */
export class NetworkState {
  #peerId = $state("");
  #relay = $state.raw<RelayStatus>({ state: "none" });
  #peers = $state.raw<readonly PeerInfo[]>([]);
  #directPeerCount = $state(0);
  #retryInSeconds = $state<number | undefined>();

  constructor(peers: Peers) {
    const update = () => {
      this.#peerId = peers.peerId;
      this.#relay = peers.relay;
      this.#peers = peers.peers;
      this.#directPeerCount = peers.directPeerCount;
      this.#retryInSeconds = peers.retryInSeconds;
    };
    peers.addEventListener("change", update);
    update();
  }

  get peerId(): string {
    return this.#peerId;
  }
  get relay(): RelayStatus {
    return this.#relay;
  }
  /** Other tabs and servers this tab is connected to, relay first. */
  get peers(): readonly PeerInfo[] {
    return this.#peers;
  }
  get directPeerCount(): number {
    return this.#directPeerCount;
  }
  /** Seconds until the next relay dial when the relay is unreachable. */
  get retryInSeconds(): number | undefined {
    return this.#retryInSeconds;
  }
}
