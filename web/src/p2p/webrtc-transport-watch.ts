import type { Connection } from "@libp2p/interface";

/** The WebRTC transports of a connection are closed: the other tab closed its side, or is gone. */
export class WebRtcTransportClosedError extends Error {
  override name = "WebRtcTransportClosedError";
}

/** What this module reads of a connection's RTCPeerConnection: its SCTP transport and the DTLS one under it. */
interface WatchedSctp extends EventTarget {
  readonly state: string;
  readonly transport: EventTarget & { readonly state: string };
}

/** The SCTP transport of the RTCPeerConnection under a libp2p WebRTC connection, if any (libp2p does not type it). */
function sctpOf(connection: Connection): WatchedSctp | undefined {
  const maConn = (connection as unknown as { maConn?: { peerConnection?: { sctp?: WatchedSctp | null } } }).maConn;
  return maConn?.peerConnection?.sctp ?? undefined;
}

/**
 * Closes `connection` as soon as the WebRTC transports under it close. libp2p closes a WebRTC connection only when
 * its RTCPeerConnection's state becomes "failed" or "closed". When the other tab closes its side (a dial it gave
 * up, a tab closing), Chromium closes the SCTP and DTLS transports here at once, yet the connection's state stays
 * "connected", then "disconnected", for many seconds; libp2p keeps the connection open and hands it out for new
 * exchanges, whose streams fail or hang. Returns false for connections that are not WebRTC.
 */
export function closeWithWebRtcTransport(connection: Connection): boolean {
  const sctp = sctpOf(connection);
  if (!sctp) return false;
  const dtls = sctp.transport;
  const stop = () => {
    sctp.removeEventListener("statechange", check);
    dtls.removeEventListener("statechange", check);
  };
  const check = () => {
    if (connection.status !== "open") {
      stop();
      return;
    }
    if (sctp.state === "closed" || dtls.state === "closed" || dtls.state === "failed") {
      stop();
      connection.abort(
        new WebRtcTransportClosedError(`the WebRTC link to ${connection.remotePeer} was closed by the other side`),
      );
    }
  };
  sctp.addEventListener("statechange", check);
  dtls.addEventListener("statechange", check);
  check();
  return true;
}
