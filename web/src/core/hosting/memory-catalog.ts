import type { CID } from "multiformats/cid";
import { type HeldShard, type ShardCatalog, shardKey } from "./catalog.ts";

/** An in-memory {@link ShardCatalog}. */
export class MemoryShardCatalog implements ShardCatalog {
  readonly #shards = new Map<string, HeldShard>();
  readonly #hostBlocks = new Map<string, CID>();
  /** CID text → number of held shards listing it (as a piece or manifest). */
  readonly #references = new Map<string, number>();

  async put(shard: HeldShard): Promise<void> {
    const key = shardKey(shard.manifest, shard.shardIndex);
    this.#unindex(key);
    this.#shards.set(key, shard);
    for (const text of listedBy(shard)) this.#references.set(text, (this.#references.get(text) ?? 0) + 1);
  }

  async get(manifest: CID, shardIndex: number): Promise<HeldShard | undefined> {
    return this.#shards.get(shardKey(manifest, shardIndex));
  }

  list(): HeldShard[] {
    return [...this.#shards.values()];
  }

  async remove(manifest: CID, shardIndex: number): Promise<void> {
    this.#unindex(shardKey(manifest, shardIndex));
  }

  references(cid: CID): boolean {
    return this.#references.has(cid.toString());
  }

  isHostBlock(cid: CID): boolean {
    return this.#hostBlocks.has(cid.toString());
  }

  hostBlocks(): CID[] {
    return [...this.#hostBlocks.values()];
  }

  async addHostBlocks(cids: readonly CID[]): Promise<void> {
    for (const cid of cids) this.#hostBlocks.set(cid.toString(), cid);
  }

  async forgetHostBlocks(cids: readonly CID[]): Promise<void> {
    for (const cid of cids) this.#hostBlocks.delete(cid.toString());
  }

  get size(): number {
    return this.#shards.size;
  }

  #unindex(key: string): void {
    const shard = this.#shards.get(key);
    if (!shard) return;
    this.#shards.delete(key);
    for (const text of listedBy(shard)) {
      const count = (this.#references.get(text) ?? 1) - 1;
      if (count > 0) this.#references.set(text, count);
      else this.#references.delete(text);
    }
  }
}

/** The CIDs (as text, each once) a held shard lists: its manifest and its pieces. */
function listedBy(shard: HeldShard): Set<string> {
  return new Set([shard.manifest, ...shard.pieces].map((cid) => cid.toString()));
}
