/**
 * My files on the network as the UI reads them: a reactive mirror of core/network/network-files.ts (placements,
 * activities, known hosts, busy files, the automatic checks' schedule) whose actions and settings delegate to it.
 */

import type { DealVerification } from "../core/deals/verify-deal.ts";
import type { RemoteFileStore } from "../core/files/my-files.ts";
import type { Activity, ActivityError } from "../core/network/activities.ts";
import type { ShardCheck } from "../core/network/check-file.ts";
import type { KnownHost } from "../core/network/known-hosts.ts";
import type {
  DueRenewal,
  MaintenanceView,
  NetworkFiles,
  NetworkFileView,
  PendingQuote,
  ShardView,
} from "../core/network/network-files.ts";
import type { Placement } from "../core/network/placements.ts";
import type { BlockReader } from "../lib/blocks.ts";

export type {
  Activity,
  ActivityError,
  DealVerification,
  DueRenewal,
  KnownHost,
  MaintenanceView,
  NetworkFileView,
  PendingQuote,
  ShardView,
};

export class NetworkFilesState {
  readonly #service: NetworkFiles;

  #files = $state.raw<NetworkFileView[]>([]);
  #activities = $state.raw<Activity[]>([]);
  #hosts = $state.raw<KnownHost[]>([]);
  #busy = $state.raw<ReadonlySet<string>>(new Set());
  #plan = $state.raw<ReadonlyMap<string, MaintenanceView>>(new Map());
  #autoRepair = $state(true);
  #autoUpload = $state(true);
  #keepLocalCopy = $state(true);
  #paidStorage = $state(false);
  #quotes = $state.raw<ReadonlyMap<string, PendingQuote>>(new Map());
  #renewals = $state.raw<ReadonlyMap<string, DueRenewal>>(new Map());
  #auditBudget = $state.raw<{ left: bigint; bond: bigint } | undefined>();

  constructor(service: NetworkFiles) {
    this.#service = service;
    service.addEventListener("change", () => this.#read());
    this.#read();
  }

  #read(): void {
    const service = this.#service;
    this.#files = service.files;
    this.#activities = service.activities;
    this.#hosts = service.hosts;
    this.#busy = service.busy;
    this.#plan = service.maintenance;
    this.#autoRepair = service.autoRepair;
    this.#autoUpload = service.autoUpload;
    this.#keepLocalCopy = service.keepLocalCopy;
    this.#paidStorage = service.paidStorage;
    this.#quotes = new Map(service.quotes);
    this.#renewals = new Map(service.renewals);
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
    return this.#service.checkIntervalMs;
  }
  /** Check every file's hosts on a schedule and repair lost shards at once; off pauses it (and stops what runs). */
  get autoRepair(): boolean {
    return this.#autoRepair;
  }
  set autoRepair(on: boolean) {
    this.#service.autoRepair = on;
  }
  /** Place a file's shards on hosts as soon as it is stored. */
  get autoUpload(): boolean {
    return this.#autoUpload;
  }
  set autoUpload(on: boolean) {
    this.#service.autoUpload = on;
  }
  /** Keep the pieces in this browser after every shard is placed. */
  get keepLocalCopy(): boolean {
    return this.#keepLocalCopy;
  }
  set keepLocalCopy(on: boolean) {
    this.#service.keepLocalCopy = on;
  }

  /** Whether this tab can pay for storage (a chain with the market is configured). */
  get paidAvailable(): boolean {
    return this.#service.paidAvailable;
  }
  /** Place files under paid deals with staked hosts, each upload quoted and confirmed first. */
  get paidStorage(): boolean {
    return this.#paidStorage;
  }
  set paidStorage(on: boolean) {
    this.#service.paidStorage = on;
  }
  /** Paid uploads waiting for confirmation, by manifest CID. */
  get quotes(): ReadonlyMap<string, PendingQuote> {
    return this.#quotes;
  }
  /** Pays and places the file as quoted. */
  confirmQuote(cid: string): Promise<Placement[] | undefined> {
    return this.#service.confirmQuote(cid).finally(() => void this.readAuditBudget());
  }
  /** What the market may still take for challenge bonds, and one bond; read by {@link readAuditBudget}. */
  get auditBudget(): { left: bigint; bond: bigint } | undefined {
    return this.#auditBudget;
  }
  /** Reads the audit budget from the chain. */
  async readAuditBudget(): Promise<void> {
    this.#auditBudget = await this.#service.auditBudget().catch(() => undefined);
  }
  /** Sets the audit budget (one transaction), then reads it back. */
  async setAuditBudget(value: bigint): Promise<void> {
    await this.#service.setAuditBudget(value);
    await this.readAuditBudget();
  }
  /** Ends every running deal of the file early: hosts paid up to now, the rest refunded. */
  endDeals(cid: string): Promise<void> {
    return this.#service.endDeals(cid).catch(() => undefined);
  }
  /** Paid files whose deals near their end, by manifest CID. */
  get renewals(): ReadonlyMap<string, DueRenewal> {
    return this.#renewals;
  }
  /** Quotes renewing the file's deals that near their end, on the hosts that hold its shards. */
  quoteRenewal(cid: string): Promise<void> {
    return this.#service.quoteRenewal(cid);
  }
  /** Drops a quote without paying. */
  dismissQuote(cid: string): void {
    this.#service.dismissQuote(cid);
  }
  /** Checks a deal of one of the file's shards against the chain. */
  verifyDeal(cid: string, shard: number, dealId: bigint, sigma?: Uint8Array): Promise<DealVerification> {
    return this.#service.verifyDeal(cid, shard, dealId, sigma);
  }

  /** Reads my files' placements and which shards are still in this browser. */
  refresh(): Promise<void> {
    return this.#service.refresh();
  }
  /** Places the shards that have no live holder on hosts, with progress per host. */
  upload(cid: string): Promise<Placement[] | undefined> {
    return this.#service.upload(cid);
  }
  /** Audits every host holding a shard of the file. */
  check(cid: string): Promise<ShardCheck[] | undefined> {
    return this.#service.check(cid);
  }
  /** Rebuilds and re-places the shards a check found lost. */
  repair(cid: string): Promise<boolean> {
    return this.#service.repair(cid);
  }
  /** Checks the file's hosts, then repairs what was lost. */
  checkAndRepair(cid: string): Promise<void> {
    return this.#service.checkAndRepair(cid);
  }
  /** Called once a file is stored in this browser: places it on hosts when automatic upload is on. */
  onStored(cid: string): void {
    this.#service.onStored(cid);
  }
  /** A store over one file: this browser's blocks first, the rest from the hosts; its progress shows as a download. */
  remote(local: Required<BlockReader>, cid: string): RemoteFileStore {
    return this.#service.remote(local, cid);
  }
  /** Deletes the file's pieces from this browser once every shard has a live holder; the hosts keep them. */
  removeLocalCopy(cid: string): Promise<void> {
    return this.#service.removeLocalCopy(cid);
  }
}
