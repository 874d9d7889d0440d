import type { Connection } from "@libp2p/interface";
import type { Ping } from "@libp2p/ping";
import { sleep } from "../lib/signals.ts";

/**
 * Resolves once the link to the relay has stopped carrying anything, after closing it on this side, so that the
 * tab redials and the relay can reach it again. A relay that drops a tab (its liveness ping went unanswered for a
 * few seconds on a busy tab) cannot close the WebSocket under it: libp2p resets the socket with close code 1006,
 * which WebSocket implementations refuse to send, so the socket stays open and the tab never hears the link is
 * gone. The relay then answers every dial to the tab with NO_RESERVATION, because it has no connection to it.
 * Pinging the relay is the only way to tell; the watch stops when the link closes or `signal` aborts.
 */
export async function watchRelayLink(
  ping: Pick<Ping, "ping">,
  connection: Connection,
  options: { intervalMs: number; timeoutMs: number; signal: AbortSignal },
): Promise<void> {
  const { signal } = options;
  while (connection.status === "open" && !signal.aborted) {
    try {
      await sleep(options.intervalMs, signal);
    } catch {
      return;
    }
    if (connection.status !== "open") return;
    try {
      await ping.ping(connection.remotePeer, {
        signal: AbortSignal.any([AbortSignal.timeout(options.timeoutMs), signal]),
      });
    } catch (error) {
      if (signal.aborted) return;
      // A graceful close sends a valid WebSocket close frame, which a relay still holding the socket obeys.
      await connection.close({ signal: AbortSignal.timeout(options.timeoutMs) }).catch(() => {
        connection.abort(error instanceof Error ? error : new Error(String(error)));
      });
      return;
    }
  }
}
