/**
 * My files on the network: where each shard is placed and what the last check found, the uploads, downloads,
 * checks and repairs under way (activities.ts), one at a time per file (file-locks.ts), and the hosts this tab
 * knows. It gives the files page its network side: a store that fetches what this browser lacks from the hosts, and
 * the upload that follows storing a file; and it keeps the files healthy on its own, checking their hosts on a
 * schedule and repairing what was lost (maintenance.ts). Emits `change` whenever anything it shows changes.
 */

import type { Account } from "viem";
import { getBlock, readContract } from "viem/actions";
import { deployedContract } from "../../chain/chain.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { allowance } from "../../chain/token/allowance.ts";
import { approve } from "../../chain/token/approve.ts";
import { formatAmount } from "../../lib/amounts.ts";
import type { BlockReader } from "../../lib/blocks.ts";
import { asCid } from "../../lib/cid.ts";
import { BaseError } from "../../lib/errors.ts";
import { decodeManifest, type Manifest } from "../../lib/manifest.ts";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import type { FilesDB } from "../../storage/files-db.ts";
import { auditDeals } from "../deals/audit-deals.ts";
import { clientKey, enableClientKey } from "../deals/client-key.ts";
import { type FileHostsParts, withChainHolders } from "../deals/file-hosts.ts";
import { type DealTransaction, type PaidQuote, requirePayer } from "../deals/paid-upload.ts";
import { type PaidStorageParts, type PlacePaidParameters, placePaid, quoteFile } from "../deals/place-paid.ts";
import { dealsToRenew, finishRenewals, quoteRenewal, renewFile } from "../deals/renew-file.ts";
import { endFileDeals, openProposals, resumeFileDeals } from "../deals/settle-file.ts";
import { type DealVerification, verifyDeal } from "../deals/verify-deal.ts";
import type { RemoteFileStore } from "../files/my-files.ts";
import { type Activity, type ActivityError, ActivityLog, errorView } from "./activities.ts";
import { checkFile, type ShardCheck } from "./check-file.ts";
import { NetworkStore } from "./download/index.ts";
import { FileLocks, type LockManagerLike } from "./file-locks.ts";
import { fileView, type MaintenanceView, maintained, maintenanceView, type NetworkFileView } from "./file-views.ts";
import type { KnownHost } from "./known-hosts.ts";
import { DEFAULT_CHECK_INTERVAL_MS, lostShardsOf, Maintenance, type MaintenanceClock } from "./maintenance.ts";
import type { TabNetworkParts } from "./node-parts.ts";
import type { NetworkParts } from "./parts.ts";
import { assertEnoughHosts, placementTargets, unplacedShards } from "./placement-targets.ts";
import { liveHolders, type Placement, type PlacementDeal, placementsOf, savePlacement } from "./placements.ts";

export type { MaintenanceView, NetworkFileView, ShardView } from "./file-views.ts";

import { type PlaceShards, repairFile } from "./repair-file.ts";
import { uploadFile } from "./upload-file.ts";

/** The hosts as my files on the network read them: the announced ones, with what this tab measured. */
export type HostList = TabNetworkParts["hosts"] & { list(): KnownHost[] };

export interface NetworkFilesParts extends Omit<TabNetworkParts, "hosts"> {
  hosts: HostList;
  /** The chain and wallet paid storage uses; without them files are placed for free only. */
  paid?: PaidStorageParts;
  /** This browser's files database (the same connection on every call). */
  db(): Promise<FilesDB>;
  /** The codec a repair rebuilds shards with (a worker pool, made on first use). */
  codec(): SegmentCodec;
  /** The Web Locks shared by this browser's tabs (navigator.locks by default). */
  locks?: LockManagerLike;
  /** The clock of the automatic checks (the real one by default). */
  clock?: MaintenanceClock;
  /** The chain, whose deals name the hosts of a file that is not mine; none in free mode. */
  chain?: FileHostsParts;
}

export interface NetworkFilesOptions {
  /** Time between two automatic checks of each file (config.json `network.checkIntervalSeconds`). */
  checkIntervalMs?: number;
}

/** A paid upload waiting for the owner's confirmation: the quote, or why there is none. */
export interface PendingQuote {
  cid: string;
  state: "quoting" | "ready" | "failed";
  /** A renewal of running deals rather than a first placement. */
  renewal?: boolean;
  quote?: PaidQuote;
  error?: ActivityError;
}

