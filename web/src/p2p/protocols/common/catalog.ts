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
 * The host's index of held shards. The browser node keeps it in IndexedDB; {@link MemoryShardCatalog} serves
 * Node (tests, simulation).
 */
export interface ShardCatalog {
  put(shard: HeldShard): Promise<void>;
  get(manifest: CID, shardIndex: number): Promise<HeldShard | undefined>;
}

export function shardKey(manifest: CID, shardIndex: number): string {
  return `${manifest.toString()}/${shardIndex}`;
}

/** An in-memory {@link ShardCatalog}. */
export class MemoryShardCatalog implements ShardCatalog {
  readonly #shards = new Map<string, HeldShard>();

  async put(shard: HeldShard): Promise<void> {
    this.#shards.set(shardKey(shard.manifest, shard.shardIndex), shard);
  }

  async get(manifest: CID, shardIndex: number): Promise<HeldShard | undefined> {
    return this.#shards.get(shardKey(manifest, shardIndex));
  }

  /** Every held shard, oldest first. */
  list(): HeldShard[] {
    return [...this.#shards.values()];
  }

  get size(): number {
    return this.#shards.size;
  }
}
