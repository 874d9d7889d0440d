import type { CID } from "multiformats/cid";
import type { BlockReader } from "../../lib/blocks.ts";
import { asCid } from "../../lib/cid.ts";
import type { Manifest, ShardEntry } from "../../lib/manifest.ts";
import { sleep } from "../../lib/signals.ts";
import type { AuditChallenge } from "../../p2p/protocols/audit/index.ts";
import { firstLeaves, LEAF_SIZE_BYTES } from "../../p2p/protocols/audit/index.ts";
import { loadManifest } from "../files/open-file.ts";
import { childController, errorText, type NetworkParts } from "./parts.ts";
import { type Placement, type PlacementStore, placementsOf, savePlacement } from "./placements.ts";
import { pieceSizes } from "./upload-file.ts";

/** Leaves challenged per shard and check: one in each of this many pieces (every piece of a small shard). */
export const CHALLENGED_PIECES_PER_SHARD = 16;
/** How long one host has to answer its challenges (per attempt). */
export const CHECK_TIMEOUT_MS = 15_000;
/** Attempts before an unreachable host counts as lost, and the pause before the second (then twice as long). */
export const CHECK_ATTEMPTS = 5;
export const CHECK_RETRY_DELAY_MS = 2_000;

export interface ShardCheck {
  shard: number;
  host: string;
  status: Placement["status"];
  reason?: string;
  latencyMs?: number;
}

export interface CheckFileParts extends Pick<NetworkParts, "dial" | "audit" | "hosts"> {
  store: Pick<BlockReader, "getManifest">;
  placements: PlacementStore;
}

export interface CheckFileParameters {
  signal?: AbortSignal;
  random?: () => number;
  onCheck?: (check: ShardCheck) => void;
}

/**
 * Audits every host that holds (or held, before it went missing) a shard of one of my files: a random leaf in each
 * of up to {@link CHALLENGED_PIECES_PER_SHARD} pieces, with its Merkle proof checked against the shard root in
 * the manifest. A host that proves every leaf is live; one that no longer holds the shard or cannot be reached is
 * lost; one whose proof fails (it changed or lost bytes) is bad. Placements are updated.
 */
export async function checkFile(
  parts: CheckFileParts,
  cid: CID | string,
  params: CheckFileParameters = {},
): Promise<ShardCheck[]> {
  const manifestCid = asCid(cid);
  const manifest = await loadManifest(parts.store, manifestCid);
  const random = params.random ?? Math.random;
  const placements = (await placementsOf(parts.placements, manifestCid.toString())).filter((p) => p.status !== "moved");
  return await Promise.all(
    placements.map(async (placement) => {
      const check = await checkPlacement(parts, manifest, manifestCid, placement, random, params.signal);
      const updated: Placement = {
        ...placement,
        status: check.status,
        checkedAtMs: Date.now(),
        ...(check.reason ? { reason: check.reason } : {}),
      };
      if (check.status === "live") delete updated.reason;
      await savePlacement(parts.placements, updated);
      params.onCheck?.(check);
      return check;
    }),
  );
}

async function checkPlacement(
  parts: CheckFileParts,
  manifest: Manifest,
  manifestCid: CID,
  placement: Placement,
  random: () => number,
  signal?: AbortSignal,
): Promise<ShardCheck> {
  const entry = manifest.shards[placement.shard] as ShardEntry;
  const challenges = challengesFor(manifest, manifestCid, placement.shard, entry, random);
  let lastError: unknown;
  // A host that fails to answer is asked again on a new connection (a reloaded tab needs a moment to be
  // reachable again) before it counts as lost.
  for (let attempt = 0; attempt < CHECK_ATTEMPTS; attempt++) {
    if (attempt > 0) await sleep(CHECK_RETRY_DELAY_MS * attempt, signal);
    const controller = childController(signal);
    const timer = setTimeout(() => controller.abort(new Error("the host did not answer in time")), CHECK_TIMEOUT_MS);
    try {
      const target = await parts.dial(placement.host, controller.signal, { fresh: attempt > 0 });
      const results = await parts.audit.audit(target, challenges, { signal: controller.signal });
      const latencyMs = Math.max(...results.map((r) => r.latencyMs));
      const failed = results.find((r) => !r.ok);
      if (!failed || failed.ok) {
        parts.hosts.reportSuccess(placement.host);
        return { shard: placement.shard, host: placement.host, status: "live", latencyMs };
      }
      const status = failed.reason === "bad-proof" ? "bad" : "lost";
      const reason =
        failed.reason === "bad-proof"
          ? `leaf ${failed.challenge.leafIndex} failed its Merkle proof`
          : "the host no longer holds the shard";
      parts.hosts.reportFailure(placement.host, reason);
      return { shard: placement.shard, host: placement.host, status, reason, latencyMs };
    } catch (error) {
      lastError = controller.signal.aborted ? controller.signal.reason : error;
      signal?.throwIfAborted();
    } finally {
      clearTimeout(timer);
    }
  }
  const reason = `unreachable: ${errorText(lastError)}`;
  parts.hosts.reportFailure(placement.host, reason);
  return { shard: placement.shard, host: placement.host, status: "lost", reason };
}

/** One random leaf in each of up to {@link CHALLENGED_PIECES_PER_SHARD} random pieces of the shard. */
export function challengesFor(
  manifest: Pick<Manifest, "pieceSize" | "segmentCount">,
  manifestCid: CID,
  shard: number,
  entry: ShardEntry,
  random: () => number,
): AuditChallenge[] {
  const sizes = pieceSizes(manifest, entry);
  const first = firstLeaves(sizes);
  const pieces = [...sizes.keys()];
  for (let i = pieces.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pieces[i], pieces[j]] = [pieces[j] as number, pieces[i] as number];
  }
  return pieces
    .slice(0, CHALLENGED_PIECES_PER_SHARD)
    .sort((a, b) => a - b)
    .map((piece) => {
      const leaves = Math.ceil((sizes[piece] as number) / LEAF_SIZE_BYTES);
      return {
        manifest: manifestCid,
        shardIndex: shard,
        leafIndex: (first[piece] as number) + Math.floor(random() * leaves),
        root: entry.root,
      };
    });
}