/** A paid file whose running deals near their end: offered for renewal. */
export interface DueRenewal {
  /** Deals ending within the renewal window. */
  deals: number;
  /** When the first of them ends (Unix seconds, chain time). */
  endsAtS: number;
}

/** How an operation was started: by the automatic checks (abortable when they pause) or by the user. */
interface OperationOptions {
  auto?: boolean;
  signal?: AbortSignal;
}

/** What the user's actions take: a signal to cancel them. */
export interface ActionOptions {
  signal?: AbortSignal;
}

/** Shards of this file have no live host: its local copy is the only complete one. */
export class LocalCopyNeededError extends BaseError {
  override name = "LocalCopyNeededError";
  constructor() {
    super("Some shards of this file have no live host, so its local copy is kept.", {
      details: "Check the hosts and repair the file first.",
    });
  }
}

export class NetworkFiles extends EventTarget {
  readonly #parts: NetworkFilesParts;
  readonly #log = new ActivityLog();
  readonly #locks: FileLocks;
  readonly #maintenance: Maintenance;
  readonly #manifests = new Map<string, Uint8Array>();
  readonly #stop = new AbortController();

  #files: NetworkFileView[] = [];
  #hosts: KnownHost[];
  #plan: ReadonlyMap<string, MaintenanceView> = new Map();
  #autoUpload = true;
  #keepLocalCopy = true;
  #paidStorage = false;
  #quotes = new Map<string, PendingQuote>();
  #renewals = new Map<string, DueRenewal>();

  constructor(parts: NetworkFilesParts, options: NetworkFilesOptions = {}) {
    super();
    this.#parts = parts;
    this.#locks = new FileLocks(parts.locks);
    this.#hosts = parts.hosts.list();
    const signal = this.#stop.signal;
    parts.hosts.addEventListener(
      "change",
      () => {
        this.#hosts = parts.hosts.list();
        this.#changed();
      },
      { signal },
    );
    this.#log.addEventListener("change", () => this.#changed(), { signal });
    this.#locks.addEventListener("change", () => this.#changed(), { signal });
    this.#maintenance = new Maintenance(
      {
        isBusy: (cid) => this.#locks.has(cid),
        check: async (cid, signal) => ({
          lostShards: lostShardsOf(await this.#check(cid, { auto: true, signal }), this.#shardCount(cid)),
        }),
        repair: async (cid, signal) => {
          await this.#repair(cid, { auto: true, signal });
        },
        files: async () => {
          await this.refresh();
          return maintained(this.#files);
        },
        ...(parts.clock ? { clock: parts.clock } : {}),
      },
      {
        intervalMs: options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS,
        onChange: (schedule) => {
          this.#plan = new Map(schedule.map((f) => [f.cid, maintenanceView(f)]));
          this.#changed();
        },
      },
    );
    this.#maintenance.start();
    void this.refresh().catch((error: unknown) => console.error(error));
  }

  get files(): NetworkFileView[] {
    return this.#files;
  }
  /** Operations under way first, then the last finished ones. */
  get activities(): Activity[] {
    return this.#log.list;
  }
  get hosts(): KnownHost[] {
    return this.#hosts;
  }
  /** Files with an operation under way (or waiting for one to end). */
  get busy(): ReadonlySet<string> {
    return this.#locks.busy;
  }
  /** Where each file stands in the automatic checks, by manifest CID. */
  get maintenance(): ReadonlyMap<string, MaintenanceView> {
    return this.#plan;
  }
  /** Time between two automatic checks of a file. */
  get checkIntervalMs(): number {
    return this.#maintenance.intervalMs;
  }
  /** Check every file's hosts on a schedule and repair lost shards at once; off pauses it (and stops what runs). */
  get autoRepair(): boolean {
    return this.#maintenance.running;
  }
  set autoRepair(on: boolean) {
    if (on) this.#maintenance.start();
    else this.#maintenance.stop();
    this.#changed();
  }
  /** Place a file's shards on hosts as soon as it is stored. */
  get autoUpload(): boolean {
    return this.#autoUpload;
  }
  set autoUpload(on: boolean) {
    this.#autoUpload = on;
    this.#changed();
  }
  /** Keep the pieces in this browser after every shard is placed. */
  get keepLocalCopy(): boolean {
    return this.#keepLocalCopy;
  }
  set keepLocalCopy(on: boolean) {
    this.#keepLocalCopy = on;
    this.#changed();
  }

  /** Whether this tab can pay for storage (a chain with the market is configured). */
  get paidAvailable(): boolean {
    return this.#parts.paid !== undefined;
  }
  /**
   * Place files under paid storage deals with staked hosts (each upload quoted and confirmed first) instead of
   * for free. Off by default, and unavailable without the market.
   */
  get paidStorage(): boolean {
    return this.#paidStorage;
  }
  set paidStorage(on: boolean) {
    this.#paidStorage = on && this.#parts.paid !== undefined;
    this.#changed();
  }
  /** Paid uploads waiting for the owner's confirmation, by manifest CID. */
  get quotes(): ReadonlyMap<string, PendingQuote> {
    return this.#quotes;
  }
  /** Paid files whose deals near their end, by manifest CID (found by each check's on-chain round). */
  get renewals(): ReadonlyMap<string, DueRenewal> {
    return this.#renewals;
  }

  /** Stops the automatic checks and what they run, and stops listening to the hosts. */
  close(): void {
    this.#maintenance.stop();
    this.#stop.abort();
  }

  #changed(): void {
    this.dispatchEvent(new Event("change"));
  }

