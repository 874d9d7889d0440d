import type { CID } from "multiformats/cid";
import { CID as CIDClass } from "multiformats/cid";
import { TooFewShardsError } from "../../lib/file-errors.ts";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import type { BlockPut } from "../../storage/files-db.ts";
import { loadManifest } from "../files/open-file.ts";
import { repairShard } from "../files/repair-shard.ts";
import { type FetchProgress, NetworkStore, type NetworkStoreParts } from "./download/index.ts";
import { unplacedShards } from "./placement-targets.ts";
import { liveHolders, type Placement, placementsOf, savePlacement } from "./placements.ts";
import { type UploadFileParts, type UploadProgress, uploadFile } from "./upload-file.ts";

export interface RepairFileParts extends UploadFileParts, Pick<NetworkStoreParts, "fetchBlock" | "hostsChanged"> {
  codec: SegmentCodec;
  store: UploadFileParts["store"] & {
    putBlocks(blocks: readonly BlockPut[]): Promise<void>;
    deleteBlocks(cids: readonly string[]): Promise<void>;
  };
}

export interface RepairProgress {
  /** Shards with no live holder when the repair started. */
  lost: number[];
  /** The shard being rebuilt now, and how many of its segments are done. */
  rebuilding?: { shard: number; segments: number; repaired: number };
  fetch?: FetchProgress;
  upload?: UploadProgress;
}

/** Places rebuilt shards: a paid file's go under new deals; the free upload by default. */
export type PlaceShards = (
  shards: readonly number[],
  placements: readonly Placement[],
  options: { signal?: AbortSignal; onProgress: (upload: UploadProgress) => void },
) => Promise<Placement[]>;

export interface RepairFileParameters {
  place?: PlaceShards;
  signal?: AbortSignal;
  onProgress?: (progress: RepairProgress) => void;
}

export interface RepairFileResult {
  /** Shards that had no live holder. */
  lost: number[];
  /** Of those, the ones rebuilt from other shards (the others were still in this browser). */
  rebuilt: number[];
  placements: Placement[];
}

/**
 * Restores a file of mine to k + m live shards after a check (check-file.ts) found some lost: each lost shard is
 * taken from this browser when its pieces are still here, else rebuilt from any k live shards fetched from their
 * hosts (repairShard: ciphertext only, no key), then placed on new hosts that hold nothing of the file yet; the old
 * placements are marked moved. Rebuilt pieces are not kept here afterwards unless the file was kept locally.
 */
export async function repairFile(
  parts: RepairFileParts,
  cid: CID | string,
  params: RepairFileParameters = {},
): Promise<RepairFileResult> {
  const manifestCid = typeof cid === "string" ? CIDClass.parse(cid) : cid;
  const cidText = manifestCid.toString();
  const manifest = await loadManifest(parts.store, manifestCid);
  const n = manifest.k + manifest.m;
  const placements = await placementsOf(parts.placements, cidText);
  const holders = liveHolders(placements, n);
  const lost = unplacedShards(placements, n);
  const progress: RepairProgress = { lost };
  const report = () => params.onProgress?.({ ...progress });
  report();
  if (lost.length === 0) return { lost, rebuilt: [], placements: [] };
  const live = n - lost.length;
  if (live < manifest.k) throw new TooFewShardsError(manifest.k, live, 0);

  const rebuilt: number[] = [];
  const temporary: string[] = [];
  try {
    for (const shard of lost) {
      const cids = (manifest.shards[shard]?.pieces ?? []).map((c) => c.toString());
      const local = await parts.store.getBlocks(cids);
      if (local.every((b) => b !== undefined)) continue;
      const network = new NetworkStore(
        {
          ...parts,
          local: parts.store,
          holders: async () => holders,
        },
        manifestCid,
        {
          ...(params.signal ? { signal: params.signal } : {}),
          onProgress: (fetch) => {
            progress.fetch = fetch;
            report();
          },
        },
      );
      try {
        const missing = cids.filter((_, i) => local[i] === undefined);
        await repairShard(
          {
            codec: parts.codec,
            store: {
              getBlocks: (c) => network.getBlocks(c),
              getBlockBytes: (c) => network.getBlockBytes(c),
              getManifest: (c) => network.getManifest(c),
              putBlocks: (blocks) => parts.store.putBlocks(blocks),
            },
          },
          manifestCid,
          shard,
          {
            ...(params.signal ? { signal: params.signal } : {}),
            onProgress: (p) => {
              progress.rebuilding = { shard, ...p };
              report();
            },
          },
        );
        temporary.push(...missing);
        rebuilt.push(shard);
      } finally {
        network.close();
      }
    }

    // The upload places them by the one placement rule (placement-targets.ts): never back on a host that holds,
    // lost or corrupted a shard of the file.
    const onProgress = (upload: UploadProgress) => {
      progress.upload = upload;
      report();
    };
    const placed = params.place
      ? await params.place(lost, placements, { ...(params.signal ? { signal: params.signal } : {}), onProgress })
      : await uploadFile(parts, manifestCid, {
          placements,
          shards: lost,
          ...(params.signal ? { signal: params.signal } : {}),
          onProgress,
        });
    for (const old of placements) {
      if (lost.includes(old.shard) && old.status !== "moved" && !placed.some((p) => p.host === old.host)) {
        await savePlacement(parts.placements, { ...old, status: "moved" });
      }
    }
    return { lost, rebuilt, placements: placed };
  } finally {
    if (temporary.length > 0) await parts.store.deleteBlocks(temporary).catch(() => {});
  }
}
