import type { DialTarget } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import type { Manifest } from "../../../lib/manifest.ts";
import { deadline, raceSignal, sleep } from "../../../lib/signals.ts";
import { PieceMismatchError } from "../../../p2p/protocols/common/errors.ts";
import { RetrievalUnpaidError } from "../errors.ts";
import { childController, errorText, type NetworkParts, retrievalTerms } from "../parts.ts";
import { DISCOVERY_RETRY_MS, DISCOVERY_TIMEOUT_MS, HOST_ATTEMPTS } from "./constants.ts";
import type { DownloadProgress, HostFetch } from "./progress.ts";
import { NotHeldError } from "./shard-stream.ts";

export interface ProviderSessionParts
  extends Pick<NetworkParts, "self" | "dial" | "shardFetch" | "hosts" | "payRetrieval"> {
  /** Known holders of each shard (the owner's placements); others are found by asking announced hosts. */
  holders?: (manifest: string) => Promise<string[][]>;
  /** Called when a host served a piece that does not match its CID (it is dropped for this download). */
  onBadHost?: (host: string, shard: number | undefined, reason: string) => void;
  /** Resolves at the next change of the known hosts. */
  hostsChanged?: (signal: AbortSignal) => Promise<void>;
}

/** An announced host found to hold a shard, by the first piece of it that it served. */
export interface Provider {
  peer: string;
  shard: number;
  /** The shard's first piece, verified against its CID; absent for a host that charges (it only said it holds it). */
  piece?: { cid: CID; bytes: Uint8Array };
  /** The probe's place in the progress, for a stream from this host to carry on. */
  view: HostFetch;
}

/** What the download wants from discovery; asked between rounds. */
export interface ProviderDemand {
  /** More shards are wanted than stream verified now. */
  wanted(): boolean;
  /** Resolves once the streams racing now have verified or failed (or enough verified), or when `signal` aborts. */
  settled(signal: AbortSignal): Promise<void>;
  /** A stream from `peer` runs now: it is not picked for another shard. */
  busy(peer: string): boolean;
  /** A probe found a provider: it streams its shard, or stays a spare. */
  found(provider: Provider): void;
}

export interface ProviderSessionInit {
  /** The manifest's CID. */
  cid: string;
  manifest: Manifest;
  /** The download's signal: probes and discovery stop when it aborts. */
  signal: AbortSignal;
  progress: Pick<DownloadProgress, "show" | "changed">;
  demand: ProviderDemand;
}

/**
 * The holders of one file's shards, for one download: the known holders first, then announced hosts, each asked for
 * the first piece of every shard (the one it has tells which shard it holds) and asked again when the known hosts
 * change. A host that serves a piece that does not match its CID is evicted for the session; one that failed for a
 * passing reason is asked again, on a new connection, until it has failed {@link HOST_ATTEMPTS} times.
 */
export class ProviderSession {
  readonly #parts: ProviderSessionParts;
  readonly #cid: string;
  readonly #manifest: Manifest;
  readonly #signal: AbortSignal;
  readonly #progress: Pick<DownloadProgress, "show" | "changed">;
  readonly #demand: ProviderDemand;
  readonly #holders: Set<string>[];
  readonly #bad = new Set<string>();
  readonly #probed = new Set<string>();
  /** Failed attempts per host for passing reasons; a bad piece or "not held" is final at once. */
  readonly #failures = new Map<string, number>();
  /**
   * Hosts whose last attempt failed for a passing reason: the next one dials a new connection, since the one open
   * may be the dead link that failed (a tab that reloaded, a WebRTC link that stopped carrying data).
   */
  readonly #stale = new Set<string>();
  readonly #probes = new Set<AbortController>();

  constructor(parts: ProviderSessionParts, init: ProviderSessionInit) {
    this.#parts = parts;
    this.#cid = init.cid;
    this.#manifest = init.manifest;
    this.#signal = init.signal;
    this.#progress = init.progress;
    this.#demand = init.demand;
    this.#holders = init.manifest.shards.map(() => new Set<string>());
  }

