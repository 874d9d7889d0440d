import type { DialTarget } from "@libp2p/interface";
import { CID } from "multiformats/cid";
import type { BlockReader } from "../../lib/blocks.ts";
import { asCid } from "../../lib/cid.ts";
import { decodeManifest, type Manifest } from "../../lib/manifest.ts";
import { ProgressThrottle } from "../../lib/progress.ts";
import { PieceMismatchError } from "../../p2p/protocols/common/errors.ts";
import { PIPELINE_DEPTH_SEGMENTS } from "../files/constants.ts";
import { HostStalledError, ManifestUnavailableError } from "./errors.ts";
import { childController, errorText, type NetworkParts } from "./parts.ts";

/** Segments a shard stream may run ahead of the decoder: bounds memory to about k x this x piece size. */
export const AHEAD_SEGMENTS = 8;
/** Pieces kept behind the decoder's furthest request, for its retries. */
export const KEEP_BEHIND_SEGMENTS = PIPELINE_DEPTH_SEGMENTS + 2;
/** A stream that delivers nothing for this long (while not held back) is dropped for another host. */
export const FETCH_STALL_MS = 10_000;
/**
 * How long to look for the manifest, and for k holders, while hosts are still being heard. A tab that opens a
 * share link has no direct link to any host yet, and each WebRTC link goes through relay signalling first.
 */
export const DISCOVERY_TIMEOUT_MS = 60_000;
/** Pause between discovery rounds when no new host was heard. */
export const DISCOVERY_RETRY_MS = 2_000;
/** A host whose fetch failed for a passing reason (timeout, closed connection) is asked again this many times. */
export const HOST_ATTEMPTS = 4;

/** One host's part in a download, as the UI shows it. */
export interface HostFetch {
  host: string;
  shard?: number;
  state: "asking" | "streaming" | "spare" | "cancelled" | "done" | "failed" | "bad-piece" | "not-held";
  bytes: number;
  pieces: number;
  error?: string;
}

export interface FetchProgress {
  hosts: HostFetch[];
  /** Verified piece bytes received from hosts. */
  bytes: number;
  startedAtMs: number;
}

export interface NetworkStoreParts extends Pick<NetworkParts, "self" | "dial" | "shardFetch" | "hosts"> {
  /** This browser's store: whatever is here is never fetched. */
  local: BlockReader;
  /** Known holders of each shard (the owner's placements); others are found by asking announced hosts. */
  holders?: (manifest: string) => Promise<string[][]>;
  /** Last resort for the manifest: any peer, over bitswap. */
  fetchBlock?: (cid: CID, signal: AbortSignal) => Promise<Uint8Array | undefined>;
  /** Called when a host served a piece that does not match its CID (it is dropped for this download). */
  onBadHost?: (host: string, shard: number | undefined, reason: string) => void;
  /** Resolves at the next change of the known hosts. */
  hostsChanged?: (signal: AbortSignal) => Promise<void>;
}

interface ShardStream {
  host: string;
  shard: number;
  /** Segment of the next piece expected. */
  next: number;
  verified: boolean;
  controller: AbortController;
  view: HostFetch;
  lastPieceAtMs: number;
  waitingForRoom: boolean;
}

type Waiter = (bytes: Uint8Array | undefined) => void;

class NotHeldError extends Error {
  override name = "NotHeldError";
}

/**
 * One file's pieces from the network, behind the block-store interface the data path reads (`getBlocks`,
 * `getManifest`), so that openFile and repairShard work unchanged on a file whose pieces are on hosts. Pieces in
 * this browser are used first. For the rest it asks more than k hosts at once (the known holders, or every announced
 * host for a tab that only has the share link), keeps the first k shards whose first piece verifies and cancels the
 * others, streams those k shards ahead of the decoder, and replaces a host that fails, stalls or serves a piece
 * that does not match its CID (that host is dropped) with another holder or another shard.
 */
