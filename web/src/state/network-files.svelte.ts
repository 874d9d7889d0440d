/**
 * My files on the network, as the UI sees them: where each shard is placed and what the last check found, the
 * uploads, downloads, checks and repairs under way with their progress per host, and the hosts this tab knows.
 * It also gives the files page its network side: a store that fetches what this browser lacks from the hosts,
 * and the upload that follows storing a file; and it keeps the files healthy on its own, checking their hosts on
 * a schedule and repairing what was lost (core/network/maintenance.ts).
 */

import { CID } from "multiformats/cid";
import { WorkerPool } from "../../workers/pool.ts";
import { checkFile, type ShardCheck } from "../core/network/check-file.ts";
import { type FetchProgress, NetworkStore } from "../core/network/download/index.ts";
import { NotEnoughHostsError } from "../core/network/errors.ts";
import {
  DEFAULT_CHECK_INTERVAL_MS,
  type FileSchedule,
  lostShardsOf,
  type MaintainedFile,
  Maintenance,
} from "../core/network/maintenance.ts";
import type { NetworkParts } from "../core/network/parts.ts";
import { hostsOfFile, liveHolders, type Placement, placementsOf, savePlacement } from "../core/network/placements.ts";
import { type RepairProgress, repairFile } from "../core/network/repair-file.ts";
import { rankHosts } from "../core/network/select-hosts.ts";
import { type UploadProgress, uploadFile } from "../core/network/upload-file.ts";
import { concatBytes } from "../lib/bytes.ts";
import { BaseError, userMessage } from "../lib/errors.ts";
import { decodeManifest, type Manifest } from "../lib/manifest.ts";
import type { KnownHost, KnownHosts } from "../p2p/hosting/hosts.ts";
import type { TabulaNode } from "../p2p/node.ts";
import { FilesDB } from "../storage/files-db.ts";
import type { RemoteFileStore } from "./files.svelte.ts";

export interface ShardView {
  shard: number;
  holders: { host: string; status: Placement["status"]; reason?: string; placedAtMs: number; checkedAtMs?: number }[];
  /** Every piece of the shard is in this browser. */
  local: boolean;
}

export interface NetworkFileView {
  cid: string;
  k: number;
  m: number;
  shards: ShardView[];
  /** Shards with at least one live holder. */
  liveShards: number;
  localShards: number;
  /** The last time any of its hosts was checked. */
  lastCheckedAtMs?: number;
}

/** Where a file stands in the automatic checks. */
export interface MaintenanceView {
  /** When the next automatic check is due. */
  nextAtMs: number;
  running?: FileSchedule["running"];
  outcome?: FileSchedule["outcome"];
  lostShards?: number[];
  error?: ActivityError;
}

export interface ActivityError {
  name: string;
  message: string;
}

export interface Activity {
  id: number;
  kind: "upload" | "download" | "check" | "repair";
  cid: string;
  startedAtMs: number;
  endedAtMs?: number;
  upload?: UploadProgress;
  fetch?: FetchProgress;
  repair?: RepairProgress;
  checks?: ShardCheck[];
  error?: ActivityError;
  /** Started by the automatic checks, not by the user. */
  auto?: boolean;
}

export interface NetworkFilesOptions {
  /** Time between two automatic checks of each file (config.json `network.checkIntervalSeconds`). */
  checkIntervalMs?: number;
}

/** How an operation was started: by the automatic checks (abortable when they pause) or by the user. */
interface OperationOptions {
  auto?: boolean;
  signal?: AbortSignal;
}

/** Progress is shown at most this often. */
const REPORT_INTERVAL_MS = 100;
/** Activities kept in the list once finished. */
const KEEP_FINISHED = 8;
/** Web Lock name of the operations on one file, across this browser's tabs. */
const FILE_LOCK_PREFIX = "tabula-file-op:";
/** Automatic activities kept once finished (the latest check and repair of each file, at most this many). */
const KEEP_FINISHED_AUTO = 4;

function errorView(error: unknown): ActivityError {
  if (error instanceof DOMException && error.name === "AbortError")
    return { name: "AbortError", message: "Cancelled." };
  return { name: error instanceof BaseError ? error.name : "Error", message: userMessage(error) };
}

