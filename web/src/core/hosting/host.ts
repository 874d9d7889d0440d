import type { AbortOptions, PeerId } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { BaseError, userMessage } from "../../lib/errors.ts";
import type { HostRole, TabulaNode } from "../../p2p/node.ts";
import {
  ANNOUNCE_INTERVAL_MS,
  encodeAnnouncement,
  HOSTS_TOPIC,
  MAX_ADDRS,
} from "../../p2p/protocols/announce/index.ts";
import type { PieceRootFn } from "../../p2p/protocols/audit/index.ts";
import { readPiece } from "../../p2p/protocols/common/pieces.ts";
import type { PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import type { Admission, AdmitRequest } from "../../p2p/protocols/shard-store/index.ts";
import type { PaidShare } from "../../p2p/protocols/transfer/index.ts";
import type { HostingSettings } from "../../storage/hosting-db.ts";
import { HostingDB } from "../../storage/hosting-db.ts";
import { type HeldShard, IdbShardCatalog, shardKey, totalBytesOf } from "./catalog.ts";
import { MANIFEST_PULL_TIMEOUT_MS, REANNOUNCE_DELAY_MS, REANNOUNCE_MIN_GAP_MS } from "./constants.ts";
import type { DealDesk } from "./deal-desk.ts";
import type { HostPieceStore } from "./host-store.ts";
import { type KeptShardRef, type RemoveShardsResult, ShardKeeper } from "./keeper.ts";
import { wasmPieceRoot } from "./piece-root.ts";
import { hostRole } from "./role.ts";

/** What a host has served from one held shard, since this tab started. */
export interface ServedCount {
  pieces: number;
  bytes: number;
}

/** What an uploader hears when this tab's "Share storage" switch is off. */
const NOT_HOSTING_MESSAGE = "this peer stopped sharing storage";
const UNPAID_MESSAGE = "this host takes no paid deals (it has no stake in the market)";

/** Removing held shards needs the host's block store, which it is given once the peer has started. */
export class HostNotReadyError extends BaseError {
  override name = "HostNotReadyError";
  constructor() {
    super("The host's storage is not ready yet.", { details: "Wait until the peer has started, then try again." });
  }
}

/**
 * Host mode of this tab ("Share storage"): the settings and catalog of held shards (IndexedDB, per profile), the
 * admission policy (the switch, and the quota counting both held shards and the shards of pushes under way), the
 * serving policy (only pieces and manifests of held shards, whether the switch is on or off: they were promised to
 * their owners), removing held shards, and the signed announcements on the hosts topic. Emits `change` when
 * anything the host view shows changed.
 */
export class Host extends EventTarget {
  readonly catalog: IdbShardCatalog;
  readonly #db: HostingDB;
  #settings: HostingSettings;
  #node: TabulaNode | undefined;
  #desk: DealDesk | undefined;
  #retrieval: PaidShare | undefined;
  #payee: ((pricePerMB: bigint) => Promise<PaidShare>) | undefined;
  #retrievalError: string | undefined;
  #retrievalSync: Promise<void> = Promise.resolve();
  /** Bytes reserved for each push under way, from its offer; released when the push ends, stored or not. */
  readonly #reserved = new Map<symbol, number>();
  #keeper: ShardKeeper | undefined;
  #store: HostPieceStore | undefined;
  readonly #served = new Map<string, ServedCount>();
  /** Aborts what the host waits for (a manifest being pulled) when it stops. */
  readonly #stopping = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #soon: ReturnType<typeof setTimeout> | undefined;
  #lastAnnouncedAt = 0;
  #announcements = 0;
  #wasReserved = false;
  #available: number | undefined;

  private constructor(db: HostingDB, catalog: IdbShardCatalog, settings: HostingSettings) {
    super();
    this.#db = db;
    this.catalog = catalog;
    this.#settings = settings;
    catalog.addEventListener("change", () => this.#emit());
  }

  /** Opens the host state of a profile slot (`tabula-<slot>`). */
  static async open(storeName: string): Promise<Host> {
    const db = await HostingDB.open(`${storeName}-hosting`);
    const [catalog, settings] = await Promise.all([IdbShardCatalog.load(db), db.settings()]);
    return new Host(db, catalog, settings);
  }

  /**
   * The role the shard protocols serve through ({@link TabulaNode.start}'s `hosting`), over the peer's block store:
   * pushes are admitted by this host's policy and kept all or nothing; only pieces and manifests of held shards are
   * served. `pieceRoot` defaults to the data path's WASM hasher.
   */
  serve(store: HostPieceStore, options: { pieceRoot?: PieceRootFn } = {}): HostRole {
    const keeper = new ShardKeeper(store, this.catalog);
    this.#store = store;
    this.#keeper = keeper;
    return hostRole({
      store,
      catalog: this.catalog,
      keeper,
      admit: (request, admitOptions) => this.#admit(request, admitOptions),
      onStored: (shard) => this.#onStored(shard),
      attest: (shard) => this.#attest(shard),
      canServe: (cid) => this.catalog.serves(cid),
      onServed: (cid, bytes, from) => this.#onServed(cid, bytes, from),
      payment: () => this.#retrieval,
      // A file's manifest is given free: a reader needs it to know what it would pay for.
      free: (cid) => this.catalog.shardOfPiece(cid) === undefined,
      pieceRoot: options.pieceRoot ?? wasmPieceRoot,
    });
  }

  /** One piece from this host's store (what audits are answered from), undefined when it is not there. */
  async readPiece(cid: CID, options: AbortOptions = {}): Promise<Uint8Array | undefined> {
    const store = this.#store;
    return store ? await readPiece(store, cid, options) : undefined;
  }

  /** Starts announcing on the node's hosts topic (while the switch is on). */
  attach(node: TabulaNode): void {
    this.#node = node;
    const pubsub = node.libp2p.services.pubsub;
    if (!pubsub.getTopics().includes(HOSTS_TOPIC)) pubsub.subscribe(HOSTS_TOPIC);
    pubsub.addEventListener("subscription-change", (event) => {
      if (event.detail.subscriptions.some((s) => s.topic === HOSTS_TOPIC && s.subscribe)) this.#announceSoon();
    });
    // A new or regained relay reservation gives new addresses: announce them at once.
    node.addEventListener("change", () => {
      const reserved = node.relayStatus.state === "reserved";
      if (reserved && !this.#wasReserved) this.#announceSoon(0);
      this.#wasReserved = reserved;
    });
    void this.#refreshAvailable();
    this.#schedule();
  }

  get settings(): HostingSettings {
    return this.#settings;
  }
  get enabled(): boolean {
    return this.#settings.enabled;
  }
  get quotaBytes(): number {
    return this.#settings.quotaBytes;
  }
  get usedBytes(): number {
    return this.catalog.usedBytes;
  }
  /** Bytes reserved by the pushes under way (each its offer's size). */
  get reservedBytes(): number {
    let total = 0;
    for (const bytes of this.#reserved.values()) total += bytes;
    return total;
  }
  /** Pushes under way (admitted, not ended yet). */
  get pushes(): number {
    return this.#reserved.size;
  }
  /** What this host offers now: the quota left, bounded by what the browser still grants the origin. */
  get freeBytes(): number {
    const left = Math.max(0, this.#settings.quotaBytes - this.catalog.usedBytes - this.reservedBytes);
    return this.#available === undefined ? left : Math.min(left, this.#available);
  }
  get lastAnnouncedAt(): number {
    return this.#lastAnnouncedAt;
  }
  get announcements(): number {
    return this.#announcements;
  }
  /** Every held shard, oldest first. */
  held(): HeldShard[] {
    return this.catalog.list();
  }
  /** Pieces and bytes served per held shard (`<manifest>/<index>`) since the tab started. */
  get served(): ReadonlyMap<string, ServedCount> {
    return this.#served;
  }

  /** Turns "Share storage" on or off; the setting is kept for this profile. */
  async setEnabled(enabled: boolean): Promise<void> {
    this.#settings = await this.#db.saveSettings({ enabled });
    this.#emit();
    // Off: a last announcement with no free space, so that owners stop picking this tab at once.
    this.#announceSoon(0, true);
  }

  /**
   * Asks `pricePerMB` (token base units per MB, 0 = free) for the pieces this host serves; the setting is kept
   * for this profile. It is charged once {@link takePayments} gave what takes the payments.
   */
  async setRetrievalPrice(pricePerMB: bigint): Promise<void> {
    if (pricePerMB < 0n) throw new RangeError("the price for downloads must not be negative");
    this.#settings = await this.#db.saveSettings({ retrievalPricePerMB: pricePerMB.toString() });
    this.#emit();
    await this.#syncRetrieval();
  }

  /** The asked price per MB of pieces served (0 = free). */
  get retrievalPricePerMB(): bigint {
    return BigInt(this.#settings.retrievalPricePerMB);
  }

  /**
   * Charges the asked price for pieces from now on, through what `payee` makes for a price (a wallet can be paid);
   * `undefined` serves them free again. Fetches under way keep the terms they began with.
   */
  async takePayments(payee: ((pricePerMB: bigint) => Promise<PaidShare>) | undefined): Promise<void> {
    this.#payee = payee;
    await this.#syncRetrieval();
  }

  /** The terms pieces are served on now, if they are paid for. */
  get retrieval(): PaymentTerms | undefined {
    return this.#retrieval?.terms;
  }

  /** Why the asked price is not charged, if it is not. */
  get retrievalError(): string | undefined {
    return this.#retrievalError;
  }

  /** Makes what takes payments at the asked price (one at a time), and announces its terms. */
  async #syncRetrieval(): Promise<void> {
    this.#retrievalSync = this.#retrievalSync.then(async () => {
      const price = this.retrievalPricePerMB;
      const payee = this.#payee;
      const next =
        price === 0n || !payee
          ? undefined
          : this.#retrieval?.terms.pricePerMB === price
            ? this.#retrieval
            : await payee(price).catch((error: unknown) => {
                this.#retrievalError = userMessage(error);
                return undefined;
              });
      if (next || price === 0n) this.#retrievalError = undefined;
      if (next === this.#retrieval) return this.#emit();
      this.#retrieval = next;
      this.#emit();
      this.#announceSoon(0, true);
    });
    await this.#retrievalSync;
  }

  async setQuota(quotaBytes: number): Promise<void> {
    if (!Number.isSafeInteger(quotaBytes) || quotaBytes < 0) throw new RangeError("the quota is a number of bytes");
    this.#settings = await this.#db.saveSettings({ quotaBytes });
    this.#emit();
    this.#announceSoon();
  }

  /**
   * Stops holding shards: they are no longer served, audited or counted, and the blocks host mode wrote for them
   * are deleted, unless another held shard or a push under way lists them (blocks it found in the store, such as
   * public content, are never deleted). Needs the role {@link serve} made; an abort stops before the next shard.
   */
  async remove(shards: readonly KeptShardRef[], options: AbortOptions = {}): Promise<RemoveShardsResult> {
    const keeper = this.#keeper;
    if (!keeper) throw new HostNotReadyError();
    try {
      return await keeper.remove(shards, options);
    } finally {
      this.#emit();
      this.#announceSoon();
    }
  }

  /** Removes every held shard (see {@link remove}). */
  async removeAll(options: AbortOptions = {}): Promise<RemoveShardsResult> {
    return await this.remove(this.catalog.list(), options);
  }

  /** Stops holding one shard (see {@link remove}). */
  async drop(manifest: CID, shardIndex: number, options: AbortOptions = {}): Promise<void> {
    await this.remove([{ manifest, shardIndex }], options);
  }

  /** Stops announcing and aborts what the host waits for. */
  stop(): void {
    this.#stopping.abort(new DOMException("The host stopped.", "AbortError"));
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#soon) clearTimeout(this.#soon);
    this.#node = undefined;
  }

  #emit(): void {
    this.dispatchEvent(new CustomEvent("change"));
  }

  /**
   * Takes paid pushes from now on, checking each deal and signing its σ at this desk (the owner staked and
   * authorized this tab's key); `undefined` refuses offers that name a deal.
   */
  setDealDesk(desk: DealDesk | undefined): void {
    this.#desk = desk;
    this.#emit();
  }

  /** Whether this tab takes paid deals now. */
  get paid(): boolean {
    return this.#desk !== undefined;
  }

  async #admit(request: AdmitRequest, options: AbortOptions = {}): Promise<Admission> {
    const { offer } = request;
    if (!this.#settings.enabled) return { ok: false, code: "not-hosting", message: NOT_HOSTING_MESSAGE };
    if (offer.dealId) {
      if (!this.#desk) return { ok: false, code: "bad-deal", message: UNPAID_MESSAGE };
      const checked = await this.#desk.check({ ...offer, totalBytes: request.totalBytes });
      if (!checked.ok) return { ok: false, code: "bad-deal", message: checked.message };
    }
    // A shard held already takes no more room (its pieces are all here: nothing is sent).
    if (await this.catalog.get(offer.manifest, offer.shardIndex)) return { ok: true };
    await this.#refreshAvailable();
    options.signal?.throwIfAborted();
    // No await from here to the reservation: concurrent offers are checked against each other's reservations.
    if (!this.#settings.enabled) return { ok: false, code: "not-hosting", message: NOT_HOSTING_MESSAGE };
    if (request.totalBytes > this.freeBytes) return { ok: false, code: "no-space" };
    const reservation = Symbol(shardKey(offer.manifest, offer.shardIndex));
    this.#reserved.set(reservation, request.totalBytes);
    this.#emit();
    return {
      ok: true,
      release: () => {
        if (this.#reserved.delete(reservation)) this.#emit();
      },
    };
  }

  async #attest(shard: HeldShard): Promise<Uint8Array> {
    if (!this.#desk) throw new Error(UNPAID_MESSAGE);
    return await this.#desk.attest({ ...shard, totalBytes: totalBytesOf(shard) });
  }

  #onStored(shard: HeldShard): void {
    this.#announceSoon();
    void this.#pullManifest(shard.manifest);
  }

  /**
   * Fetches the owner's manifest over bitswap (the owner's tab serves it) so that this host can hand it to anyone
   * holding the share link: a fresh tab learns the file's layout from any host, without the owner online.
   */
  async #pullManifest(manifest: CID): Promise<void> {
    const node = this.#node;
    const keeper = this.#keeper;
    const store = this.#store;
    if (!node || !keeper || !store) return;
    // Held while it is fetched, so that removing the shard meanwhile does not leave it behind untracked.
    const release = keeper.hold([manifest]);
    try {
      if (await store.has(manifest)) return;
      // Recorded before it is written, like the pieces: removing the file's last shard deletes it.
      await this.catalog.addHostBlocks([manifest]);
      const signal = AbortSignal.any([this.#stopping.signal, AbortSignal.timeout(MANIFEST_PULL_TIMEOUT_MS)]);
      for await (const _ of node.helia.blockstore.get(manifest, { signal })) {
        // Helia verified the block against its CID and put it in the block store.
      }
    } catch {
      // The owner left before we got it, or the host stopped; another host or the owner's next upload provides it.
    } finally {
      release();
      // The shard may be gone by now (removed), or the fetch failed: the manifest goes if nothing lists it.
      await keeper.collect([manifest]).catch(() => 0);
    }
  }

  #onServed(cid: CID, bytes: number, _from: PeerId): void {
    const key = this.catalog.shardOfPiece(cid);
    if (!key) return;
    const count = this.#served.get(key) ?? { pieces: 0, bytes: 0 };
    this.#served.set(key, { pieces: count.pieces + 1, bytes: count.bytes + bytes });
    this.#emit();
  }

  async #refreshAvailable(): Promise<void> {
    try {
      const estimate = await navigator.storage?.estimate?.();
      if (estimate?.quota !== undefined && estimate.usage !== undefined) {
        this.#available = Math.max(0, estimate.quota - estimate.usage);
      }
    } catch {
      this.#available = undefined;
    }
  }

  #schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      void this.#announce().finally(() => this.#schedule());
    }, ANNOUNCE_INTERVAL_MS);
  }

  /** Announces shortly (coalescing bursts), at most once per {@link REANNOUNCE_MIN_GAP_MS} unless forced. */
  #announceSoon(delayMs = REANNOUNCE_DELAY_MS, force = false): void {
    if (this.#soon) return;
    const gap = force ? 0 : Math.max(0, this.#lastAnnouncedAt + REANNOUNCE_MIN_GAP_MS - Date.now());
    this.#soon = setTimeout(
      () => {
        this.#soon = undefined;
        void this.#announce(force);
      },
      Math.max(delayMs, gap),
    );
  }

  async #announce(evenWhenOff = false): Promise<void> {
    const node = this.#node;
    if (!node || (!this.#settings.enabled && !evenWhenOff)) return;
    const addrs = node.circuitAddrs().slice(0, MAX_ADDRS);
    if (addrs.length === 0) return;
    await this.#refreshAvailable();
    try {
      const bytes = await encodeAnnouncement(node.privateKey, {
        peer: node.peerId,
        freeBytes: this.#settings.enabled ? this.freeBytes : 0,
        pricePerGiBMonth: BigInt(this.#settings.pricePerGiBMonth),
        addrs,
        timestampMs: Date.now(),
        ...(this.#retrieval ? { retrieval: this.#retrieval.terms } : {}),
      });
      await node.libp2p.services.pubsub.publish(HOSTS_TOPIC, bytes);
      this.#lastAnnouncedAt = Date.now();
      this.#announcements += 1;
      this.#emit();
    } catch {
      // Nobody subscribed yet, or the relay is gone: the next interval retries.
    }
  }
}
