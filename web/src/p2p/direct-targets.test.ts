import { describe, expect, it } from "vitest";
import { directTargets } from "./direct-targets.ts";

const PEER = "12D3KooWPeer";
const RELAY = "/ip4/127.0.0.1/tcp/9090/ws";

describe("direct targets", () => {
  it("turns a peer's relayed addresses into WebRTC ones and skips the others", () => {
    expect(
      directTargets(PEER, {
        known: [
          `${RELAY}/p2p/12D3KooWRelay/p2p-circuit/p2p/${PEER}`,
          `${RELAY}/p2p/12D3KooWRelay/p2p-circuit/webrtc/p2p/${PEER}`,
          "/ip4/10.0.0.2/udp/4001/quic-v1",
        ],
        relays: [],
      }),
    ).toEqual([`${RELAY}/p2p/12D3KooWRelay/p2p-circuit/webrtc/p2p/${PEER}`]);
  });

  it("reaches a peer known only by its id through each relay whose id is known", () => {
    const other = "/dns4/relay.example/tcp/443/wss";
    expect(directTargets(PEER, { known: [], relays: [`${RELAY}/p2p/12D3KooWRelay`, other] })).toEqual([
      `${RELAY}/p2p/12D3KooWRelay/p2p-circuit/webrtc/p2p/${PEER}`,
    ]);
    // A relay configured without its id is used once this tab holds a reservation on it.
    expect(
      directTargets(PEER, { known: [], relays: [other], reservedOn: { relay: other, relayPeer: "12D3KooWOther" } }),
    ).toEqual([`${other}/p2p/12D3KooWOther/p2p-circuit/webrtc/p2p/${PEER}`]);
  });
});