  #network(): NetworkParts {
    return this.#parts;
  }

  #hostsChanged = (signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const hosts = this.#parts.hosts;
      const done = () => {
        hosts.removeEventListener("change", done);
        resolve();
      };
      hosts.addEventListener("change", done);
      signal.addEventListener("abort", done, { once: true });
    });

  /** An operation on one file, alone on it and shown as an activity; rejects with its error. */
  async #operate<T>(
    kind: Activity["kind"],
    cid: string,
    op: OperationOptions,
    run: (activity: Activity) => Promise<T>,
  ): Promise<T> {
    return await this.#locks.run(
      cid,
      async () => {
        op.signal?.throwIfAborted();
        const activity = this.#log.begin(kind, cid, op.auto);
        try {
          const result = await run(activity);
          this.#log.end(activity);
          return result;
        } catch (error) {
          this.#log.end(activity, error);
          throw error;
        } finally {
          await this.refresh().catch((error: unknown) => console.error(error));
        }
      },
      op.signal,
    );
  }

  /** Like {@link #operate}, for the user's buttons: the error shows in the activity, the result is undefined. */
  async #track<T>(
    kind: Activity["kind"],
    cid: string,
    op: OperationOptions,
    run: (activity: Activity) => Promise<T>,
  ): Promise<T | undefined> {
    return await this.#operate(kind, cid, op, run).catch(() => undefined);
  }

  // ---- my files ----

  /** Reads my files' placements and which shards are still in this browser. */
  async refresh(signal?: AbortSignal): Promise<void> {
    const db = await this.#parts.db();
    const views: NetworkFileView[] = [];
    for (const record of await db.listFiles()) {
      signal?.throwIfAborted();
      const view = await fileView(db, record.cid);
      if (view) views.push(view);
    }
    this.#files = views;
    this.#maintenance.setFiles(maintained(views));
    this.#changed();
  }

  /** Called once a file is stored in this browser: places it on hosts when automatic upload is on. */
  onStored(cid: string): void {
    void this.refresh().catch((error: unknown) => console.error(error));
    if (this.#autoUpload) void this.upload(cid);
  }

  /**
   * Places the shards that have no live holder on hosts, with progress per host. With paid storage on, it quotes
   * the placement instead and waits for {@link confirmQuote}.
   */
  async upload(cid: string, options: ActionOptions = {}): Promise<Placement[] | undefined> {
    if (this.#paidStorage) {
      await this.quote(cid, options);
      return undefined;
    }
    return await this.#track("upload", cid, options, async (activity) => {
      const db = await this.#parts.db();
      const manifestBytes = await db.getManifest(cid);
      if (!manifestBytes) throw new Error(`the manifest of ${cid} is not in this browser`);
      const manifest = await decodeManifest(manifestBytes, asCid(cid));
      // Hosts fetch the manifest from this tab over bitswap, so that they can give it to a share link's holder.
      await this.#parts.serveBlock(asCid(cid), manifestBytes);
      const placements = await placementsOf(db, cid);
      if (unplacedShards(placements, manifest.k + manifest.m).length === 0) return [];
      const placed = await uploadFile({ ...this.#network(), store: db, placements: db }, cid, {
        placements,
        extraHosts: 1,
        ...(options.signal ? { signal: options.signal } : {}),
        onProgress: (upload) => {
          activity.upload = upload;
          this.#log.progressed();
        },
      });
      if (!this.#keepLocalCopy) await dropLocal(db, cid);
      return placed;
    });
  }

  /** Quotes the paid placement of the file's unplaced shards on the best staked hosts online now. */
  async quote(cid: string, options: ActionOptions & { durationSeconds?: bigint } = {}): Promise<void> {
    const paid = this.#parts.paid;
    if (!paid) return;
    this.#quotes.set(cid, { cid, state: "quoting" });
    this.#changed();
    try {
      const db = await this.#parts.db();
      const manifest = await this.#manifestOf(db, cid);
      const payer = requirePayer(await paid.payer());
      const quote = await quoteFile(
        { ...paid, self: this.#parts.self, hosts: this.#parts.hosts },
        {
          manifest,
          manifestCid: cid,
          placements: await placementsOf(db, cid),
          payer,
          ...(options.durationSeconds === undefined ? {} : { durationSeconds: options.durationSeconds }),
          ...(options.signal ? { signal: options.signal } : {}),
        },
      );
      this.#quotes.set(cid, { cid, state: "ready", quote });
    } catch (error) {
      this.#quotes.set(cid, { cid, state: "failed", error: errorView(error) });
    }
    this.#changed();
  }

  /** Quotes renewing the file's deals that near their end, each on the host that holds its shard. */
  async quoteRenewal(cid: string, options: ActionOptions & { durationSeconds?: bigint } = {}): Promise<void> {
    const paid = this.#parts.paid;
    if (!paid) return;
    this.#quotes.set(cid, { cid, state: "quoting", renewal: true });
    this.#changed();
    try {
      const db = await this.#parts.db();
      const quote = await quoteRenewal(
        { ...paid, self: this.#parts.self, hosts: this.#parts.hosts },
        {
          manifest: await this.#manifestOf(db, cid),
          manifestCid: cid,
          placements: await placementsOf(db, cid),
          payer: requirePayer(await paid.payer()),
          nowS: Number((await getBlock(paid.reader)).timestamp),
          ...(options.durationSeconds === undefined ? {} : { durationSeconds: options.durationSeconds }),
          ...(options.signal ? { signal: options.signal } : {}),
        },
      );
      this.#quotes.set(cid, { cid, state: "ready", renewal: true, quote });
    } catch (error) {
      this.#quotes.set(cid, { cid, state: "failed", renewal: true, error: errorView(error) });
    }
    this.#changed();
  }

  /** Checks a deal of one of the file's shards against the chain (σ, its signer, the terms naming this shard). */
  async verifyDeal(cid: string, shard: number, dealId: bigint, sigma?: Uint8Array): Promise<DealVerification> {
    const paid = this.#parts.paid;
    if (!paid) throw new Error("no chain is configured to verify deals on");
    return await verifyDeal(paid.reader, { manifestCid: cid, shardIndex: shard, dealId, ...(sigma ? { sigma } : {}) });
  }

  /**
   * Ends every running deal of the file early in one transaction: each host paid up to now, the rest refunded.
   * Rejects (and the activity shows why) when the chain refuses.
   */
  async endDeals(cid: string, options: ActionOptions = {}): Promise<void> {
    const paid = this.#parts.paid;
    if (!paid) return;
    await this.#operate("deals", cid, options, async (activity) => {
      const db = await this.#parts.db();
      const placements = await placementsOf(db, cid);
      if (!placements.some((p) => p.deal?.acceptTx)) return;
      const payer = requirePayer(await paid.payer());
      const ended = await endFileDeals({ reader: paid.reader, payer }, { placements });
      if (ended.hash) {
        activity.deals = [{ what: "end", hash: ended.hash, dealIds: ended.ended }];
        activity.ended = { hostPayments: ended.hostPayments, refund: ended.refund };
      }
      const endedIds = new Set(ended.ended);
      for (const p of placements) {
        if (p.deal && endedIds.has(p.deal.id)) {
          await savePlacement(db, { ...p, status: "moved", reason: "its deal was ended early" });
        }
      }
      await this.#noteRenewals(db, cid);
    });
  }

  /**
   * Finishes the paid uploads a closed tab left half done, for every file of mine: σ kept here submitted, every
   * other proposal cancelled (its escrow back). Runs when the wallet connects.
   */
  async resumeDeals(): Promise<void> {
    const paid = this.#parts.paid;
    const payer = await paid?.payer();
    if (!paid || !payer) return;
    const db = await this.#parts.db();
    for (const record of await db.listFiles()) {
      if (this.#locks.has(record.cid)) continue;
      const parts = { reader: paid.reader, payer };
      const proposed = await openProposals(parts, record.cid).catch(() => []);
      if (proposed.length === 0) continue;
      await this.#track("deals", record.cid, { auto: true }, async (activity) => {
        const resumed = await resumeFileDeals(parts, {
          manifestCid: record.cid,
          placements: await placementsOf(db, record.cid),
          proposed,
        });
        if (resumed.transactions.length > 0) activity.deals = resumed.transactions;
        for (const placement of resumed.accepted) await savePlacement(db, placement);
      });
    }
  }

  /**
   * The owner's audit budget: what the market may still take from the wallet for challenge bonds, and the bond of
   * one challenge now. Undefined without a wallet or a market.
   */
  async auditBudget(): Promise<{ left: bigint; bond: bigint } | undefined> {
    const paid = this.#parts.paid;
    const payer = await paid?.payer();
    if (!paid || !payer) return undefined;
    const market = deployedContract(paid.reader.chain, "StorageMarket");
    const [left, parameters] = await Promise.all([
      allowance(paid.reader, { owner: payer.account.address, spender: market.address }),
      readContract(paid.reader, { address: market.address, abi: market.abi, functionName: "parameters" }),
    ]);
    return { left, bond: parameters.challengeBond };
  }

  /**
   * Sets the audit budget (the wallet's allowance to the market) to `value` token base units (one transaction), and
   * lets the tab's key send the audit rounds: authorized for the Client role and given gas, where it is not yet.
   */
  async setAuditBudget(value: bigint): Promise<`0x${string}`> {
    const paid = this.#parts.paid;
    if (!paid) throw new Error("no market is configured on this chain");
    const payer = requirePayer(await paid.payer());
    const market = deployedContract(paid.reader.chain, "StorageMarket");
    const hash = await approve(payer, { spender: market.address, value });
    await waitForSuccess(paid.reader, { hash, what: "Setting the audit budget" });
    if (paid.operatorKey) await enableClientKey({ reader: paid.reader, owner: payer, key: await paid.operatorKey() });
    this.#changed();
    return hash;
  }

  /** Drops a quote without paying. */
  dismissQuote(cid: string): void {
    if (this.#quotes.delete(cid)) this.#changed();
  }

  /**
   * Pays and places the file as quoted: one permit and one transaction escrow every deal, each shard goes to its
   * host with its deal id, and all σ are submitted in one transaction.
   */
  async confirmQuote(cid: string, options: ActionOptions = {}): Promise<Placement[] | undefined> {
    const pending = this.#quotes.get(cid);
    const paid = this.#parts.paid;
    if (!pending?.quote || !paid) return undefined;
    const quote = pending.quote;
    this.#quotes.delete(cid);
    if (quote.renews) return await this.#renew(cid, quote, options);
    return await this.#track("upload", cid, options, async (activity) => {
      const db = await this.#parts.db();
      const manifest = await this.#manifestOf(db, cid);
      await this.#parts.serveBlock(asCid(cid), (await db.getManifest(cid)) as Uint8Array);
      const { placed } = await placePaid({ ...this.#network(), ...paid, store: db, placements: db }, cid, {
        manifest,
        quote,
        payer: requirePayer(await paid.payer()),
        ...(options.signal ? { signal: options.signal } : {}),
        ...this.#reportsTo(activity),
      });
      if (!this.#keepLocalCopy) await dropLocal(db, cid);
      return placed;
    });
  }

  /** Where a paid placement's pushes and transactions show: on its activity. */
  #reportsTo(activity: Activity): Pick<PlacePaidParameters, "onProgress" | "onTransaction"> {
    return {
      onProgress: (upload) => {
        activity.upload = upload;
        this.#log.progressed();
      },
      onTransaction: (tx) => {
        activity.deals = [...(activity.deals ?? []), tx];
        this.#log.progressed();
      },
    };
  }

  /** Renews as quoted: new deals on the same hosts, then the replaced ones ended (renew-file.ts). */
  async #renew(cid: string, quote: PaidQuote, options: ActionOptions): Promise<Placement[] | undefined> {
    const paid = this.#parts.paid as PaidStorageParts;
    return await this.#track("renew", cid, options, async (activity) => {
      const db = await this.#parts.db();
      const payer = requirePayer(await paid.payer());
      const ender = await this.#clientSender(paid, payer);
      try {
        const renewed = await renewFile({ ...this.#network(), ...paid, store: db, placements: db }, cid, {
          manifest: await this.#manifestOf(db, cid),
          quote,
          payer,
          ender,
          ...(options.signal ? { signal: options.signal } : {}),
          ...this.#reportsTo(activity),
        });
        activity.ended = { hostPayments: renewed.hostPayments, refund: renewed.refund };
        return renewed.renewed;
      } finally {
        // What is still due after a partial renewal stays offered.
        await this.#noteRenewals(db, cid).catch(() => undefined);
      }
    });
  }

  /**
   * Who sends the owner's routine deal transactions (audit rounds, ends): the tab's key where the owner authorized it
   * for the Client role (no wallet prompt), else the wallet itself.
   */
  async #clientSender(paid: PaidStorageParts, payer: TabulaClient<Account>): Promise<TabulaClient<Account>> {
    const key = paid.operatorKey ? await paid.operatorKey() : undefined;
    return (key && (await clientKey({ reader: paid.reader, owner: payer.account.address, key }))) || payer;
  }

  /** Whether the file's deals near their end, by the chain's clock: what the files page offers to renew. */
  async #noteRenewals(db: FilesDB, cid: string): Promise<void> {
    const paid = this.#parts.paid;
    if (!paid) return;
    const placements = await placementsOf(db, cid);
    // A file stored for free has nothing to renew: no need to read the chain's clock.
    const nowS = placements.some((p) => p.deal) ? Number((await getBlock(paid.reader)).timestamp) : 0;
    const due = dealsToRenew(placements, nowS);
    if (due.length > 0) {
      this.#renewals.set(cid, { deals: due.length, endsAtS: Math.min(...due.map((d) => d.endsAtS)) });
    } else {
      this.#renewals.delete(cid);
    }
    this.#changed();
  }

  async #manifestOf(db: FilesDB, cid: string): Promise<Manifest> {
    const bytes = await db.getManifest(cid);
    if (!bytes) throw new Error(`the manifest of ${cid} is not in this browser`);
    return await decodeManifest(bytes, asCid(cid));
  }

  /** Audits every host holding a shard of the file. */
  async check(cid: string, options: ActionOptions = {}): Promise<ShardCheck[] | undefined> {
    return await this.#check(cid, options).catch(() => undefined);
  }

  async #check(cid: string, op: OperationOptions): Promise<ShardCheck[]> {
    return await this.#operate("check", cid, op, async (activity) => {
      const db = await this.#parts.db();
      activity.checks = [];
      const checks = await checkFile({ ...this.#network(), store: db, placements: db }, cid, {
        ...(op.signal ? { signal: op.signal } : {}),
        onCheck: (check) => {
          activity.checks = [...(activity.checks ?? []), check];
          this.#log.progressed();
        },
      });
      try {
        return await this.#auditOnChain(db, cid, checks, activity, op.signal);
      } finally {
        // Deals near their end are offered for renewal whatever the round met.
        await this.#noteRenewals(db, cid).catch(() => undefined);
      }
    });
  }

  /**
   * A paid file's on-chain audit round after the check over the network (audit-deals.ts): penalties for missed
   * windows, new challenges on the audit budget. A host that missed its window holds its shard no more as far as
   * the file is concerned (bad), so the repair places it under a new deal; a deal whose shard moved elsewhere is
   * ended once no audit of it is open (its unearned escrow refunded). Without a wallet the round waits for one.
   */
  async #auditOnChain(
    db: FilesDB,
    cid: string,
    checks: ShardCheck[],
    activity: Activity,
    signal?: AbortSignal,
  ): Promise<ShardCheck[]> {
    const paid = this.#parts.paid;
    const placements = (await placementsOf(db, cid)).filter((p) => p.deal?.acceptTx && !p.deal.ended);
    if (!paid || placements.length === 0) return checks;
    const payer = await paid.payer();
    if (!payer) return checks;
    const sender = await this.#clientSender(paid, payer);
    const { onTransaction } = this.#reportsTo(activity);
    const note = (what: DealTransaction["what"], hash: `0x${string}`, dealIds: bigint[]) =>
      onTransaction?.({ what, hash, dealIds });
    // A renewal a closed tab left before its last step: the deals it replaces end now.
    const finished = await finishRenewals(
      { reader: paid.reader, sender, owner: payer.account.address, store: db },
      cid,
    );
    if (finished.hash) note("end", finished.hash, finished.ended);
    const round = await auditDeals(
      { reader: paid.reader, sender, owner: payer.account.address },
      {
        deals: placements.map((p) => ({
          dealId: (p.deal as PlacementDeal).id,
          shard: p.shard,
          retired: p.status === "moved",
        })),
        ...(signal ? { signal } : {}),
        onTransaction: (what, hash) => note(what, hash, []),
      },
    );
    activity.audits = round.outcomes;
    if (round.budget) activity.auditError = errorView(round.budget);
    const byDeal = new Map(placements.map((p) => [(p.deal as PlacementDeal).id, p]));
    const result = [...checks];
    const retire: Placement[] = [];
    for (const outcome of round.outcomes) {
      const placement = byDeal.get(outcome.dealId);
      if (!placement) continue;
      const deal = placement.deal as PlacementDeal;
      if (outcome.kind === "missed" || (outcome.kind === "ended" && outcome.status === "Slashed")) {
        const reason =
          outcome.kind === "missed"
            ? `missed its on-chain audit: ${formatAmount(outcome.collateral)} TAB of its collateral and ${formatAmount(outcome.refund)} TAB of unearned escrow came back to you`
            : "missed its on-chain audit and was slashed";
        const status = placement.status === "moved" ? "moved" : "bad";
        await savePlacement(db, { ...placement, status, reason, deal: { ...deal, ended: "Slashed" } });
        for (const [i, check] of result.entries()) {
          if (check.shard === placement.shard && check.host === placement.host)
            result[i] = { ...check, status, reason };
        }
      } else if (outcome.kind === "ended") {
        await savePlacement(db, { ...placement, deal: { ...deal, ended: outcome.status } });
      } else if (outcome.kind === "skipped" && outcome.retired) {
        retire.push(placement);
      }
    }
    if (retire.length > 0) {
      const ended = await endFileDeals(
        { reader: paid.reader, payer: sender, owner: payer.account.address },
        { placements: retire },
      );
      if (ended.hash) note("end", ended.hash, ended.ended);
      const endedIds = new Set(ended.ended);
      for (const p of retire) {
        const deal = p.deal as PlacementDeal;
        if (endedIds.has(deal.id)) await savePlacement(db, { ...p, deal: { ...deal, ended: "Ended" } });
      }
    }
    return result;
  }

  /** Rebuilds and re-places the shards a check found lost. */
  async repair(cid: string, options: ActionOptions = {}): Promise<boolean> {
    return await this.#repair(cid, options).then(
      () => true,
      () => false,
    );
  }

  async #repair(cid: string, op: OperationOptions): Promise<void> {
    await this.#operate("repair", cid, op, async (activity) => {
      const db = await this.#parts.db();
      const bytes = await db.getManifest(cid);
      // Rebuilding reads k shards from the hosts, wasted if the lost ones cannot be placed: fail before. The
      // automatic repair also leaves out hosts that failed lately, such as the ones the check just found gone,
      // whose announcements may not have expired yet.
      if (bytes) {
        const manifest = await decodeManifest(bytes, asCid(cid));
        const targets = placementTargets(manifest, await placementsOf(db, cid), this.#parts.hosts.list(), {
          self: this.#parts.self,
          skipFailed: op.auto ?? false,
        });
        assertEnoughHosts(targets);
      }
      return await repairFile(
        {
          ...this.#network(),
          codec: this.#parts.codec(),
          store: db,
          placements: db,
          fetchBlock: this.#parts.fetchBlock,
          hostsChanged: this.#hostsChanged,
        },
        cid,
        {
          ...(op.signal ? { signal: op.signal } : {}),
          ...(await this.#paidPlacer(db, cid, activity)),
          onProgress: (repair) => {
            activity.repair = repair;
            if (repair.upload) activity.upload = repair.upload;
            if (repair.fetch) activity.fetch = repair.fetch;
            this.#log.progressed();
          },
        },
      );
    });
  }

  /**
   * How a repair places a paid file's rebuilt shards: under new deals with staked hosts, paid by the owner's wallet
   * without a new confirmation (the owner chose to pay for this file). Nothing for a file stored for free.
   */
  async #paidPlacer(db: FilesDB, cid: string, activity: Activity): Promise<{ place?: PlaceShards }> {
    const paid = this.#parts.paid;
    if (!paid || !(await placementsOf(db, cid)).some((p) => p.deal)) return {};
    return {
      place: async (_shards, placements, { signal, onProgress }) => {
        const manifest = await this.#manifestOf(db, cid);
        const payer = requirePayer(await paid.payer());
        const parts = { ...paid, self: this.#parts.self, hosts: this.#parts.hosts };
        const quote = await quoteFile(parts, {
          manifest,
          manifestCid: cid,
          placements,
          payer,
          ...(signal ? { signal } : {}),
        });
        const { placed } = await placePaid({ ...this.#network(), ...paid, store: db, placements: db }, cid, {
          manifest,
          quote,
          payer,
          ...(signal ? { signal } : {}),
          onProgress,
          onTransaction: (tx) => {
            activity.deals = [...(activity.deals ?? []), tx];
            this.#log.progressed();
          },
        });
        return placed;
      },
    };
  }

  /** Checks the file's hosts, then repairs what was lost. */
  async checkAndRepair(cid: string, options: ActionOptions = {}): Promise<void> {
    const checks = await this.check(cid, options);
    if (checks && lostShardsOf(checks, this.#shardCount(cid)).length > 0) await this.repair(cid, options);
  }

  /** k + m of a file of mine, as the last refresh read it (0 when unknown). */
  #shardCount(cid: string): number {
    return this.#files.find((view) => view.cid === cid)?.shards.length ?? 0;
  }

  /** Deletes the file's pieces from this browser once every shard has a live holder; the hosts keep them. */
  async removeLocalCopy(cid: string, options: ActionOptions = {}): Promise<void> {
    await this.#track("upload", cid, options, async () => {
      await dropLocal(await this.#parts.db(), cid);
    });
  }

  // ---- reading from the network ----

  /**
   * A store for the files page over one file: this browser's blocks first, the rest from the hosts (my
   * placements when the file is mine, else the hosts of its deals on the chain and whoever announces and holds
   * it). Its progress shows as a download.
   */
  remote(local: Required<BlockReader>, cid: string): RemoteFileStore {
    let activity: Activity | undefined;
    const network = new NetworkStore(
      {
        ...this.#network(),
        local: {
          getBlocks: (cids) => local.getBlocks(cids),
          getBlockBytes: (cids) => local.getBlockBytes(cids),
          getManifest: async (c) => (await local.getManifest(c)) ?? this.#manifests.get(c),
        },
        holders: withChainHolders(async (manifest) => {
          const placements = await placementsOf(await this.#parts.db(), manifest);
          const n = placements.reduce((max, p) => Math.max(max, p.shard + 1), 0);
          return liveHolders(placements, n);
        }, this.#parts.chain),
        fetchBlock: this.#parts.fetchBlock,
        hostsChanged: this.#hostsChanged,
        onBadHost: (host, shard) => void this.#markBad(cid, host, shard),
      },
      cid,
      {
        onProgress: (fetch) => {
          activity ??= this.#log.begin("download", cid);
          activity.fetch = fetch;
          this.#log.progressed();
        },
      },
    );
    return {
      getBlocks: (cids) => network.getBlocks(cids),
      getBlockBytes: (cids) => network.getBlockBytes(cids),
      getManifest: async (c) => {
        const bytes = await network.getManifest(c);
        if (bytes && c === cid) this.#manifests.set(c, bytes);
        return bytes;
      },
      close: () => {
        network.close();
        if (activity) this.#log.end(activity);
      },
    };
  }

  /** A host of mine served a piece that does not match its CID: its placement is bad from now on. */
  async #markBad(cid: string, host: string, shard: number | undefined): Promise<void> {
    const db = await this.#parts.db();
    for (const p of await placementsOf(db, cid)) {
      if (p.host === host && (shard === undefined || p.shard === shard) && p.status === "live") {
        await savePlacement(db, { ...p, status: "bad", reason: "served a piece that does not match its CID" });
      }
    }
  }
}

/** Deletes a file's pieces from this browser, unless some shard has no live holder. */
async function dropLocal(db: FilesDB, cid: string): Promise<void> {
  const bytes = await db.getManifest(cid);
  if (!bytes) return;
  const manifest = await decodeManifest(bytes, asCid(cid));
  if (unplacedShards(await placementsOf(db, cid), manifest.k + manifest.m).length > 0) throw new LocalCopyNeededError();
  await db.deleteBlocks(manifest.shards.flatMap((s) => s.pieces.map((p) => p.toString())));
}
