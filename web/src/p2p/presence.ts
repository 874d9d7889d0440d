import { PRESENCE_MAX_BYTES } from "./constants.ts";

/** What a tab announces on the presence topic. The sender's identity is the pubsub message's signed `from`. */
export interface Presence {
  /** Multiaddrs at which the sender accepts WebRTC connections (through its relay reservation). */
  addrs: string[];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodePresence(presence: Presence): Uint8Array {
  return encoder.encode(JSON.stringify({ v: 1, addrs: presence.addrs }));
}

/** Parses a presence message; returns undefined for anything malformed, oversized or of another version. */
export function decodePresence(bytes: Uint8Array): Presence | undefined {
  if (bytes.byteLength > PRESENCE_MAX_BYTES) return undefined;
  try {
    const value = JSON.parse(decoder.decode(bytes)) as { v?: unknown; addrs?: unknown };
    if (value.v !== 1 || !Array.isArray(value.addrs)) return undefined;
    const addrs = value.addrs.filter((a): a is string => typeof a === "string" && a.startsWith("/") && a.length < 512);
    return addrs.length === value.addrs.length ? { addrs } : undefined;
  } catch {
    return undefined;
  }
}

export type ConnectionKind = "webrtc" | "relayed" | "websockets" | "webtransport" | "other";

/**
 * Classifies a connection: relayed through a circuit (it has data/time limits), direct WebRTC (the dialer's address
 * still names the circuit it signalled through, so `/webrtc` decides), or to a server peer.
 */
export function connectionKind(remoteAddr: string, limited = false): ConnectionKind {
  if (limited) return "relayed";
  if (remoteAddr.includes("/webrtc")) return "webrtc";
  if (remoteAddr.includes("/p2p-circuit")) return "relayed";
  if (remoteAddr.includes("/webtransport")) return "webtransport";
  if (/\/wss?(\/|$)/.test(remoteAddr) || remoteAddr.includes("/tls/ws")) return "websockets";
  return "other";
}
