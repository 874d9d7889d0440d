import type { BlockPut, BlockStore } from "../../storage/files-db.ts";
import { MAX_PENDING_WRITE_BYTES, WRITE_BATCH_BYTES } from "./constants.ts";

/**
 * Groups block puts into IndexedDB transactions and pushes back when IndexedDB falls behind. Every CID handed to it
 * is remembered so a failed store can delete what was written; the blocks of each committed transaction are handed
 * to `onCommitted`, so their buffers can be reused.
 */
export class BatchWriter {
  readonly #store: Pick<BlockStore, "putBlocks">;
  readonly #batchBytes: number;
  readonly #maxPendingBytes: number;
  #batch: BlockPut[] = [];
  #batchSize = 0;
  #batchWeight = 0;
  #pendingBytes = 0;
  #commits = new Set<Promise<void>>();
  #error: unknown;
  readonly written: string[] = [];
  onCommitted: (weight: number, blocks: readonly BlockPut[]) => void = () => {};

  constructor(
    store: Pick<BlockStore, "putBlocks">,
    batchBytes = WRITE_BATCH_BYTES,
    maxPendingBytes = MAX_PENDING_WRITE_BYTES,
  ) {
    this.#store = store;
    this.#batchBytes = batchBytes;
    this.#maxPendingBytes = maxPendingBytes;
  }

  /**
   * Queues blocks; `weight` is what they count for in progress (plaintext bytes). Resolves when the writer can take
   * more, not when they are committed.
   */
  async write(blocks: readonly BlockPut[], weight: number): Promise<void> {
    if (this.#error) throw this.#error;
    for (const b of blocks) {
      this.#batch.push(b);
      this.#batchSize += b.bytes.length;
      this.written.push(b.cid);
    }
    this.#pendingBytes += weight;
    this.#batchWeight += weight;
    if (this.#batchSize >= this.#batchBytes) this.#commit();
    while (this.#pendingBytes > this.#maxPendingBytes && this.#commits.size > 0) {
      await Promise.race(this.#commits).catch(() => {});
      if (this.#error) throw this.#error;
    }
  }

  #commit(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    const weight = this.#batchWeight;
    this.#batch = [];
    this.#batchSize = 0;
    this.#batchWeight = 0;
    const commit: Promise<void> = this.#store
      .putBlocks(batch)
      .then(
        () => {
          this.#pendingBytes -= weight;
          this.onCommitted(weight, batch);
        },
        (error: unknown) => {
          this.#error ??= error;
        },
      )
      .finally(() => this.#commits.delete(commit));
    this.#commits.add(commit);
  }

  /** Commits what is left and waits for every transaction; throws the first write error. */
  async close(): Promise<void> {
    this.#commit();
    while (this.#commits.size > 0) await Promise.all(this.#commits);
    if (this.#error) throw this.#error;
  }

  /** Waits for transactions in flight without committing more (after a failure). */
  async settle(): Promise<void> {
    this.#batch = [];
    while (this.#commits.size > 0) await Promise.allSettled(this.#commits);
  }
}
