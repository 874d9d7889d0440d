import { CID } from "multiformats/cid";
import type { BlockReader } from "../../../lib/blocks.ts";
import { asCid } from "../../../lib/cid.ts";
import { decodeManifest, type Manifest } from "../../../lib/manifest.ts";
import { raceSignal } from "../../../lib/signals.ts";
import { RetrievalUnpaidError } from "../errors.ts";
import { childController, type RetrievalPayment, type RetrievalRequest, retrievalTerms } from "../parts.ts";
import { Changes } from "./changes.ts";
import { KEEP_BEHIND_SEGMENTS } from "./constants.ts";
import { type FindManifestParts, findManifest } from "./manifest.ts";
import { PieceBuffer } from "./piece-buffer.ts";
import { DownloadProgress, type FetchProgress, type HostFetch } from "./progress.ts";
import { type Provider, ProviderSession, type ProviderSessionParts } from "./providers.ts";
import { fetchPiece, retrievalBytes, ShardStream } from "./shard-stream.ts";

export interface NetworkStoreParts extends ProviderSessionParts, Pick<FindManifestParts, "fetchBlock"> {
  /** This browser's store: whatever is here is never fetched. */
  local: BlockReader;
}

/** What the download holds once the manifest is known. */
interface Download {
  manifest: Manifest;
  buffer: PieceBuffer;
  providers: ProviderSession;
}

/**
 * One file's pieces from the network, behind the block-store interface the data path reads (`getBlocks`,
 * `getManifest`), so that openFile and repairShard work unchanged on a file whose pieces are on hosts. Pieces in
 * this browser are used first. For the rest it asks more than k hosts at once (the known holders, or every announced
 * host for a tab that only has the share link), keeps the first k shards whose first piece verifies and cancels the
 * others, streams those k shards ahead of the decoder, and replaces a host that fails, stalls or serves a piece
 * that does not match its CID (that host is dropped) with another holder or another shard.
 *
 * Finding holders is the provider session's (providers.ts), one shard from one host a shard stream's
 * (shard-stream.ts), and pieces wait for the decoder in the piece buffer (piece-buffer.ts); this class picks
 * which shards stream from which holders.
 */
export class NetworkStore {
  readonly #parts: NetworkStoreParts;
  readonly #cid: CID;
  readonly #signal: AbortSignal;
  readonly #closer: AbortController;
  readonly #progress: DownloadProgress;
  #manifestBytes: Uint8Array | undefined;
  #download: Download | undefined;
  /** The k shards chosen (streaming or done), and those racing to be. */
  readonly #streams = new Map<number, ShardStream>();
  /**
   * Holders that charge, found while fewer than k shards stream: they wait until, with the streams, they make k
   * (or discovery ends), then their payments lock together, with one signature.
   */
  readonly #waitingPaid = new Map<number, { host: string; view?: HostFetch }>();
  /** Notified when a stream starts, verifies or ends: discovery waits on it for the race to settle. */
  readonly #streamsChanged = new Changes();
  #started: Promise<void> | undefined;
  #ready: Promise<void> | undefined;
  #readyResolve: (() => void) | undefined;

  constructor(
    parts: NetworkStoreParts,
    cid: CID | string,
    options: { signal?: AbortSignal; onProgress?: (progress: FetchProgress) => void } = {},
  ) {
    this.#parts = parts;
    this.#cid = asCid(cid);
    this.#closer = childController(options.signal);
    this.#signal = this.#closer.signal;
    this.#progress = new DownloadProgress(options.onProgress);
  }

  /** What was fetched so far, per host. */
  get progress(): FetchProgress {
    return this.#progress.current;
  }

  /** Hosts dropped for serving bad pieces. */
  get badHosts(): string[] {
    return this.#download?.providers.badHosts ?? [];
  }

  /** Stops every stream; pending reads get `undefined`. */
  close(): void {
    this.#progress.flush();
    this.#closer.abort(new DOMException("The download was closed.", "AbortError"));
  }

