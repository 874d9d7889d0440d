import { describe, expect, it } from "vitest";
import { type PeerInfo, Peers, type RelayStatus } from "../core/peers/peers.ts";
import { NetworkState } from "./network.svelte.ts";

class FakeNode extends EventTarget {
  readonly peerId = "12D3KooWself";
  relayStatus: RelayStatus = { state: "none" };
  list: PeerInfo[] = [];
  peers(): PeerInfo[] {
    return this.list;
  }
}

describe("NetworkState", () => {
  it("mirrors the peers service: the peer id at once, then relay, peers and counts on each change", () => {
    const node = new FakeNode();
    const peers = new Peers(node);
    const state = new NetworkState(peers);
    expect(state.peerId).toBe("12D3KooWself");
    expect(state.relay).toEqual({ state: "none" });
    expect(state.peers).toEqual([]);
    expect(state.directPeerCount).toBe(0);

    node.relayStatus = { state: "unreachable", relay: "r", attempt: 1, retryAt: Date.now() + 3_000, error: "x" };
    node.list = [
      { peerId: "a", kind: "webrtc", remoteAddr: "/a", isRelay: false },
      { peerId: "b", kind: "relayed", remoteAddr: "/b", isRelay: false },
    ];
    node.dispatchEvent(new Event("change"));
    expect(state.relay.state).toBe("unreachable");
    expect(state.peers).toBe(peers.peers);
    expect(state.directPeerCount).toBe(1);
    expect(state.retryInSeconds).toBe(peers.retryInSeconds);
    expect(state.retryInSeconds).toBeGreaterThan(0);
    peers.stop();
  });
});
