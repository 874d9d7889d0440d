import { NotEnoughHostsError } from "./errors.ts";
import { hostsOfFile, liveHolders, type Placement } from "./placements.ts";
import { type HostCandidate, rankHosts, type SelectHostsOptions } from "./select-hosts.ts";

/** What the rule needs of a file: its shard count and each shard's size. */
export interface FileShape {
  k: number;
  m: number;
  shards: readonly { size: number }[];
}

export interface PlacementTargetsOptions {
  /** This tab's peer id: never a host of its own files. */
  self: string;
  /** The shards to place (default: those with no live holder). */
  shards?: readonly number[];
  /** More hosts to leave out, beyond the rule's. */
  exclude?: Iterable<string>;
  /** Leave out hosts that failed lately (the automatic repair: a host a check just found gone may still announce). */
  skipFailed?: boolean;
  /** Stake and reputation hook for the ranking. */
  score?: SelectHostsOptions["score"];
}

export interface PlacementTargets<H> {
  /** Shards that need a host. */
  shards: number[];
  /** The eligible hosts, best first. */
  hosts: H[];
  /** Hosts that may not take a shard of the file. */
  exclude: Set<string>;
}

/** Shards of a file that no live host holds. */
export function unplacedShards(placements: readonly Placement[], shardCount: number): number[] {
  return liveHolders(placements, shardCount).flatMap((holders, shard) => (holders.length === 0 ? [shard] : []));
}

/**
 * The one rule for placing shards of a file, for the upload, the repair and the repair's pre-check alike: the shards
 * with no live holder need a host; a host is eligible when it is not this tab, holds nothing of the file, never lost
 * or corrupted a shard of it (one found unreachable would only use up the tries), and has room for the largest of
 * those shards; the eligible hosts are ranked by {@link rankHosts}.
 */
export function placementTargets<H extends HostCandidate>(
  file: FileShape,
  placements: readonly Placement[],
  hosts: readonly H[],
  options: PlacementTargetsOptions,
): PlacementTargets<H> {
  const shards = options.shards ? [...options.shards] : unplacedShards(placements, file.k + file.m);
  const exclude = new Set([options.self, ...hostsOfFile(placements), ...(options.exclude ?? [])]);
  if (shards.length === 0) return { shards, hosts: [], exclude };
  const ranked = rankHosts(hosts, {
    minFreeBytes: Math.max(...shards.map((shard) => file.shards[shard]?.size ?? 0)),
    exclude,
    ...(options.score ? { score: options.score } : {}),
  });
  return { shards, hosts: options.skipFailed ? ranked.filter((host) => !host.failure) : ranked, exclude };
}

/** Throws {@link NotEnoughHostsError} when fewer eligible hosts than shards to place are known. */
export function assertEnoughHosts(targets: PlacementTargets<unknown>): void {
  if (targets.hosts.length < targets.shards.length)
    throw new NotEnoughHostsError(targets.shards.length, targets.hosts.length);
}