  /** Hosts evicted for serving bad pieces. */
  get badHosts(): string[] {
    return [...this.#bad];
  }

  /** Adds the known holders of each shard (the owner's placements). */
  async addKnownHolders(): Promise<void> {
    const known = (await this.#parts.holders?.(this.#cid)) ?? [];
    for (const [shard, hosts] of known.entries()) for (const h of hosts) this.#holders[shard]?.add(h);
  }

  /** A holder of `shard` that is neither evicted nor streaming. */
  freeHolder(shard: number): string | undefined {
    for (const h of this.#holders[shard] ?? []) {
      if (!this.#bad.has(h) && !this.#demand.busy(h) && h !== this.#parts.self) return h;
    }
    return undefined;
  }

  /** A direct link to `host`: a new one after a passing failure, else the one open. */
  async dial(host: string, signal: AbortSignal): Promise<DialTarget> {
    if (!this.#stale.has(host)) return await this.#parts.dial(host, signal);
    const target = await this.#parts.dial(host, signal, { fresh: true });
    this.#stale.delete(host);
    return target;
  }

  /** `host` served every piece it was asked for. */
  succeeded(host: string): void {
    this.#parts.hosts.reportSuccess(host);
  }

  /** `host` failed to serve a piece of `shard`: shown on `view`, and evicted when it served a bad piece. */
  failed(view: HostFetch, host: string, shard: number | undefined, error: unknown): void {
    const reason = errorText(error);
    view.error = reason;
    if (error instanceof PieceMismatchError) {
      view.state = "bad-piece";
      this.#bad.add(host);
      this.#parts.onBadHost?.(host, shard, reason);
    } else {
      view.state = error instanceof NotHeldError ? "not-held" : "failed";
    }
    this.#parts.hosts.reportFailure(host, reason);
    this.#progress.changed();
  }

  /** A stream of `shard` from `host` failed: the host stays a holder only after a passing failure with tries left. */
  streamFailed(view: HostFetch, host: string, shard: number, error: unknown): void {
    this.failed(view, host, shard, error);
    if (!this.#mayRetry(host, error)) this.#holders[shard]?.delete(host);
  }

  /** Stops the probes under way: enough hosts answered. */
  cancelProbes(): void {
    for (const probe of this.#probes) probe.abort(new DOMException("Enough hosts answered first.", "AbortError"));
  }

  /**
   * Lets the streams racing now settle; while they give fewer shards than wanted, probes announced hosts not asked
   * yet (and those heard later), until enough shards stream, the discovery time runs out or the download closes.
   */
  async discover(): Promise<void> {
    const search = deadline(
      DISCOVERY_TIMEOUT_MS,
      () => new DOMException("No more holders were found in time.", "TimeoutError"),
      this.#signal,
    );
    const { signal } = search;
    try {
      await this.#demand.settled(signal);
      while (!signal.aborted && this.#demand.wanted()) {
        const fresh = this.#parts.hosts
          .list()
          .map((h) => h.peer)
          .filter((p) => p !== this.#parts.self && !this.#probed.has(p) && !this.#bad.has(p) && !this.#demand.busy(p));
        if (fresh.length === 0) {
          await untilHostsChange(this.#parts.hostsChanged, signal);
          continue;
        }
        await Promise.all(fresh.map((peer) => this.#probe(peer)));
        await this.#demand.settled(signal);
      }
    } finally {
      search.clear();
    }
  }

  /** Asks `peer` for the first piece of every shard: the one it has tells which shard it holds. */
  async #probe(peer: string): Promise<void> {
    this.#probed.add(peer);
    const controller = childController(this.#signal);
    this.#probes.add(controller);
    const view: HostFetch = { host: peer, state: "asking", bytes: 0, pieces: 0 };
    this.#progress.show(view);
    const firsts = this.#manifest.shards.map((s) => s.pieces[0] as CID);
    let found: Provider | undefined;
    try {
      const target = await this.dial(peer, controller.signal);
      if (retrievalTerms(this.#parts.hosts, peer)) {
        // A host that charges says which shard it holds, for free; its pieces are paid for once it streams.
        const [held] = await this.#parts.shardFetch.holds(target, firsts, { signal: controller.signal });
        const shard = held ? firsts.findIndex((c) => c.equals(held)) : -1;
        if (shard >= 0) found = { peer, shard, view };
      } else
        for await (const piece of this.#parts.shardFetch.fetchPieces(target, firsts, {
          signal: controller.signal,
          windowPieces: firsts.length,
        })) {
          if (!piece.bytes) continue;
          const shard = firsts.findIndex((c) => c.equals(piece.cid));
          found = { peer, shard, piece: { cid: piece.cid, bytes: piece.bytes }, view };
          break;
        }
    } catch (error) {
      if (!controller.signal.aborted) {
        this.failed(view, peer, undefined, error);
        // Asked again by discovery while it has attempts left.
        if (this.#mayRetry(peer, error)) this.#probed.delete(peer);
      }
    } finally {
      this.#probes.delete(controller);
    }
    if (!found) {
      if (view.state === "asking") view.state = controller.signal.aborted ? "cancelled" : "not-held";
      this.#progress.changed();
      return;
    }
    view.shard = found.shard;
    this.#holders[found.shard]?.add(peer);
    this.#demand.found(found);
  }

  /**
   * Counts a failure of `host`; true when it was a passing one and the host has attempts left. A bad piece, a shard
   * not held, or a host this tab cannot pay are no passing failures.
   */
  #mayRetry(host: string, error: unknown): boolean {
    if (this.#bad.has(host)) return false;
    if (error instanceof PieceMismatchError || error instanceof NotHeldError || error instanceof RetrievalUnpaidError) {
      return false;
    }
    const failures = (this.#failures.get(host) ?? 0) + 1;
    this.#failures.set(host, failures);
    this.#stale.add(host);
    return failures < HOST_ATTEMPTS;
  }
}

/**
 * Resolves at the next change of the known hosts, after {@link DISCOVERY_RETRY_MS} at the latest (a host whose
 * probe failed for a passing reason is asked again then), or when `signal` aborts. Never rejects.
 */
export async function untilHostsChange(
  hostsChanged: ((signal: AbortSignal) => Promise<void>) | undefined,
  signal: AbortSignal,
): Promise<void> {
  if (!hostsChanged) return await sleep(DISCOVERY_RETRY_MS, signal).catch(() => {});
  const pause = deadline(DISCOVERY_RETRY_MS, () => new DOMException("No host was heard.", "TimeoutError"), signal);
  try {
    await raceSignal(hostsChanged(pause.signal), pause.signal);
  } catch {
    // the pause ran out or the download closed: either way, look again
  } finally {
    pause.clear();
  }
}