export class NetworkFilesState {
  readonly #node: TabulaNode;
  readonly #hostsBook: KnownHosts;
  #db: Promise<FilesDB> | undefined;
  #pool: WorkerPool | undefined;
  #nextId = 1;
  readonly #live = new Map<number, Activity>();
  readonly #manifests = new Map<string, Uint8Array>();
  #flush: ReturnType<typeof setTimeout> | undefined;
  /** One operation (check, repair, upload) per file at a time: the tail of each file's queue. */
  readonly #locks = new Map<string, Promise<void>>();
  readonly #maintenance: Maintenance;

  #files = $state.raw<NetworkFileView[]>([]);
  #activities = $state.raw<Activity[]>([]);
  #hosts = $state.raw<KnownHost[]>([]);
  #busy = $state.raw<ReadonlySet<string>>(new Set());
  #plan = $state.raw<ReadonlyMap<string, MaintenanceView>>(new Map());
  #autoRepair = $state(true);
  /** Place a file's shards on hosts as soon as it is stored. */
  autoUpload = $state(true);
  /** Keep the pieces in this browser after every shard is placed. */
  keepLocalCopy = $state(true);

  constructor(node: TabulaNode, hosts: KnownHosts, options: NetworkFilesOptions = {}) {
    this.#node = node;
    this.#hostsBook = hosts;
    const update = () => {
      this.#hosts = hosts.list();
    };
    hosts.addEventListener("change", update);
    update();
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
          return this.#maintained(this.#files);
        },
      },
      {
        intervalMs: options.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS,
        onChange: (schedule) => {
          this.#plan = new Map(
            schedule.map((f) => [
              f.cid,
              {
                nextAtMs: f.nextAtMs,
                ...(f.running ? { running: f.running } : {}),
                ...(f.outcome ? { outcome: f.outcome } : {}),
                ...(f.lostShards ? { lostShards: f.lostShards } : {}),
                ...(f.error === undefined ? {} : { error: errorView(f.error) }),
              },
            ]),
          );
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
    return this.#activities;
  }
  get hosts(): KnownHost[] {
    return this.#hosts;
  }
  /** Files with an operation under way (or waiting for one to end). */
  get busy(): ReadonlySet<string> {
    return this.#busy;
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
    return this.#autoRepair;
  }
  set autoRepair(on: boolean) {
    this.#autoRepair = on;
    if (on) this.#maintenance.start();
    else this.#maintenance.stop();
  }

  #parts(): NetworkParts {
    const node = this.#node;
    const services = node.libp2p.services;
    return {
      self: node.peerId,
      dial: (peer, signal, options) =>
        node.dialDirect(peer, {
          ...(signal ? { signal } : {}),
          ...(options?.fresh ? { fresh: true } : {}),
          addrs: this.#hostsBook.get(peer)?.addrs ?? [],
        }),
      shardStore: services.shardStore,
      shardFetch: services.shardFetch,
      audit: services.audit,
      hosts: this.#hostsBook,
    };
  }

  #files_db(): Promise<FilesDB> {
    this.#db ??= FilesDB.open();
    return this.#db;
  }

  /** Any peer's copy of a block, over bitswap (the owner's tab serves its manifests that way). */
  #fetchBlock = async (cid: CID, signal: AbortSignal): Promise<Uint8Array | undefined> => {
    const chunks: Uint8Array[] = [];
    for await (const chunk of this.#node.helia.blockstore.get(cid, { signal })) chunks.push(chunk);
    return chunks.length === 1 ? chunks[0] : concatBytes(...chunks);
  };

  #hostsChanged = (signal: AbortSignal): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        this.#hostsBook.removeEventListener("change", done);
        resolve();
      };
      this.#hostsBook.addEventListener("change", done);
      signal.addEventListener("abort", done, { once: true });
    });

  // ---- activities ----

  #begin(kind: Activity["kind"], cid: string, auto = false): Activity {
    const activity: Activity = { id: this.#nextId++, kind, cid, startedAtMs: Date.now(), ...(auto ? { auto } : {}) };
    // What the user starts on a file supersedes what the automatic checks last found about it.
    if (!auto && kind !== "download") {
      for (const [id, a] of this.#live) if (a.auto && a.cid === cid && a.endedAtMs) this.#live.delete(id);
    }
    this.#live.set(activity.id, activity);
    // At once, so that what it superseded never shows beside it.
    this.#publish();
    return activity;
  }

  #end(activity: Activity, error?: unknown): void {
    activity.endedAtMs = Date.now();
    if (error !== undefined) {
      activity.error = errorView(error);
      if (activity.error.name !== "AbortError") console.error(error);
    }
    this.#publish();
  }

  #schedule(): void {
    this.#flush ??= setTimeout(() => {
      this.#flush = undefined;
      this.#publish();
    }, REPORT_INTERVAL_MS);
  }

  #publish(): void {
    const all = [...this.#live.values()].map((a) => ({ ...a }));
    const running = all.filter((a) => !a.endedAtMs);
    const finished = all.filter((a) => a.endedAtMs).sort((a, b) => (b.endedAtMs ?? 0) - (a.endedAtMs ?? 0));
    const manual = finished.filter((a) => !a.auto);
    const seen = new Set<string>();
    const auto = finished
      .filter((a) => a.auto)
      .filter((a) => {
        const key = `${a.kind} ${a.cid}`;
        if (seen.has(key)) return false;
        seen.add(key);
        return true;
      })
      .slice(0, KEEP_FINISHED_AUTO);
    const kept = new Set([...manual.slice(0, KEEP_FINISHED), ...auto]);
    for (const old of finished) if (!kept.has(old)) this.#live.delete(old.id);
    this.#activities = [...running, ...finished.filter((a) => kept.has(a))];
  }

  /**
   * Runs `run` once no other operation on the file is under way, in this tab or (through a Web Lock) in another tab
   * of this browser, which shares the files database; the file counts as busy here until it ends.
   */
  async #exclusive<T>(cid: string, run: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const before = this.#locks.get(cid) ?? Promise.resolve();
    let release = () => {};
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = before.then(() => mine);
    this.#locks.set(cid, tail);
    this.#busy = new Set(this.#locks.keys());
    try {
      await before;
      const locks = globalThis.navigator?.locks;
      if (!locks) return await run();
      return await locks.request(`${FILE_LOCK_PREFIX}${cid}`, signal ? { signal } : {}, () => run());
    } finally {
      release();
      if (this.#locks.get(cid) === tail) this.#locks.delete(cid);
      this.#busy = new Set(this.#locks.keys());
    }
  }

  /** An operation on one file, shown as an activity; rejects with its error. */
  async #operate<T>(
    kind: Activity["kind"],
    cid: string,
    op: OperationOptions,
    run: (activity: Activity) => Promise<T>,
  ): Promise<T> {
    return await this.#exclusive(
      cid,
      async () => {
        op.signal?.throwIfAborted();
        const activity = this.#begin(kind, cid, op.auto);
        try {
          const result = await run(activity);
          this.#end(activity);
          return result;
        } catch (error) {
          this.#end(activity, error);
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
    run: (activity: Activity) => Promise<T>,
  ): Promise<T | undefined> {
    return await this.#operate(kind, cid, {}, run).catch(() => undefined);
  }

  // ---- my files ----

  /** Reads my files' placements and which shards are still in this browser. */
  async refresh(): Promise<void> {
    const db = await this.#files_db();
    const views: NetworkFileView[] = [];
    for (const record of await db.listFiles()) {
      const bytes = await db.getManifest(record.cid);
      if (!bytes) continue;
      const manifest = await decodeManifest(bytes, CID.parse(record.cid)).catch(() => undefined);
      if (!manifest) continue;
      const placements = await placementsOf(db, record.cid);
      const shards: ShardView[] = [];
      for (const [shard, entry] of manifest.shards.entries()) {
        const blobs = await db.getBlocks(entry.pieces.map((p) => p.toString()));
        shards.push({
          shard,
          local: blobs.every((b) => b !== undefined),
          holders: placements
            .filter((p) => p.shard === shard)
            .map((p) => ({
              host: p.host,
              status: p.status,
              placedAtMs: p.placedAtMs,
              ...(p.reason ? { reason: p.reason } : {}),
              ...(p.checkedAtMs ? { checkedAtMs: p.checkedAtMs } : {}),
            })),
        });
      }
      const checkedAtMs = placements.flatMap((p) => (p.checkedAtMs ? [p.checkedAtMs] : []));
      views.push({
        cid: record.cid,
        k: manifest.k,
        m: manifest.m,
        shards,
        liveShards: shards.filter((s) => s.holders.some((h) => h.status === "live")).length,
        localShards: shards.filter((s) => s.local).length,
        ...(checkedAtMs.length > 0 ? { lastCheckedAtMs: Math.max(...checkedAtMs) } : {}),
      });
    }
    this.#files = views;
    this.#maintenance.setFiles(this.#maintained(views));
  }

  /** The files the automatic checks look after: those with shards on hosts, with when that was last confirmed. */
  #maintained(views: readonly NetworkFileView[]): MaintainedFile[] {
    return views.flatMap((view) => {
      const times = view.shards.flatMap((s) =>
        s.holders.flatMap((h) => (h.status === "moved" ? [] : [h.checkedAtMs ?? h.placedAtMs])),
      );
      return times.length === 0 ? [] : [{ cid: view.cid, lastCheckedAtMs: Math.max(...times) }];
    });
  }

  /** Called once a file is stored in this browser: places it on hosts when automatic upload is on. */
  onStored(cid: string): void {
    void this.refresh();
    if (this.autoUpload) void this.upload(cid);
  }

  /** Places the shards that have no live holder on hosts, with progress per host. */
  async upload(cid: string): Promise<Placement[] | undefined> {
    return await this.#track("upload", cid, async (activity) => {
      const db = await this.#files_db();
      const manifestBytes = await db.getManifest(cid);
      if (!manifestBytes) throw new Error(`the manifest of ${cid} is not in this browser`);
      const manifest = await decodeManifest(manifestBytes, CID.parse(cid));
      // Hosts fetch the manifest from this tab over bitswap, so that they can give it to a share link's holder.
      await this.#node.helia.blockstore.put(CID.parse(cid), manifestBytes);
      const placements = await placementsOf(db, cid);
      const holders = liveHolders(placements, manifest.k + manifest.m);
      const shards = holders.flatMap((h, shard) => (h.length === 0 ? [shard] : []));
      if (shards.length === 0) return [];
      const placed = await uploadFile({ ...this.#parts(), store: db, placements: db }, cid, {
        shards,
        exclude: hostsOfFile(placements),
        extraHosts: 1,
        onProgress: (upload) => {
          activity.upload = upload;
          this.#schedule();
        },
      });
      if (!this.keepLocalCopy) await this.#dropLocal(db, cid);
      return placed;
    });
  }

  /** Audits every host holding a shard of the file. */
  async check(cid: string): Promise<ShardCheck[] | undefined> {
    return await this.#check(cid, {}).catch(() => undefined);
  }

  async #check(cid: string, op: OperationOptions): Promise<ShardCheck[]> {
    return await this.#operate("check", cid, op, async (activity) => {
      const db = await this.#files_db();
      activity.checks = [];
      return await checkFile({ ...this.#parts(), store: db, placements: db }, cid, {
        ...(op.signal ? { signal: op.signal } : {}),
        onCheck: (check) => {
          activity.checks = [...(activity.checks ?? []), check];
          this.#schedule();
        },
      });
    });
  }

  /** Rebuilds and re-places the shards a check found lost. */
  async repair(cid: string): Promise<boolean> {
    return await this.#repair(cid, {}).then(
      () => true,
      () => false,
    );
  }

  async #repair(cid: string, op: OperationOptions): Promise<void> {
    await this.#operate("repair", cid, op, async (activity) => {
      const db = await this.#files_db();
      const bytes = await db.getManifest(cid);
      if (bytes)
        this.#assertHostsForRepair(await decodeManifest(bytes, CID.parse(cid)), await placementsOf(db, cid), op);
      this.#pool ??= new WorkerPool({ size: 2 });
      return await repairFile(
        {
          ...this.#parts(),
          codec: this.#pool,
          store: db,
          placements: db,
          fetchBlock: this.#fetchBlock,
          hostsChanged: this.#hostsChanged,
        },
        cid,
        {
          ...(op.signal ? { signal: op.signal } : {}),
          onProgress: (repair) => {
            activity.repair = repair;
            if (repair.upload) activity.upload = repair.upload;
            if (repair.fetch) activity.fetch = repair.fetch;
            this.#schedule();
          },
        },
      );
    });
  }

  /**
   * Fails before any shard is rebuilt when too few hosts could take the lost shards (rebuilding reads k shards from
   * the hosts, wasted if they cannot be placed). The automatic repair also leaves out hosts that failed lately,
   * such as the ones the check just found gone, whose announcements may not have expired yet.
   */
  #assertHostsForRepair(manifest: Manifest, placements: readonly Placement[], op: OperationOptions): void {
    const holders = liveHolders(placements, manifest.k + manifest.m);
    const lost = holders.flatMap((h, shard) => (h.length === 0 ? [shard] : []));
    if (lost.length === 0) return;
    const exclude = new Set([this.#node.peerId, ...holders.flat()]);
    for (const p of placements) if (p.status === "bad") exclude.add(p.host);
    const candidates = rankHosts(this.#hostsBook.list(), {
      minFreeBytes: Math.max(...lost.map((shard) => manifest.shards[shard]?.size ?? 0)),
      exclude,
    }).filter((host) => !op.auto || !host.failure);
    if (candidates.length < lost.length) throw new NotEnoughHostsError(lost.length, candidates.length);
  }

  /** Checks the file's hosts, then repairs what was lost. */
  async checkAndRepair(cid: string): Promise<void> {
    const checks = await this.check(cid);
    if (checks && lostShardsOf(checks, this.#shardCount(cid)).length > 0) await this.repair(cid);
  }

  /** k + m of a file of mine, as the last refresh read it (0 when unknown). */
  #shardCount(cid: string): number {
    return this.#files.find((view) => view.cid === cid)?.shards.length ?? 0;
  }

  /** Deletes the file's pieces from this browser once every shard has a live holder; the hosts keep them. */
  async removeLocalCopy(cid: string): Promise<void> {
    await this.#track("upload", cid, async () => {
      await this.#dropLocal(await this.#files_db(), cid);
    });
  }

  async #dropLocal(db: FilesDB, cid: string): Promise<void> {
    const bytes = await db.getManifest(cid);
    if (!bytes) return;
    const manifest = await decodeManifest(bytes, CID.parse(cid));
    const holders = liveHolders(await placementsOf(db, cid), manifest.k + manifest.m);
    if (holders.some((h) => h.length === 0)) {
      throw new BaseError("Some shards of this file have no live host, so its local copy is kept.", {
        details: "Check the hosts and repair the file first.",
      });
    }
    await db.deleteBlocks(manifest.shards.flatMap((s) => s.pieces.map((p) => p.toString())));
  }

  // ---- reading from the network ----

  /**
   * A store for the files page over one file: this browser's blocks first, the rest from the hosts (my
   * placements when the file is mine, else whoever announces and holds it). Its progress shows as a download.
   */
  remote(local: FilesDB, cid: string): RemoteFileStore {
    let activity: Activity | undefined;
    const placementsDb = this.#files_db();
    const network = new NetworkStore(
      {
        ...this.#parts(),
        local: {
          getBlocks: (cids) => local.getBlocks(cids),
          getBlockBytes: (cids) => local.getBlockBytes(cids),
          getManifest: async (c) => (await local.getManifest(c)) ?? this.#manifests.get(c),
        },
        holders: async (manifest) => {
          const db = await placementsDb;
          const placements = await placementsOf(db, manifest);
          const n = placements.reduce((max, p) => Math.max(max, p.shard + 1), 0);
          return liveHolders(placements, n);
        },
        fetchBlock: this.#fetchBlock,
        hostsChanged: this.#hostsChanged,
        onBadHost: (host, shard) => void this.#markBad(cid, host, shard),
      },
      cid,
      {
        onProgress: (fetch) => {
          activity ??= this.#begin("download", cid);
          activity.fetch = fetch;
          this.#schedule();
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
        if (activity) this.#end(activity);
      },
    };
  }

  /** A host of mine served a piece that does not match its CID: its placement is bad from now on. */
  async #markBad(cid: string, host: string, shard: number | undefined): Promise<void> {
    const db = await this.#files_db();
    for (const p of await placementsOf(db, cid)) {
      if (p.host === host && (shard === undefined || p.shard === shard) && p.status === "live") {
        await savePlacement(db, { ...p, status: "bad", reason: "served a piece that does not match its CID" });
      }
    }
  }
}
