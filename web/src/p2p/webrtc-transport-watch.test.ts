import type { Connection } from "@libp2p/interface";
import { describe, expect, it } from "vitest";
import { closeWithWebRtcTransport, WebRtcTransportClosedError } from "./webrtc-transport-watch.ts";

class FakeTransport extends EventTarget {
  state: string;
  constructor(state: string) {
    super();
    this.state = state;
  }
  set(state: string): void {
    this.state = state;
    this.dispatchEvent(new Event("statechange"));
  }
}

function webRtcConnection(sctpState = "connected", dtlsState = "connected") {
  const dtls = new FakeTransport(dtlsState);
  const sctp = Object.assign(new FakeTransport(sctpState), { transport: dtls });
  const aborted: Error[] = [];
  const connection = {
    status: "open",
    remotePeer: { toString: () => "12D3KooWPeer" },
    maConn: { peerConnection: { sctp } },
    abort(error: Error) {
      aborted.push(error);
      this.status = "closed";
    },
  };
  return { connection: connection as unknown as Connection, sctp, dtls, aborted };
}

describe("closeWithWebRtcTransport", () => {
  it("aborts the connection when its SCTP transport closes, once", () => {
    const { connection, sctp, dtls, aborted } = webRtcConnection();
    expect(closeWithWebRtcTransport(connection)).toBe(true);
    sctp.set("connecting");
    expect(aborted).toHaveLength(0);
    sctp.set("closed");
    dtls.set("closed");
    expect(aborted).toHaveLength(1);
    expect(aborted[0]).toBeInstanceOf(WebRtcTransportClosedError);
    expect(aborted[0]?.message).toMatch(/12D3KooWPeer was closed by the other side/);
  });

  it("aborts it when the DTLS transport under it closes or fails", () => {
    for (const state of ["closed", "failed"]) {
      const { connection, dtls, aborted } = webRtcConnection();
      closeWithWebRtcTransport(connection);
      dtls.set(state);
      expect(aborted).toHaveLength(1);
    }
  });

  it("aborts at once a connection whose transports closed before it was watched", () => {
    const { connection, aborted } = webRtcConnection("closed", "closed");
    closeWithWebRtcTransport(connection);
    expect(aborted).toHaveLength(1);
  });

  it("leaves alone a connection libp2p already closed", () => {
    const { connection, sctp, aborted } = webRtcConnection();
    closeWithWebRtcTransport(connection);
    (connection as { status: string }).status = "closed";
    sctp.set("closed");
    expect(aborted).toHaveLength(0);
  });

  it("does nothing for connections that are not WebRTC", () => {
    const relayed = { status: "open", remotePeer: "12D3KooWRelay", abort: () => {} } as unknown as Connection;
    expect(closeWithWebRtcTransport(relayed)).toBe(false);
  });
});
