/** Host mode as the UI sees it: the "Share storage" switch, the quota, and the shards this tab holds for others. */

import { type HeldShard, shardKey, totalBytesOf } from "../core/hosting/catalog.ts";
import type { Host } from "../core/hosting/host.ts";
import { toHex } from "../lib/bytes.ts";
import { BaseError, userMessage } from "../lib/errors.ts";

export interface HeldShardView {
  key: string;
  manifest: string;
  shardIndex: number;
  /** Peer id of the owner who stored it. */
  owner: string;
  bytes: number;
  pieces: number;
  storedAtMs: number;
  servedPieces: number;
  servedBytes: number;
  /** The paid deal the host's record names for it, if any. */
  dealId?: bigint;
  /** When the running deal that binds it ends (Unix seconds): it stays until then. */
  boundUntilS?: bigint;
}

/** What says which held shards a running paid deal binds (the host's deal sweeper); emits `change`. */
export interface ShardBinding extends EventTarget {
  boundUntil(shard: Pick<HeldShard, "manifest" | "shardIndex">): bigint | undefined;
  /** Reads the deals again now (a shard pushed since the last look is bound too). */
  sweep(): Promise<void>;
}

/** Shards a removal left in place because running deals bind them. */
export interface KeptShards {
  count: number;
  /** When the last of their deals ends (Unix seconds). */
  untilS: bigint;
}

export class HostingState {
  readonly #host: Host;
  #enabled = $state(false);
  #quotaBytes = $state(0);
  #usedBytes = $state(0);
  #freeBytes = $state(0);
  #reservedBytes = $state(0);
  #pushes = $state(0);
  #removing = $state(false);
  #held = $state.raw<HeldShardView[]>([]);
  #announcements = $state(0);
  #lastAnnouncedAt = $state(0);
  #error = $state<string | undefined>();
  #kept = $state.raw<KeptShards | undefined>();
  #retrievalPrice = $state(0n);
  #retrievalCharged = $state<bigint | undefined>();
  #retrievalError = $state<string | undefined>();
  #binding: ShardBinding | undefined;
  readonly #update: () => void;

  constructor(host: Host) {
    this.#host = host;
    const update = () => {
      this.#enabled = host.enabled;
      this.#quotaBytes = host.quotaBytes;
      this.#usedBytes = host.usedBytes;
      this.#freeBytes = host.freeBytes;
      this.#reservedBytes = host.reservedBytes;
      this.#pushes = host.pushes;
      this.#announcements = host.announcements;
      this.#lastAnnouncedAt = host.lastAnnouncedAt;
      this.#retrievalPrice = host.retrievalPricePerMB;
      this.#retrievalCharged = host.retrieval?.pricePerMB;
      this.#retrievalError = host.retrievalError;
      this.#held = host.held().map((shard) => {
        const key = shardKey(shard.manifest, shard.shardIndex);
        const served = host.served.get(key);
        return {
          key,
          manifest: shard.manifest.toString(),
          shardIndex: shard.shardIndex,
          owner: shard.owner,
          bytes: totalBytesOf(shard),
          pieces: shard.pieces.length,
          storedAtMs: shard.storedAtMs,
          servedPieces: served?.pieces ?? 0,
          servedBytes: served?.bytes ?? 0,
          ...(shard.dealId ? { dealId: BigInt(`0x${toHex(shard.dealId)}`) } : {}),
          ...boundView(this.#binding?.boundUntil(shard)),
        };
      });
    };
    this.#update = update;
    host.addEventListener("change", update);
    update();
  }

  /** Running paid deals bind shards from now on: "remove all" leaves those until their deals end. */
  bind(binding: ShardBinding | undefined): void {
    this.#binding?.removeEventListener("change", this.#update);
    this.#binding = binding;
    binding?.addEventListener("change", this.#update);
    this.#update();
  }

  /** Shards the last removal left in place because running deals bind them. */
  get kept(): KeptShards | undefined {
    return this.#kept;
  }

  get enabled(): boolean {
    return this.#enabled;
  }
  get quotaBytes(): number {
    return this.#quotaBytes;
  }
  get usedBytes(): number {
    return this.#usedBytes;
  }
  get freeBytes(): number {
    return this.#freeBytes;
  }
  /** Bytes reserved against the quota by pushes under way (each its offer's size). */
  get reservedBytes(): number {
    return this.#reservedBytes;
  }
  /** Shards being pushed to this tab now. */
  get pushes(): number {
    return this.#pushes;
  }
  /** True while held shards are being removed. */
  get removing(): boolean {
    return this.#removing;
  }
  /** Shards held for others, oldest first. */
  get held(): HeldShardView[] {
    return this.#held;
  }
  get announcements(): number {
    return this.#announcements;
  }
  get lastAnnouncedAt(): number {
    return this.#lastAnnouncedAt;
  }
  get error(): string | undefined {
    return this.#error;
  }

  async setEnabled(enabled: boolean): Promise<void> {
    await this.#run(() => this.#host.setEnabled(enabled));
  }

  async setQuota(quotaBytes: number): Promise<void> {
    await this.#run(() => this.#host.setQuota(quotaBytes));
  }

  /** The asked price per MB of pieces served, in token base units (0 = free). */
  get retrievalPrice(): bigint {
    return this.#retrievalPrice;
  }
  /** The price per MB downloads are charged now (announced), or `undefined` while they are free. */
  get retrievalCharged(): bigint | undefined {
    return this.#retrievalCharged;
  }
  /** Why the asked price is not charged, if it is not (no wallet, the key could not be enabled). */
  get retrievalError(): string | undefined {
    return this.#retrievalError;
  }

  async setRetrievalPrice(pricePerMB: bigint): Promise<void> {
    await this.#run(() => this.#host.setRetrievalPrice(pricePerMB));
  }

  /**
   * Removes every shard held for others and frees the blocks written for them (their owners will repair), except
   * shards running paid deals bind: dropping those would forfeit the deals' collateral, so they stay until their
   * deals end ({@link kept}).
   */
  async removeAll(): Promise<void> {
    this.#removing = true;
    try {
      await this.#run(async () => {
        await this.#binding?.sweep();
        const held = this.#host.held();
        const until = held.map((shard) => this.#binding?.boundUntil(shard));
        const bound = until.filter((s): s is bigint => s !== undefined);
        await this.#host.remove(held.filter((_, i) => until[i] === undefined));
        const last = bound.toSorted((a, b) => (a < b ? -1 : a > b ? 1 : 0)).at(-1);
        this.#kept = last === undefined ? undefined : { count: bound.length, untilS: last };
      });
    } finally {
      this.#removing = false;
    }
  }

  async #run(action: () => Promise<void>): Promise<void> {
    this.#error = undefined;
    try {
      await action();
    } catch (error) {
      this.#error =
        error instanceof BaseError ? userMessage(error) : String(error instanceof Error ? error.message : error);
    }
  }
}

function boundView(untilS: bigint | undefined): { boundUntilS?: bigint } {
  return untilS === undefined ? {} : { boundUntilS: untilS };
}
