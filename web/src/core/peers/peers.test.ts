import { afterEach, describe, expect, it, vi } from "vitest";
import { type PeerInfo, type PeerSource, Peers, RETRY_COUNTDOWN_INTERVAL_MS, type RelayStatus } from "./peers.ts";

class FakeNode extends EventTarget implements PeerSource {
  readonly peerId = "12D3KooWself";
  relayStatus: RelayStatus = { state: "connecting", relay: "/dns4/relay/tcp/443/wss", attempt: 1 };
  list: PeerInfo[] = [];
  peers(): PeerInfo[] {
    return this.list;
  }
  change(patch: { relayStatus?: RelayStatus; list?: PeerInfo[] }): void {
    Object.assign(this, patch);
    this.dispatchEvent(new Event("change"));
  }
}

const peer = (peerId: string, kind: PeerInfo["kind"], isRelay = false): PeerInfo => ({
  peerId,
  kind,
  remoteAddr: `/ip4/127.0.0.1/tcp/1/p2p/${peerId}`,
  isRelay,
});

afterEach(() => {
  vi.useRealTimers();
});

describe("Peers", () => {
  it("follows the node's relay and peers and counts the direct ones", () => {
    const node = new FakeNode();
    const peers = new Peers(node);
    const changes = vi.fn();
    peers.addEventListener("change", changes);
    expect(peers.peerId).toBe("12D3KooWself");
    expect(peers.relay.state).toBe("connecting");
    expect(peers.peers).toEqual([]);

    node.change({
      relayStatus: { state: "reserved", relay: "/dns4/relay/tcp/443/wss", circuitAddrs: ["/p2p-circuit"] },
      list: [peer("relay", "websockets", true), peer("a", "webrtc"), peer("b", "relayed"), peer("c", "webrtc")],
    });
    expect(changes).toHaveBeenCalledTimes(1);
    expect(peers.relay.state).toBe("reserved");
    expect(peers.peers.map((p) => p.peerId)).toEqual(["relay", "a", "b", "c"]);
    expect(peers.directPeerCount).toBe(2);
    expect(peers.retryInSeconds).toBeUndefined();
  });

  it("counts down to the relay's next dial every second while it is unreachable, and stops after", () => {
    vi.useFakeTimers();
    let nowMs = 1_000_000;
    const node = new FakeNode();
    const peers = new Peers(node, { now: () => nowMs });
    const changes = vi.fn();
    peers.addEventListener("change", changes);
    node.change({
      relayStatus: { state: "unreachable", relay: "r", attempt: 2, retryAt: nowMs + 4_500, error: "refused" },
    });
    expect(peers.retryInSeconds).toBe(5);
    nowMs += RETRY_COUNTDOWN_INTERVAL_MS;
    vi.advanceTimersByTime(RETRY_COUNTDOWN_INTERVAL_MS);
    expect(changes).toHaveBeenCalledTimes(2);
    expect(peers.retryInSeconds).toBe(4);
    nowMs += 10_000;
    expect(peers.retryInSeconds).toBe(0);

    node.change({ relayStatus: { state: "connecting", relay: "r", attempt: 3 } });
    expect(peers.retryInSeconds).toBeUndefined();
    const after = changes.mock.calls.length;
    vi.advanceTimersByTime(5 * RETRY_COUNTDOWN_INTERVAL_MS);
    expect(changes).toHaveBeenCalledTimes(after);
  });

  it("stops following the node and the countdown on stop()", () => {
    vi.useFakeTimers();
    const node = new FakeNode();
    node.relayStatus = { state: "unreachable", relay: "r", attempt: 1, retryAt: Date.now() + 9_000, error: "x" };
    const peers = new Peers(node);
    const changes = vi.fn();
    peers.addEventListener("change", changes);
    peers.stop();
    node.change({ list: [peer("a", "webrtc")] });
    vi.advanceTimersByTime(5 * RETRY_COUNTDOWN_INTERVAL_MS);
    expect(changes).not.toHaveBeenCalled();
    expect(peers.peers).toEqual([]);
  });
});
