import { asCid } from "../../lib/cid.ts";
import { decodeManifest } from "../../lib/manifest.ts";
import type { FilesDB } from "../../storage/files-db.ts";
import { type ActivityError, errorView } from "./activities.ts";
import type { FileSchedule, MaintainedFile } from "./maintenance.ts";
import { type Placement, placementsOf } from "./placements.ts";

export interface ShardView {
  shard: number;
  holders: {
    host: string;
    status: Placement["status"];
    reason?: string;
    placedAtMs: number;
    checkedAtMs?: number;
    /** The storage deal that pays this host, for a paid placement. */
    deal?: Placement["deal"];
  }[];
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

/** A file of mine as the UI shows it: its shards, their holders, and which are still in this browser. */
export async function fileView(db: FilesDB, cid: string): Promise<NetworkFileView | undefined> {
  const bytes = await db.getManifest(cid);
  if (!bytes) return undefined;
  const manifest = await decodeManifest(bytes, asCid(cid)).catch(() => undefined);
  if (!manifest) return undefined;
  const placements = await placementsOf(db, cid);
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
          ...(p.deal ? { deal: p.deal } : {}),
        })),
    });
  }
  const checkedAtMs = placements.flatMap((p) => (p.checkedAtMs ? [p.checkedAtMs] : []));
  return {
    cid,
    k: manifest.k,
    m: manifest.m,
    shards,
    liveShards: shards.filter((s) => s.holders.some((h) => h.status === "live")).length,
    localShards: shards.filter((s) => s.local).length,
    ...(checkedAtMs.length > 0 ? { lastCheckedAtMs: Math.max(...checkedAtMs) } : {}),
  };
}

/** The files the automatic checks look after: those with shards on hosts, with when that was last confirmed. */
export function maintained(views: readonly NetworkFileView[]): MaintainedFile[] {
  return views.flatMap((view) => {
    const times = view.shards.flatMap((s) =>
      s.holders.flatMap((h) => (h.status === "moved" ? [] : [h.checkedAtMs ?? h.placedAtMs])),
    );
    return times.length === 0 ? [] : [{ cid: view.cid, lastCheckedAtMs: Math.max(...times) }];
  });
}

export function maintenanceView(f: FileSchedule): MaintenanceView {
  return {
    nextAtMs: f.nextAtMs,
    ...(f.running ? { running: f.running } : {}),
    ...(f.outcome ? { outcome: f.outcome } : {}),
    ...(f.lostShards ? { lostShards: f.lostShards } : {}),
    ...(f.error === undefined ? {} : { error: errorView(f.error) }),
  };
}
