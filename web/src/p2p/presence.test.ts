import { describe, expect, it } from "vitest";
import { connectionKind, decodePresence, encodePresence } from "./presence.ts";

describe("presence messages", () => {
  it("round-trips the announced addresses", () => {
    const addrs = ["/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWA/p2p-circuit/webrtc/p2p/12D3KooWB"];
    expect(decodePresence(encodePresence({ addrs }))).toEqual({ addrs });
  });

  it("rejects malformed, foreign-version and oversized messages", () => {
    const enc = new TextEncoder();
    expect(decodePresence(enc.encode("not json"))).toBeUndefined();
    expect(decodePresence(enc.encode(JSON.stringify({ v: 2, addrs: [] })))).toBeUndefined();
    expect(decodePresence(enc.encode(JSON.stringify({ v: 1, addrs: ["no-slash"] })))).toBeUndefined();
    expect(decodePresence(enc.encode(JSON.stringify({ v: 1, addrs: [42] })))).toBeUndefined();
    expect(decodePresence(new Uint8Array(5000).fill(32))).toBeUndefined();
  });
});

describe("connectionKind", () => {
  it("tells relayed, direct WebRTC and server connections apart", () => {
    expect(connectionKind("/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWA/p2p-circuit/p2p/12D3KooWB", true)).toBe("relayed");
    expect(connectionKind("/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWA/p2p-circuit/p2p/12D3KooWB")).toBe("relayed");
    // The dialer of a WebRTC connection sees the circuit it signalled through in the address; no limits apply.
    expect(connectionKind("/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWA/p2p-circuit/webrtc/p2p/12D3KooWB")).toBe("webrtc");
    expect(connectionKind("/ip4/127.0.0.1/udp/5000/webrtc/certhash/uEi/p2p/12D3KooWB")).toBe("webrtc");
    expect(connectionKind("/webrtc/p2p/12D3KooWB")).toBe("webrtc");
    expect(connectionKind("/ip4/127.0.0.1/tcp/9090/ws/p2p/12D3KooWA")).toBe("websockets");
    expect(connectionKind("/dns4/relay.example/tcp/443/wss/p2p/12D3KooWA")).toBe("websockets");
    expect(connectionKind("/ip4/1.2.3.4/udp/4001/quic-v1/webtransport/certhash/uEi")).toBe("webtransport");
  });
});