export class NetworkStore {
  readonly #parts: NetworkStoreParts;
  readonly #cid: CID;
  readonly #signal: AbortSignal;
  readonly #closer: AbortController;
  readonly #onProgress: ((progress: FetchProgress) => void) | undefined;
  #manifest: Manifest | undefined;
  #manifestBytes: Uint8Array | undefined;
  readonly #index = new Map<string, { shard: number; seg: number }>();
  #holders: Set<string>[] = [];
  readonly #bad = new Set<string>();
  readonly #probed = new Set<string>();
  /** Failed attempts per host for passing reasons; a bad piece or "not held" is final at once. */
  readonly #failures = new Map<string, number>();
  /**
   * Hosts whose last attempt failed for a passing reason: the next one dials a new connection, since the one open
   * may be the dead link that failed (a tab that reloaded, a WebRTC link that stopped carrying data).
   */
  readonly #stale = new Set<string>();
  readonly #streams = new Map<number, ShardStream>();
  readonly #probes = new Set<AbortController>();
  readonly #buffer = new Map<string, { bytes: Uint8Array; seg: number }>();
  readonly #waiters = new Map<string, Waiter[]>();
  #roomWaiters: (() => void)[] = [];
  #maxSeg = 0;
  #started: Promise<void> | undefined;
  #ready: Promise<void> | undefined;
  #readyResolve: (() => void) | undefined;
  readonly #views: HostFetch[] = [];
  #bytes = 0;
  readonly #startedAtMs = Date.now();
  #watchdog: ReturnType<typeof setInterval> | undefined;
  /** Reports at most every 100 ms; the last one comes at close at the latest. */
  readonly #progress = new ProgressThrottle(() => this.#onProgress?.(this.progress));

  constructor(
    parts: NetworkStoreParts,
    cid: CID | string,
    options: { signal?: AbortSignal; onProgress?: (progress: FetchProgress) => void } = {},
  ) {
    this.#parts = parts;
    this.#cid = asCid(cid);
    this.#closer = childController(options.signal);
    this.#signal = this.#closer.signal;
    this.#onProgress = options.onProgress;
  }

