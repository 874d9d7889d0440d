import type { CID } from "multiformats/cid";

/** What a host records about a shard it accepted: enough to audit it, serve it and show whom it is for. */
export interface HeldShard {
  manifest: CID;
  shardIndex: number;
  /** Merkle root of the shard's leaves, as the owner declared it (the audit checks proofs against it). */
  root: Uint8Array;
  pieces: CID[];
  sizes: number[];
  /** Merkle subtree root of each piece, when the host checked `root` against the bytes at store time. */
  pieceRoots?: Uint8Array[];
  /** Peer id (string) of the client that stored it. */
  owner: string;
  /** Deal id on chain, when the storage is paid for; `null` for free storage. */
  dealId: Uint8Array | null;
  storedAtMs: number;
}

/**
 * The host's records: the shards it holds, and the blocks it wrote into the shared block store for them (the
 * "host blocks"). A block enters the host blocks before it is written, so that a push that never ends in a held
 * shard (an abort, a bad piece, a crash) can be undone; a block the host found in the store (public content,
 * anything else) never enters them and is never deleted by the host. The browser node keeps the records in
 * IndexedDB; {@link MemoryShardCatalog} serves Node (tests, simulation).
 */
export interface ShardCatalog {
  put(shard: HeldShard): Promise<void>;
  get(manifest: CID, shardIndex: number): Promise<HeldShard | undefined>;
  /** Every held shard, oldest first. */
  list(): HeldShard[];
  /** Forgets a held shard (its blocks are the caller's business: see the shard-store keeper). */
  remove(manifest: CID, shardIndex: number): Promise<void>;
  /** True when a held shard lists `cid` as one of its pieces or as its manifest. */
  references(cid: CID): boolean;
  /** True when the host wrote (or is about to write) this block for a shard. */
  isHostBlock(cid: CID): boolean;
  /** Every host block. */
  hostBlocks(): CID[];
  /** Records blocks as the host's, before they are written. */
  addHostBlocks(cids: readonly CID[]): Promise<void>;
  /** Forgets blocks that were deleted from the store (or never written). */
  forgetHostBlocks(cids: readonly CID[]): Promise<void>;
}

export function shardKey(manifest: CID, shardIndex: number): string {
  return `${manifest.toString()}/${shardIndex}`;
}

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
