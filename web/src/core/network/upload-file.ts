import type { CID } from "multiformats/cid";
import { CID as CIDClass } from "multiformats/cid";
import type { BlockReader } from "../../lib/blocks.ts";
import { BaseError } from "../../lib/errors.ts";
import type { ShardEntry } from "../../lib/manifest.ts";
import { ProgressThrottle } from "../../lib/progress.ts";
import { sleep } from "../../lib/signals.ts";
import { RemoteRefusedError } from "../../p2p/protocols/common/errors.ts";
import { loadManifest } from "../files/open-file.ts";
import { HostStalledError, NotEnoughHostsError, UploadIncompleteError } from "./errors.ts";
import { childController, errorText, type NetworkParts } from "./parts.ts";
import { assertEnoughHosts, placementTargets } from "./placement-targets.ts";
import { type Placement, type PlacementDeal, type PlacementStore, savePlacement } from "./placements.ts";
import type { SelectHostsOptions } from "./select-hosts.ts";

/** A host stops counting as alive for an upload after this long without an acknowledged piece. */
export const STALL_TIMEOUT_MS = 15_000;
/**
 * Tries of one shard (on other hosts, or the same one again) before it is given up. With the pauses between tries of
 * the same host, a host that cannot be reached is given about two minutes to come back.
 */
export const MAX_ATTEMPTS_PER_SHARD = 6;
/**
 * Pause before the same host is tried again, when no other host is left; it doubles at each new try of that host
 * (1, 2, 4, 8, 16 s), so a host that is briefly unreachable (a tab reloading, a link being set up) gets time to
 * come back.
 */
export const RETRY_PAUSE_MS = 1_000;
/** Refusals that a new connection to the same host would meet again: the host is not asked twice. */
const FINAL_REFUSALS: ReadonlySet<string> = new Set(["not-hosting", "no-space", "bad-deal"]);
/** Hosts whose latency is measured beyond the ones needed, so that replacements are ranked too. */
export const MEASURE_SPARE_HOSTS = 4;

/** One push of one shard to one host, as the UI shows it. */
export interface HostTransfer {
  shard: number;
  host: string;
  state: "connecting" | "sending" | "stored" | "failed" | "cancelled";
  bytes: number;
  totalBytes: number;
  /** Bytes that crossed the link, once stored (less than the shard where the host held pieces already). */
  sentBytes?: number;
  startedAtMs: number;
  endedAtMs?: number;
  error?: string;
  /** Started to race a slow host for the same shard; the first to finish wins. */
  race: boolean;
}

export interface UploadProgress {
  transfers: HostTransfer[];
  placedShards: number;
  totalShards: number;
}

export interface UploadFileParts extends NetworkParts {
  /** Where the shards' pieces and the manifest are read (this browser's files database). */
  store: BlockReader;
  placements: PlacementStore;
}

export interface UploadFileParameters {
  /**
   * The file's placements so far: by the placement rule (placement-targets.ts), the shards with no live holder are
   * placed, never on a host that holds, lost or corrupted a shard of the file. None by default (a new file).
   */
  placements?: readonly Placement[];
  /** Shards to place (default: those with no live holder, every shard of a new file). */
  shards?: readonly number[];
  /** Hosts not to use beyond the placement rule's. */
  exclude?: ReadonlySet<string>;
  /** Duplicate pushes started for the last shards still in flight; the first push of a shard to finish wins. */
  extraHosts?: number;
  stallTimeoutMs?: number;
  maxAttemptsPerShard?: number;
  /** First pause before the same host is tried again (default {@link RETRY_PAUSE_MS}). */
  retryPauseMs?: number;
  /** Stake and reputation hook for host selection. */
  score?: SelectHostsOptions["score"];
  /** The first host of some shards (chosen and quoted before the upload); the others are picked as usual. */
  assign?: ReadonlyMap<number, string>;
  /** Paid placement: every push is paid by a storage deal and the host answers with σ. */
  deals?: UploadDeals;
  signal?: AbortSignal;
  onProgress?: (progress: UploadProgress) => void;
}

/** How a paid upload ties each push to a storage deal. */
export interface UploadDeals {
  /**
   * The deal that pays for keeping `shard` on `host`, asked before each push of it there; a rejection fails that
   * host for the shard, as a refusal would.
   */
  dealFor(shard: number, host: string, signal: AbortSignal): Promise<PlacementDeal>;
  /** Checks σ the host returned for its deal; the push fails (and the shard moves on) when it throws. */
  checkSigma(deal: PlacementDeal, sigma: Uint8Array | null, signal: AbortSignal): Promise<void>;
}

/** Thrown by {@link UploadDeals.dealFor} or {@link UploadDeals.checkSigma}: the host is not asked for the shard again. */
export class DealRefusedError extends BaseError {
  override name = "DealRefusedError";
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(`No paid deal with this host: ${message}.`, {
      details: "The shard goes to another staked host.",
      ...(options.cause === undefined ? {} : { cause: options.cause }),
    });
  }
}