  /** What was fetched so far, per host. */
  get progress(): FetchProgress {
    return { hosts: this.#views.map((v) => ({ ...v })), bytes: this.#bytes, startedAtMs: this.#startedAtMs };
  }

  /** Hosts dropped for serving bad pieces. */
  get badHosts(): string[] {
    return [...this.#bad];
  }

  /** Stops every stream; pending reads get `undefined`. */
  close(): void {
    this.#progress.flush();
    this.#closer.abort(new DOMException("The download was closed.", "AbortError"));
    if (this.#watchdog) clearInterval(this.#watchdog);
    for (const waiters of this.#waiters.values()) for (const w of waiters) w(undefined);
    this.#waiters.clear();
    this.#wakeRoom();
    this.#buffer.clear();
  }

  async getManifest(cid: string): Promise<Uint8Array | undefined> {
    if (cid !== this.#cid.toString()) return await this.#parts.local.getManifest(cid);
    if (this.#manifestBytes) return this.#manifestBytes;
    const bytes = (await this.#parts.local.getManifest(cid)) ?? (await this.#fetchManifest());
    await this.#setManifest(bytes);
    return bytes;
  }

  async getBlocks(cids: readonly string[]): Promise<(Blob | undefined)[]> {
    const local = await this.#parts.local.getBlocks(cids);
    if (local.every((blob) => blob !== undefined)) return local;
    await this.#start();
    await this.#ready;
    return await Promise.all(
      cids.map(async (cid, i) => {
        const found = local[i];
        if (found) return found;
        const bytes = await this.#piece(cid);
        return bytes ? new Blob([bytes as Uint8Array<ArrayBuffer>]) : undefined;
      }),
    );
  }

  /**
   * {@link getBlocks} as bytes, which is what the decoder wants: pieces from hosts are handed over as they arrived,
   * without a round trip through a Blob (a copy into the browser's blob store and one back out per piece).
   */
  async getBlockBytes(cids: readonly string[]): Promise<(Uint8Array | undefined)[]> {
    const { local } = this.#parts;
    const found = local.getBlockBytes
      ? await local.getBlockBytes(cids)
      : await Promise.all(
          (await local.getBlocks(cids)).map(async (blob) => blob && new Uint8Array(await blob.arrayBuffer())),
        );
    if (found.every((bytes) => bytes !== undefined)) return found;
    await this.#start();
    await this.#ready;
    return await Promise.all(cids.map(async (cid, i) => found[i] ?? (await this.#piece(cid))));
  }

  // ---- manifest ----

  async #setManifest(bytes: Uint8Array): Promise<void> {
    const manifest = await decodeManifest(bytes, this.#cid);
    this.#manifestBytes = bytes;
    this.#manifest = manifest;
    this.#holders = manifest.shards.map(() => new Set<string>());
    for (const [shard, entry] of manifest.shards.entries()) {
      for (const [seg, piece] of entry.pieces.entries()) this.#index.set(piece.toString(), { shard, seg });
    }
  }

  /** Asks known holders and announced hosts at once; the first verified answer wins. Then bitswap. */
  async #fetchManifest(): Promise<Uint8Array> {
    const deadline = AbortSignal.any([this.#signal, AbortSignal.timeout(DISCOVERY_TIMEOUT_MS)]);
    const asked = new Set<string>();
    const known = (await this.#parts.holders?.(this.#cid.toString()))?.flat() ?? [];
    while (!deadline.aborted) {
      const candidates = [...known, ...this.#parts.hosts.list().map((h) => h.peer)].filter(
        (peer) => peer !== this.#parts.self && !asked.has(peer),
      );
      for (const peer of candidates) asked.add(peer);
      const bytes = await this.#firstAnswer(candidates, deadline);
      if (bytes) return bytes;
      if (this.#parts.fetchBlock && asked.size > 0) {
        const viaBitswap = await this.#parts
          .fetchBlock(this.#cid, AbortSignal.any([deadline, AbortSignal.timeout(DISCOVERY_RETRY_MS * 2)]))
          .catch(() => undefined);
        if (viaBitswap) return viaBitswap;
      }
      await this.#hostsChanged(deadline);
    }
    this.#signal.throwIfAborted();
    throw new ManifestUnavailableError(this.#cid.toString());
  }

  async #firstAnswer(peers: readonly string[], signal: AbortSignal): Promise<Uint8Array | undefined> {
    if (peers.length === 0) return undefined;
    const race = childController(signal);
    try {
      return await new Promise<Uint8Array | undefined>((resolve) => {
        let pending = peers.length;
        for (const peer of peers) {
          void (async () => {
            try {
              const target = await this.#parts.dial(peer, race.signal);
              for await (const piece of this.#parts.shardFetch.fetchPieces(target, [this.#cid], {
                signal: race.signal,
              })) {
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
    } finally {
      race.abort(new DOMException("Another host answered.", "AbortError"));
    }
  }

  async #hostsChanged(signal: AbortSignal): Promise<void> {
    const pause = AbortSignal.any([signal, AbortSignal.timeout(DISCOVERY_RETRY_MS)]);
    await new Promise<void>((resolve) => {
      if (pause.aborted) return resolve();
      pause.addEventListener("abort", () => resolve(), { once: true });
      this.#parts.hostsChanged?.(pause).then(resolve, resolve);
    });
  }

  // ---- discovery and racing ----

  get #k(): number {
    return this.#manifest?.k ?? 0;
  }

  #verifiedCount(): number {
    return [...this.#streams.values()].filter((s) => s.verified).length;
  }

  async #start(): Promise<void> {
    this.#started ??= (async () => {
      if (!this.#manifest) await this.getManifest(this.#cid.toString());
      this.#ready = new Promise((resolve) => {
        this.#readyResolve = resolve;
      });
      this.#watchdog = setInterval(() => this.#checkStalls(), 1_000);
      const known = (await this.#parts.holders?.(this.#cid.toString())) ?? [];
      for (const [shard, hosts] of known.entries()) for (const h of hosts) this.#holders[shard]?.add(h);
      // Ask every shard with a known holder at once; the first k to verify stay.
      for (const [shard, holders] of this.#holders.entries()) {
        const host = this.#freeHolder(shard, holders);
        if (host) this.#startStream(host, shard, 0);
      }
      void this.#discover();
    })();
    await this.#started;
  }

  /**
   * Lets the streams from known holders settle; when they give fewer than k shards, probes announced hosts not
   * asked yet (and those heard later) until k shards stream or the discovery time runs out.
   */
  async #discover(): Promise<void> {
    const deadline = AbortSignal.any([this.#signal, AbortSignal.timeout(DISCOVERY_TIMEOUT_MS)]);
    await this.#settled(deadline);
    while (!deadline.aborted && this.#verifiedCount() < this.#k) {
      const fresh = this.#parts.hosts
        .list()
        .map((h) => h.peer)
        .filter((p) => p !== this.#parts.self && !this.#probed.has(p) && !this.#bad.has(p) && !this.#busy(p));
      if (fresh.length === 0) {
        await this.#hostsChanged(deadline);
        continue;
      }
      await Promise.all(fresh.map((peer) => this.#probe(peer)));
      await this.#settled(deadline);
    }
    this.#checkReady(true);
  }

  #unverifiedStreams(): number {
    return [...this.#streams.values()].filter((s) => !s.verified).length;
  }

  async #settled(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && this.#unverifiedStreams() > 0 && this.#verifiedCount() < this.#k) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  #checkReady(final: boolean): void {
    if (!this.#readyResolve) return;
    if (final || this.#verifiedCount() >= this.#k) {
      this.#readyResolve();
      this.#readyResolve = undefined;
    }
  }

  /** Asks `peer` for the first piece of every shard: the one it has tells which shard it holds. */
  async #probe(peer: string): Promise<void> {
    const manifest = this.#manifest as Manifest;
    this.#probed.add(peer);
    const controller = childController(this.#signal);
    this.#probes.add(controller);
    const view: HostFetch = { host: peer, state: "asking", bytes: 0, pieces: 0 };
    this.#views.push(view);
    this.#report();
    const firsts = manifest.shards.map((s) => s.pieces[0] as CID);
    let found: number | undefined;
    try {
      const target = await this.#dial(peer, controller.signal);
      for await (const piece of this.#parts.shardFetch.fetchPieces(target, firsts, {
        signal: controller.signal,
        windowPieces: firsts.length,
      })) {
        if (!piece.bytes) continue;
        found = firsts.findIndex((c) => c.equals(piece.cid));
        this.#deliver(piece.cid.toString(), piece.bytes, view);
        break;
      }
    } catch (error) {
      if (!controller.signal.aborted) {
        this.#markFailure(view, peer, undefined, error);
        // Asked again by discovery while it has attempts left.
        if (this.#mayRetry(peer, error)) this.#probed.delete(peer);
      }
    } finally {
      this.#probes.delete(controller);
    }
    if (found === undefined) {
      if (view.state === "asking") view.state = controller.signal.aborted ? "cancelled" : "not-held";
      this.#report();
      return;
    }
    view.shard = found;
    this.#holders[found]?.add(peer);
    if (!this.#streams.has(found) && this.#verifiedCount() < this.#k && !this.#signal.aborted) {
      this.#views.splice(this.#views.indexOf(view), 1);
      this.#startStream(peer, found, 1, true, view);
    } else {
      view.state = "spare";
      this.#report();
    }
  }

  #busy(peer: string): boolean {
    return [...this.#streams.values()].some((s) => s.host === peer);
  }

  #freeHolder(shard: number, holders: Iterable<string> = this.#holders[shard] ?? []): string | undefined {
    for (const h of holders) if (!this.#bad.has(h) && !this.#busy(h) && h !== this.#parts.self) return h;
    return undefined;
  }

  #startStream(host: string, shard: number, from: number, verified = false, view?: HostFetch): void {
    const manifest = this.#manifest as Manifest;
    const stream: ShardStream = {
      host,
      shard,
      next: from,
      verified,
      controller: childController(this.#signal),
      view: view ?? { host, shard, state: "asking", bytes: 0, pieces: 0 },
      lastPieceAtMs: Date.now(),
      waitingForRoom: false,
    };
    stream.view.shard = shard;
    stream.view.state = verified ? "streaming" : "asking";
    this.#views.push(stream.view);
    this.#streams.set(shard, stream);
    this.#report();
    if (verified) this.#onVerified();
    void this.#runStream(stream, (manifest.shards[shard]?.pieces ?? []).slice(from));
  }

  async #runStream(stream: ShardStream, cids: CID[]): Promise<void> {
    const { controller } = stream;
    try {
      if (cids.length === 0) {
        stream.view.state = "done";
        return;
      }
      const target: DialTarget = await this.#dial(stream.host, controller.signal);
      stream.lastPieceAtMs = Date.now();
      for await (const piece of this.#parts.shardFetch.fetchPieces(target, cids, { signal: controller.signal })) {
        if (!piece.bytes)
          throw new NotHeldError(`the host does not have piece ${stream.next} of shard ${stream.shard}`);
        stream.lastPieceAtMs = Date.now();
        this.#deliver(piece.cid.toString(), piece.bytes, stream.view);
        stream.next += 1;
        if (!stream.verified) {
          stream.verified = true;
          stream.view.state = "streaming";
          this.#onVerified();
        }
        await this.#room(stream);
      }
      stream.view.state = "done";
      this.#parts.hosts.reportSuccess(stream.host);
    } catch (error) {
      if (this.#signal.aborted || (controller.signal.aborted && stream.view.state === "cancelled")) return;
      this.#onStreamFailed(stream, controller.signal.aborted ? controller.signal.reason : error);
    } finally {
      // A finished stream stays in the map: its shard remains one of the k chosen.
      this.#report();
    }
  }

  /** Once k streams verified their first piece, the slower ones are cancelled. */
  #onVerified(): void {
    if (this.#verifiedCount() < this.#k) return;
    for (const [shard, stream] of this.#streams) {
      if (stream.verified) continue;
      stream.view.state = "cancelled";
      stream.controller.abort(new DOMException("Enough hosts answered first.", "AbortError"));
      this.#streams.delete(shard);
    }
    for (const probe of this.#probes) probe.abort(new DOMException("Enough hosts answered first.", "AbortError"));
    this.#checkReady(false);
    this.#report();
  }

  #markFailure(view: HostFetch, host: string, shard: number | undefined, error: unknown): void {
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
    this.#report();
  }

  /** Counts a failure of `host`; true when it was a passing one and the host has attempts left. */
  #mayRetry(host: string, error: unknown): boolean {
    if (error instanceof PieceMismatchError || error instanceof NotHeldError || this.#bad.has(host)) return false;
    const failures = (this.#failures.get(host) ?? 0) + 1;
    this.#failures.set(host, failures);
    this.#stale.add(host);
    return failures < HOST_ATTEMPTS;
  }

  /** A direct link to `host`: a new one after a passing failure, else the one open. */
  async #dial(host: string, signal: AbortSignal): Promise<DialTarget> {
    if (!this.#stale.has(host)) return await this.#parts.dial(host, signal);
    const target = await this.#parts.dial(host, signal, { fresh: true });
    this.#stale.delete(host);
    return target;
  }

  #onStreamFailed(stream: ShardStream, error: unknown): void {
    if (this.#streams.get(stream.shard) === stream) this.#streams.delete(stream.shard);
    this.#markFailure(stream.view, stream.host, stream.shard, error);
    // A passing failure leaves the host among the holders, so it is asked again (on a new connection).
    if (!this.#mayRetry(stream.host, error)) this.#holders[stream.shard]?.delete(stream.host);
    // The same shard from another holder, where it stopped.
    const same = this.#freeHolder(stream.shard);
    if (same) {
      this.#startStream(same, stream.shard, stream.next);
      return;
    }
    // Otherwise its pending pieces are erasures, and another shard takes its place.
    for (const [cid, where] of this.#index) {
      if (where.shard === stream.shard && where.seg >= stream.next) this.#resolve(cid, undefined);
    }
    this.#replace();
  }

  /** Starts a stream for a shard nobody streams, from a known holder, or probes more hosts to find one. */
  #replace(): void {
    if (this.#streams.size >= this.#k || this.#signal.aborted) return;
    const from = Math.max(0, this.#maxSeg - KEEP_BEHIND_SEGMENTS);
    for (const [shard] of this.#holders.entries()) {
      if (this.#streams.has(shard)) continue;
      const host = this.#freeHolder(shard);
      if (host) {
        this.#startStream(host, shard, from);
        if (this.#streams.size >= this.#k) return;
      }
    }
    void this.#discover();
  }

  #checkStalls(): void {
    const now = Date.now();
    for (const stream of this.#streams.values()) {
      if (stream.waitingForRoom || now - stream.lastPieceAtMs < FETCH_STALL_MS) continue;
      stream.controller.abort(new HostStalledError(stream.host, FETCH_STALL_MS));
    }
  }

  // ---- pieces ----

  #deliver(cid: string, bytes: Uint8Array, view: HostFetch): void {
    const where = this.#index.get(cid);
    view.bytes += bytes.byteLength;
    view.pieces += 1;
    this.#bytes += bytes.byteLength;
    if (where && where.seg >= this.#maxSeg - KEEP_BEHIND_SEGMENTS) this.#buffer.set(cid, { bytes, seg: where.seg });
    this.#resolve(cid, bytes);
    this.#report();
  }

  #resolve(cid: string, bytes: Uint8Array | undefined): void {
    const waiters = this.#waiters.get(cid);
    if (!waiters) return;
    this.#waiters.delete(cid);
    for (const w of waiters) w(bytes);
  }

  async #room(stream: ShardStream): Promise<void> {
    while (stream.next > this.#maxSeg + AHEAD_SEGMENTS && !stream.controller.signal.aborted) {
      stream.waitingForRoom = true;
      await new Promise<void>((resolve) => this.#roomWaiters.push(resolve));
    }
    stream.waitingForRoom = false;
    stream.lastPieceAtMs = Date.now();
  }

  #wakeRoom(): void {
    const waiters = this.#roomWaiters;
    this.#roomWaiters = [];
    for (const w of waiters) w();
  }

  async #piece(cid: string): Promise<Uint8Array | undefined> {
    const where = this.#index.get(cid);
    if (!where || this.#signal.aborted) return undefined;
    if (where.seg > this.#maxSeg) {
      this.#maxSeg = where.seg;
      for (const [key, entry] of this.#buffer)
        if (entry.seg < this.#maxSeg - KEEP_BEHIND_SEGMENTS) this.#buffer.delete(key);
      this.#wakeRoom();
    }
    const buffered = this.#buffer.get(cid);
    if (buffered) return buffered.bytes;
    const stream = this.#streams.get(where.shard);
    if (stream && stream.next <= where.seg) return await this.#wait(cid);
    if (stream || this.#streams.size < this.#k) {
      const host = stream?.host ?? this.#freeHolder(where.shard);
      if (!host) return undefined;
      if (!stream) {
        this.#startStream(host, where.shard, where.seg);
        return await this.#wait(cid);
      }
      return await this.#fetchOne(host, where.shard, cid);
    }
    return undefined;
  }

  #wait(cid: string): Promise<Uint8Array | undefined> {
    return new Promise((resolve) => {
      const list = this.#waiters.get(cid) ?? [];
      list.push(resolve);
      this.#waiters.set(cid, list);
    });
  }

  /** One piece again (the decoder retried a segment whose pieces were already let go). */
  async #fetchOne(host: string, shard: number, cid: string): Promise<Uint8Array | undefined> {
    const view: HostFetch = { host, shard, state: "streaming", bytes: 0, pieces: 0 };
    try {
      const target = await this.#parts.dial(host, this.#signal);
      for await (const piece of this.#parts.shardFetch.fetchPieces(target, [CID.parse(cid)], {
        signal: this.#signal,
      })) {
        if (piece.bytes) {
          view.bytes += piece.bytes.byteLength;
          this.#bytes += piece.bytes.byteLength;
          return piece.bytes;
        }
      }
    } catch (error) {
      if (!this.#signal.aborted) {
        this.#views.push(view);
        this.#markFailure(view, host, shard, error);
      }
    }
    return undefined;
  }

  #report(): void {
    if (this.#onProgress) this.#progress.soon();
  }
}
