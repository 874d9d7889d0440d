/** Host mode as the UI sees it: the "Share storage" switch, the quota, and the shards this tab holds for others. */

import { shardKey, totalBytesOf } from "../core/hosting/catalog.ts";
import type { Host } from "../core/hosting/host.ts";
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
        };
      });
    };
    host.addEventListener("change", update);
    update();
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

  /** Removes every shard held for others and frees the blocks written for them (their owners will repair). */
  async removeAll(): Promise<void> {
    this.#removing = true;
    try {
      await this.#run(async () => {
        await this.#host.removeAll();
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