interface Job {
  shard: number;
  entry: ShardEntry;
  done: boolean;
  tried: number;
  /** Tries of the same host again, with no other host left. */
  retried: number;
  inFlight: Set<AbortController>;
  placement?: Placement;
  error?: unknown;
  finish: () => void;
}

/**
 * Places shards of a file stored in this browser on distinct hosts, in parallel: picks hosts among those announced
 * (enough room; nearest first, and the `score` hook), pushes each shard with the shard-store protocol, replaces a
 * host that fails or stalls, races the last shards on extra hosts when asked, and records each verified, signed
 * receipt as the shard's placement. Throws {@link UploadIncompleteError} when some shard found no host; the
 * placements made are kept.
 */
export async function uploadFile(
  parts: UploadFileParts,
  cid: CID | string,
  params: UploadFileParameters = {},
): Promise<Placement[]> {
  const manifestCid = typeof cid === "string" ? CIDClass.parse(cid) : cid;
  const manifest = await loadManifest(parts.store, manifestCid);
  const stallMs = params.stallTimeoutMs ?? STALL_TIMEOUT_MS;
  const maxAttempts = params.maxAttemptsPerShard ?? MAX_ATTEMPTS_PER_SHARD;
  const retryPauseMs = params.retryPauseMs ?? RETRY_PAUSE_MS;
  const signal = params.signal;
  const targets = () =>
    placementTargets(manifest, params.placements ?? [], parts.hosts.list(), {
      self: parts.self,
      ...(params.shards ? { shards: params.shards } : {}),
      ...(params.exclude ? { exclude: params.exclude } : {}),
      ...(params.score ? { score: params.score } : {}),
    });
  let plan = targets();
  const { shards, exclude } = plan;
  if (parts.hosts.measure && plan.hosts.length > 0) {
    await parts.hosts.measure(
      plan.hosts.slice(0, shards.length + MEASURE_SPARE_HOSTS).map((h) => h.peer),
      signal,
    );
    plan = targets();
  }
  assertEnoughHosts(plan);
  const ranked = plan.hosts;
  const pool = ranked.map((h) => h.peer);
  const used = new Set<string>(params.assign?.values() ?? []);
  const takeHost = (): string | undefined => {
    while (pool.length > 0) {
      const peer = pool.shift() as string;
      if (!used.has(peer) && !exclude.has(peer)) {
        used.add(peer);
        return peer;
      }
    }
    return undefined;
  };

  const transfers: HostTransfer[] = [];
  // Byte progress at most every 100 ms, a change of state at once: at one report per acknowledged piece per host,
  // the page spent more time redrawing than sending.
  const progress = new ProgressThrottle(() =>
    params.onProgress?.({
      transfers: transfers.map((t) => ({ ...t })),
      placedShards: jobs.filter((j) => j.placement).length,
      totalShards: shards.length,
    }),
  );
  const report = () => progress.now();

  const readPiece = async (entry: ShardEntry, index: number): Promise<Uint8Array> => {
    const cid = (entry.pieces[index] as CID).toString();
    const { getBlockBytes } = parts.store;
    const bytes = getBlockBytes
      ? (await getBlockBytes.call(parts.store, [cid]))[0]
      : await (await parts.store.getBlocks([cid]))[0]?.arrayBuffer().then((b) => new Uint8Array(b));
    if (!bytes) throw new Error(`piece ${index} of the shard is not in this browser`);
    return bytes;
  };

  const attempt = async (job: Job, host: string, race: boolean, fresh = false): Promise<void> => {
    const controller = childController(signal);
    job.inFlight.add(controller);
    job.tried += 1;
    const transfer: HostTransfer = {
      shard: job.shard,
      host,
      state: "connecting",
      bytes: 0,
      totalBytes: job.entry.size,
      startedAtMs: Date.now(),
      race,
    };
    transfers.push(transfer);
    report();
    let lastProgress = Date.now();
    // Waiting for a deal is the chain's time (and the wallet's), not the host's: it is not a stall.
    let dealing = params.deals !== undefined;
    const watchdog = setInterval(() => {
      if (dealing) lastProgress = Date.now();
      if (Date.now() - lastProgress > stallMs) controller.abort(new HostStalledError(host, stallMs));
    }, 1_000);
    try {
      const deal = await params.deals?.dealFor(job.shard, host, controller.signal);
      dealing = false;
      lastProgress = Date.now();
      const target = await parts.dial(host, controller.signal, { fresh });
      transfer.state = "sending";
      report();
      const result = await parts.shardStore.storeShard(
        target,
        {
          manifest: manifestCid,
          shardIndex: job.shard,
          root: job.entry.root,
          pieces: job.entry.pieces,
          sizes: pieceSizes(manifest, job.entry),
          readPiece: (index) => readPiece(job.entry, index),
          ...(deal ? { dealId: dealIdBytes(deal.id) } : {}),
        },
        {
          signal: controller.signal,
          onProgress: (p) => {
            lastProgress = Date.now();
            transfer.bytes = p.storedBytes;
            progress.soon();
          },
        },
      );
      if (deal) await params.deals?.checkSigma(deal, result.sigma, controller.signal);
      const placement: Placement = {
        manifest: manifestCid.toString(),
        shard: job.shard,
        host,
        receipt: result.receipt,
        signature: result.signature,
        status: "live",
        placedAtMs: Date.now(),
        ...(deal && result.sigma ? { deal: { ...deal, sigma: result.sigma } } : {}),
      };
      await savePlacement(parts.placements, placement);
      parts.hosts.reportSuccess(host);
      transfer.state = "stored";
      transfer.bytes = transfer.totalBytes;
      transfer.sentBytes = result.sentBytes;
      if (!job.done) {
        job.done = true;
        job.placement = placement;
        // The first push of this shard to finish wins; the others stop.
        for (const other of job.inFlight)
          if (other !== controller) other.abort(new DOMException("Another host won.", "AbortError"));
        job.finish();
      }
    } catch (error) {
      const cancelled = job.done || signal?.aborted;
      transfer.state = cancelled ? "cancelled" : "failed";
      if (!cancelled) {
        transfer.error = errorText(controller.signal.aborted ? controller.signal.reason : error);
        parts.hosts.reportFailure(host, transfer.error);
        job.error = error;
      }
    } finally {
      clearInterval(watchdog);
      transfer.endedAtMs = Date.now();
      job.inFlight.delete(controller);
      report();
    }
    if (job.done || signal?.aborted) {
      if (signal?.aborted && job.inFlight.size === 0) job.finish();
      return;
    }
    // This host failed: the shard goes to the next one, unless a racing push is still under way. With no host
    // left, the same one is tried again over a new connection (a dropped link is the usual cause), unless it
    // refused the shard outright.
    if (job.inFlight.size > 0) return;
    if (job.tried >= maxAttempts) return job.finish();
    const next = takeHost();
    if (next) {
      void attempt(job, next, false);
      return;
    }
    if (job.error instanceof RemoteRefusedError && FINAL_REFUSALS.has(job.error.code)) return job.finish();
    if (job.error instanceof DealRefusedError) return job.finish();
    const slept = await sleep(retryPauseMs * 2 ** job.retried, signal).then(
      () => true,
      () => false,
    );
    job.retried += 1;
    if (!slept) return job.finish();
    void attempt(job, host, false, true);
  };

  const jobs: Job[] = [];
  const finished = shards.map(
    (shard) =>
      new Promise<void>((resolve) => {
        jobs.push({
          shard,
          entry: manifest.shards[shard] as ShardEntry,
          done: false,
          tried: 0,
          retried: 0,
          inFlight: new Set(),
          finish: resolve,
        });
      }),
  );
  const extra = params.extraHosts ?? 0;
  const raceTail = () => {
    const open = jobs.filter((j) => !j.done && j.inFlight.size > 0);
    if (extra <= 0 || open.length > extra) return;
    for (const job of open) {
      if (job.inFlight.size > 1) continue;
      const host = takeHost();
      if (!host) return;
      void attempt(job, host, true);
    }
  };
  for (const job of jobs) {
    const assigned = params.assign?.get(job.shard);
    const host = assigned && !exclude.has(assigned) ? assigned : takeHost();
    if (host === undefined) {
      job.error = new NotEnoughHostsError(jobs.length, ranked.length);
      job.finish();
      continue;
    }
    void attempt(job, host, false);
  }
  await Promise.all(
    finished.map((p) =>
      p.then(() => {
        raceTail();
      }),
    ),
  );
  report();
  signal?.throwIfAborted();
  const placed = jobs.flatMap((j) => (j.placement ? [j.placement] : []));
  if (placed.length < jobs.length) {
    throw new UploadIncompleteError(placed.length, jobs.length, {
      cause: jobs.find((j) => !j.placement)?.error,
    });
  }
  return placed;
}

/** A deal id as the shard-store protocol carries it: 32 bytes, big-endian. */
export function dealIdBytes(id: bigint): Uint8Array {
  const bytes = new Uint8Array(32);
  let rest = id;
  for (let i = 31; i >= 0 && rest > 0n; i--) {
    bytes[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  return bytes;
}

/** Piece sizes of a shard: every piece has the manifest's piece size but the last, which may be shorter. */
export function pieceSizes(manifest: { pieceSize: number; segmentCount: number }, entry: ShardEntry): number[] {
  const last = entry.size - manifest.pieceSize * (manifest.segmentCount - 1);
  return entry.pieces.map((_, i) => (i === manifest.segmentCount - 1 ? last : manifest.pieceSize));
}
