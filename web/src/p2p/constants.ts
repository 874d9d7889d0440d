/** Pubsub topic where tabs announce their relayed WebRTC addresses so that other tabs can dial them directly. */
export const PRESENCE_TOPIC = "tabula/peers/1";
/** How often a tab re-announces itself. */
export const PRESENCE_INTERVAL_MS = 5_000;
/** Delay before answering a newcomer's announcement with our own (coalesces bursts). */
export const PRESENCE_REPLY_DELAY_MS = 300;
/** Largest presence message accepted. */
export const PRESENCE_MAX_BYTES = 4_096;
/** First retry delay after the relay cannot be reached; doubles up to {@link RELAY_RETRY_MAX_MS}. */
export const RELAY_RETRY_MIN_MS = 1_000;
export const RELAY_RETRY_MAX_MS = 30_000;
/** A dial to a relay or peer that takes longer than this is abandoned. */
export const DIAL_TIMEOUT_MS = 15_000;
/**
 * The tab's limits on inbound connections. Every inbound connection of a tab arrives through its relay (a relayed
 * one, then WebRTC signalled over it), so libp2p sees one address for all peers, and its default of 5 new
 * connections per second per address turned away the sixth peer to reach a tab within a second (a host that an
 * owner, a downloader and newly arrived tabs dial at once). The relay applies its own limits per peer. Setting up
 * a WebRTC connection on a busy tab is slow, so more than libp2p's default 10 may be under way at once.
 */
export const TAB_CONNECTION_LIMITS = {
  inboundConnectionThreshold: 100,
  maxIncomingPendingConnections: 32,
} as const;
/**
 * How the tab tells that a connection died. libp2p pings every connection every 10 s and by default closes one
 * whose ping takes over 5 s; a tab busy storing or coding shards, on a link busy carrying one, answers later than
 * that, and closing the link killed the transfer on it. A tab that closes its side is still noticed at once (its
 * WebRTC transports close: see webrtc-transport-watch.ts), and a silent one after this longer wait.
 */
export const TAB_CONNECTION_MONITOR = {
  pingTimeout: { minTimeout: 30_000 },
} as const;
