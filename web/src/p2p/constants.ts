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
/**
 * How often the tab pings its relay, and how long it waits for the answer before it closes the link and redials.
 * The relay can forget a tab while the tab's socket to it stays open (see relay-watch.ts); meanwhile nobody can
 * reach the tab, so this is much shorter than the liveness wait of {@link TAB_CONNECTION_MONITOR}. The relay is a
 * server that answers at once; a redial after a late answer costs the tab only a second or two.
 */
export const RELAY_PING_INTERVAL_MS = 5_000;
export const RELAY_PING_TIMEOUT_MS = 10_000;
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
 * How the tab tells that a connection died: libp2p's connection monitor pings every connection and closes one whose
 * ping fails. Its defaults (a ping every 10 s, closing the link after 5 s without an answer) closed live links of
 * tabs busy storing or coding shards, which answer later than that, and killed the transfers on them; so the tab
 * waits `timeoutMs` for an answer. A ping must also never overlap the next one: the ping protocol allows one
 * outbound ping stream per peer (see {@link TAB_PING}), and a ping libp2p cannot open counts as a failed one, so
 * with a ping every 10 s and a 30 s wait, one slow answer closed the link. The interval is therefore longer than
 * the wait. A tab that closes its side is noticed at once (its WebRTC transports close: see
 * webrtc-transport-watch.ts); a silent one within interval plus wait.
 */
export function connectionMonitorSettings(timeoutMs: number) {
  return {
    pingInterval: Math.round(timeoutMs * 1.2),
    pingTimeout: { minTimeout: timeoutMs, maxTimeout: timeoutMs },
  };
}
export const TAB_CONNECTION_MONITOR = connectionMonitorSettings(30_000);
/**
 * The tab's ping service: two outbound pings per peer, one for the connection monitor's liveness ping and one for
 * measuring a host's latency before choosing hosts (hosts.ts), so that the two never refuse each other. libp2p's
 * default is one, as the ping spec asks of a dialer; the spec has listeners accept two so that overlapping pings
 * pass, and libp2p's do.
 */
export const TAB_PING = { maxOutboundStreams: 2 } as const;