  async getManifest(cid: string): Promise<Uint8Array | undefined> {
    if (cid !== this.#cid.toString()) return await this.#parts.local.getManifest(cid);
    if (this.#manifestBytes) return this.#manifestBytes;
    const bytes =
      (await this.#parts.local.getManifest(cid)) ?? (await findManifest(this.#parts, this.#cid, this.#signal));
    await this.#setManifest(bytes);
    return bytes;
  }

  async getBlocks(cids: readonly string[]): Promise<(Blob | undefined)[]> {
    const local = await this.#parts.local.getBlocks(cids);
    if (local.every((blob) => blob !== undefined)) return local;
    await this.#whenReady();
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
    await this.#whenReady();
    return await Promise.all(cids.map(async (cid, i) => found[i] ?? (await this.#piece(cid))));
  }

  async #setManifest(bytes: Uint8Array): Promise<void> {
    const manifest = await decodeManifest(bytes, this.#cid);
    this.#manifestBytes = bytes;
    this.#download ??= {
      manifest,
      buffer: new PieceBuffer(manifest, this.#signal),
      providers: new ProviderSession(this.#parts, {
        cid: this.#cid.toString(),
        manifest,
        signal: this.#signal,
        progress: this.#progress,
        demand: {
          wanted: () => this.#verifiedCount() < this.#k,
          settled: (signal) => this.#settled(signal),
          busy: (peer) => this.#busy(peer),
          found: (provider) => this.#onProvider(provider),
        },
      }),
    };
  }

  // ---- choosing the k shards ----

  get #k(): number {
    return this.#download?.manifest.k ?? 0;
  }

  #verifiedCount(): number {
    return [...this.#streams.values()].filter((s) => s.verified).length;
  }

  #unverifiedCount(): number {
    return [...this.#streams.values()].filter((s) => !s.verified).length;
  }

  #busy(peer: string): boolean {
    return [...this.#streams.values()].some((s) => s.host === peer);
  }

  /** Starts the download once; resolves when k shards stream, or when discovery gave up (the download closed). */
  async #whenReady(): Promise<void> {
    this.#started ??= (async () => {
      if (!this.#download) await this.getManifest(this.#cid.toString());
      const { providers, manifest } = this.#download as Download;
      this.#ready = new Promise((resolve) => {
        this.#readyResolve = resolve;
      });
      await providers.addKnownHolders();
      // Ask every shard with a known holder at once; the first k to verify stay. Holders that charge are asked
      // only while fewer than k stream: each stream of theirs locks a payment.
      for (const shard of manifest.shards.keys()) {
        const host = providers.freeHolder(shard);
        if (!host) continue;
        if (retrievalTerms(this.#parts.hosts, host)) this.#waitPaid(host, shard);
        else this.#startStream(host, shard, 0);
      }
      this.#lockWaiting(false);
      void this.#discover();
    })();
    await this.#started;
    await raceSignal(this.#ready as Promise<void>, this.#signal).catch(() => {});
  }

  async #discover(): Promise<void> {
    await this.#download?.providers.discover();
    this.#lockWaiting(true);
    this.#checkReady(true);
  }

  /** `host`, which charges, streams `shard` once enough others wait with it (see {@link #lockWaiting}). */
  #waitPaid(host: string, shard: number, view?: HostFetch): boolean {
    if (this.#streams.has(shard) || this.#waitingPaid.has(shard)) return false;
    if (this.#streams.size + this.#waitingPaid.size >= this.#k) return false;
    this.#waitingPaid.set(shard, { host, ...(view ? { view } : {}) });
    this.#lockWaiting(false);
    return true;
  }

  /**
   * Starts the waiting paid streams once they make k with the others (or, `final`, discovery found no more): all
   * their payments are locked in one call, so a download's hosts cost one signature.
   */
  #lockWaiting(final: boolean): void {
    const waiting = [...this.#waitingPaid];
    if (waiting.length === 0 || this.#signal.aborted) return;
    if (!final && this.#streams.size + waiting.length < this.#k) return;
    this.#waitingPaid.clear();
    const { manifest } = this.#download as Download;
    const { payRetrieval, hosts } = this.#parts;
    const requests: RetrievalRequest[] = [];
    const paid: { shard: number; host: string; view?: HostFetch; index: number }[] = [];
    for (const [shard, { host, view }] of waiting) {
      const terms = retrievalTerms(hosts, host);
      // A host that serves for free again since it was found streams as any free one.
      if (!terms) {
        this.#startStream(host, shard, 0, false, view);
        continue;
      }
      const pieces = manifest.shards[shard]?.pieces.length ?? 0;
      paid.push({ shard, host, ...(view ? { view } : {}), index: requests.length });
      requests.push({ terms, totalBytes: BigInt(retrievalBytes(pieces, manifest.pieceSize)) });
    }
    const locked = requests.length > 0 ? payRetrieval?.(requests) : undefined;
    locked?.catch(() => {});
    for (const { shard, host, view, index } of paid) {
      const payment = locked?.then((payments) => {
        const one = payments[index];
        if (!one) throw new RetrievalUnpaidError(host);
        return one;
      });
      this.#startStream(host, shard, 0, false, view, payment);
    }
  }

  /** Resolves once no stream is left racing unverified (or k verified), or when `signal` aborts. */
  async #settled(signal: AbortSignal): Promise<void> {
    while (!signal.aborted && this.#unverifiedCount() > 0 && this.#verifiedCount() < this.#k) {
      await this.#streamsChanged.next(signal).catch(() => {});
    }
  }

  #checkReady(final: boolean): void {
    if (!this.#readyResolve) return;
    if (final || this.#verifiedCount() >= this.#k) {
      this.#readyResolve();
      this.#readyResolve = undefined;
    }
  }

  /** A probe found a holder: it streams its shard from the next piece on, unless that shard is taken or k stream. */
  #onProvider({ peer, shard, piece, view }: Provider): void {
    if (piece) this.#deliver(piece.cid, piece.bytes, view);
    // A host that charges only said it holds the shard: it streams from the first piece, and only while fewer
    // than k stream (each stream of it locks a payment, together with the others').
    const paid = !piece && retrievalTerms(this.#parts.hosts, peer) !== undefined;
    if (paid && !this.#signal.aborted && this.#waitPaid(peer, shard, view)) {
      this.#progress.hide(view);
      return;
    }
    const room = piece ? this.#verifiedCount() < this.#k : this.#streams.size < this.#k;
    if (!paid && !this.#streams.has(shard) && room && !this.#signal.aborted) {
      this.#progress.hide(view);
      this.#startStream(peer, shard, piece ? 1 : 0, piece !== undefined, view);
    } else {
      view.state = "spare";
      this.#progress.changed();
    }
  }

  #startStream(
    host: string,
    shard: number,
    from: number,
    verified = false,
    view?: HostFetch,
    payment?: Promise<RetrievalPayment>,
  ): void {
    const { manifest, buffer, providers } = this.#download as Download;
    const { shardFetch, hosts, payRetrieval } = this.#parts;
    const stream = new ShardStream(
      { shardFetch, hosts, ...(payRetrieval ? { payRetrieval } : {}), providers, buffer, progress: this.#progress },
      {
        host,
        shard,
        pieces: manifest.shards[shard]?.pieces ?? [],
        pieceBytes: manifest.pieceSize,
        from,
        verified,
        ...(view ? { view } : {}),
        signal: this.#signal,
        onVerified: () => this.#onVerified(),
        ...(payment ? { payment } : {}),
      },
    );
    this.#progress.show(stream.view);
    this.#streams.set(shard, stream);
    this.#streamsChanged.notify();
    if (verified) this.#onVerified();
    void stream
      .run()
      .catch((error: unknown) => this.#onStreamFailed(stream, error))
      // A finished stream stays in the map: its shard remains one of the k chosen.
      .finally(() => {
        this.#streamsChanged.notify();
        this.#progress.changed();
      });
  }

  /** Once k streams verified their first piece, the slower ones are cancelled. */
  #onVerified(): void {
    this.#streamsChanged.notify();
    if (this.#verifiedCount() < this.#k) return;
    for (const [shard, stream] of this.#streams) {
      if (stream.verified) continue;
      stream.cancel();
      this.#streams.delete(shard);
    }
    for (const { view } of this.#waitingPaid.values()) if (view) view.state = "spare";
    this.#waitingPaid.clear();
    this.#download?.providers.cancelProbes();
    this.#checkReady(false);
    this.#progress.changed();
  }

  #onStreamFailed(stream: ShardStream, error: unknown): void {
    const { buffer, providers } = this.#download as Download;
    if (this.#streams.get(stream.shard) === stream) this.#streams.delete(stream.shard);
    // A passing failure leaves the host among the holders, so it is asked again (on a new connection).
    providers.streamFailed(stream.view, stream.host, stream.shard, error);
    // The same shard from another holder, where it stopped.
    const same = providers.freeHolder(stream.shard);
    if (same) {
      this.#startStream(same, stream.shard, stream.next);
      return;
    }
    // Otherwise its pending pieces are erasures, and another shard takes its place.
    buffer.lost(stream.shard, stream.next);
    this.#replace();
  }

  /** Starts a stream for a shard nobody streams, from a known holder, or probes more hosts to find one. */
  #replace(): void {
    if (this.#streams.size >= this.#k || this.#signal.aborted) return;
    const { manifest, buffer, providers } = this.#download as Download;
    const from = Math.max(0, buffer.furthest - KEEP_BEHIND_SEGMENTS);
    for (const shard of manifest.shards.keys()) {
      if (this.#streams.has(shard) || this.#waitingPaid.has(shard)) continue;
      const host = providers.freeHolder(shard);
      if (host) {
        this.#startStream(host, shard, from);
        if (this.#streams.size >= this.#k) return;
      }
    }
    void this.#discover();
  }

  // ---- pieces ----

  #deliver(cid: CID, bytes: Uint8Array, view: HostFetch): void {
    this.#download?.buffer.put(cid.toString(), bytes);
    this.#progress.received(view, bytes.byteLength);
  }

  async #piece(cid: string): Promise<Uint8Array | undefined> {
    const { buffer, providers } = this.#download as Download;
    const where = buffer.place(cid);
    if (!where || this.#signal.aborted) return undefined;
    buffer.requested(where.seg);
    const buffered = buffer.get(cid);
    if (buffered) return buffered;
    const stream = this.#streams.get(where.shard);
    if (stream && stream.next <= where.seg) return await buffer.wait(cid);
    if (stream || this.#streams.size < this.#k) {
      const host = stream?.host ?? providers.freeHolder(where.shard);
      if (!host) return undefined;
      if (!stream) {
        this.#startStream(host, where.shard, where.seg);
        return await buffer.wait(cid);
      }
      return await this.#fetchOne(host, where.shard, cid);
    }
    return undefined;
  }

  /** One piece again (the decoder retried a segment whose pieces were already let go). */
  async #fetchOne(host: string, shard: number, cid: string): Promise<Uint8Array | undefined> {
    try {
      const pieceBytes = this.#download?.manifest.pieceSize ?? 0;
      const bytes = await fetchPiece(this.#parts, host, CID.parse(cid), { signal: this.#signal, pieceBytes });
      if (bytes) this.#progress.counted(bytes.byteLength);
      return bytes;
    } catch (error) {
      if (!this.#signal.aborted) {
        const view: HostFetch = { host, shard, state: "streaming", bytes: 0, pieces: 0 };
        this.#progress.show(view);
        this.#download?.providers.failed(view, host, shard, error);
      }
      return undefined;
    }
  }
}
