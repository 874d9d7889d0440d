import type { AnnouncementInvalidError } from "../common/errors.ts";
import { type DecodeAnnouncementOptions, decodeAnnouncement, type HostAnnouncement } from "./codec.ts";
import { ANNOUNCEMENT_MAX_AGE_MS } from "./constants.ts";

export interface PickHostsOptions {
  /** Hosts with less free space are skipped. */
  minFreeBytes?: number;
  /** Peer ids not to pick (hosts already holding a shard of the file, hosts that failed). */
  exclude?: ReadonlySet<string>;
  /** Highest acceptable price per GiB-month. */
  maxPrice?: bigint;
  /** Source of randomness in [0, 1) (tests and the simulation seed it). */
  random?: () => number;
}

/**
 * The hosts heard on the announcement topic: the newest verified announcement per peer, forgotten once stale.
 * Upload and repair pick their hosts here.
 */
export class HostDirectory {
  readonly #hosts = new Map<string, HostAnnouncement>();
  readonly #maxAgeMs: number;
  readonly #now: () => number;

  constructor(options: { maxAgeMs?: number; now?: () => number } = {}) {
    this.#maxAgeMs = options.maxAgeMs ?? ANNOUNCEMENT_MAX_AGE_MS;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Verifies and records an announcement from the topic; an older one than already known is ignored (replays
   * cannot roll a host back). Throws {@link AnnouncementInvalidError}.
   */
  async receive(bytes: Uint8Array, options: Pick<DecodeAnnouncementOptions, "from"> = {}): Promise<HostAnnouncement> {
    const announcement = await decodeAnnouncement(bytes, { ...options, nowMs: this.#now(), maxAgeMs: this.#maxAgeMs });
    const known = this.#hosts.get(announcement.peer);
    if (!known || known.timestampMs < announcement.timestampMs) this.#hosts.set(announcement.peer, announcement);
    return announcement;
  }

  /** Forgets a host (it left, or failed). */
  remove(peer: string): void {
    this.#hosts.delete(peer);
  }

  /** Every host with a fresh announcement. */
  hosts(): HostAnnouncement[] {
    const oldest = this.#now() - this.#maxAgeMs;
    for (const [peer, host] of this.#hosts) if (host.timestampMs < oldest) this.#hosts.delete(peer);
    return [...this.#hosts.values()];
  }

  get(peer: string): HostAnnouncement | undefined {
    return this.hosts().find((host) => host.peer === peer);
  }

  /** Up to `count` distinct eligible hosts, chosen uniformly at random. */
  pick(count: number, options: PickHostsOptions = {}): HostAnnouncement[] {
    const random = options.random ?? Math.random;
    const eligible = this.hosts().filter(
      (host) =>
        host.freeBytes >= (options.minFreeBytes ?? 0) &&
        !options.exclude?.has(host.peer) &&
        (options.maxPrice === undefined || host.pricePerGiBMonth <= options.maxPrice),
    );
    for (let i = eligible.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [eligible[i], eligible[j]] = [eligible[j] as HostAnnouncement, eligible[i] as HostAnnouncement];
    }
    return eligible.slice(0, count);
  }
}

export type { AnnouncementInvalidError };
