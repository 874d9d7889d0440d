import type { CID } from "multiformats/cid";
import { deadline, raceSignal } from "../../../lib/signals.ts";
import { ManifestUnavailableError } from "../errors.ts";
import { childController } from "../parts.ts";
import { DISCOVERY_RETRY_MS, DISCOVERY_TIMEOUT_MS } from "./constants.ts";
import { type ProviderSessionParts, untilHostsChange } from "./providers.ts";

export interface FindManifestParts
  extends Pick<ProviderSessionParts, "self" | "dial" | "shardFetch" | "hosts" | "holders" | "hostsChanged"> {
  /** Last resort for the manifest: any peer, over bitswap. */
  fetchBlock?: (cid: CID, signal: AbortSignal) => Promise<Uint8Array | undefined>;
}

/**
 * A file's manifest from the network: known holders and announced hosts are asked at once and the first verified
 * answer wins; then bitswap; then the hosts heard since, until {@link DISCOVERY_TIMEOUT_MS} has passed.
 */
export async function findManifest(parts: FindManifestParts, cid: CID, signal: AbortSignal): Promise<Uint8Array> {
  const search = deadline(DISCOVERY_TIMEOUT_MS, () => new ManifestUnavailableError(cid.toString()), signal);
  try {
    const asked = new Set<string>();
    const known = (await parts.holders?.(cid.toString()))?.flat() ?? [];
    while (!search.signal.aborted) {
      // A known holder that also announced itself is asked once.
      const candidates = [...new Set([...known, ...parts.hosts.list().map((h) => h.peer)])].filter(
        (peer) => peer !== parts.self && !asked.has(peer),
      );
      for (const peer of candidates) asked.add(peer);
      const bytes = await firstAnswer(parts, cid, candidates, search.signal);
      if (bytes) return bytes;
      if (parts.fetchBlock && asked.size > 0) {
        const attempt = deadline(
          DISCOVERY_RETRY_MS * 2,
          () => new DOMException("No peer gave the manifest over bitswap in time.", "TimeoutError"),
          search.signal,
        );
        const viaBitswap = await parts
          .fetchBlock(cid, attempt.signal)
          .catch(() => undefined)
          .finally(attempt.clear);
        if (viaBitswap) return viaBitswap;
      }
      await untilHostsChange(parts.hostsChanged, search.signal);
    }
  } finally {
    search.clear();
  }
  signal.throwIfAborted();
  throw new ManifestUnavailableError(cid.toString());
}

/** The manifest from whichever of `peers` answers first with it; `undefined` when none has it. */
async function firstAnswer(
  parts: Pick<FindManifestParts, "dial" | "shardFetch">,
  cid: CID,
  peers: readonly string[],
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  if (peers.length === 0) return undefined;
  const race = childController(signal);
  try {
    const answer = new Promise<Uint8Array | undefined>((resolve) => {
      let pending = peers.length;
      for (const peer of peers) {
        void (async () => {
          try {
            const target = await parts.dial(peer, race.signal);
            for await (const piece of parts.shardFetch.fetchPieces(target, [cid], { signal: race.signal })) {
              if (piece.bytes) resolve(piece.bytes);
            }
          } catch {
            // this host does not have it or is gone
          } finally {
            pending -= 1;
            if (pending === 0) resolve(undefined);
          }
        })();
      }
    });
    return await raceSignal(answer, signal).catch(() => undefined);
  } finally {
    race.abort(new DOMException("Another host answered.", "AbortError"));
  }
}
