import type { AbortOptions } from "@libp2p/interface";
import { MemoryBlockstore } from "blockstore-core";
import type { CID } from "multiformats/cid";
import type { AuditHost } from "../protocols/audit/index.ts";
import type { PieceRootFn } from "../protocols/audit/merkle.ts";
import { type HeldShard, shardKey } from "../protocols/common/held-shard.ts";
import { type PieceStore, readPiece } from "../protocols/common/pieces.ts";
import type { ShardFetchHost } from "../protocols/shard-fetch/index.ts";
import type { HostPush, ShardStoreHost } from "../protocols/shard-store/index.ts";

/** A block store a {@link MemoryHost} writes pieces to and deletes them from. */
export interface MemoryHostStore extends PieceStore {
  delete(cid: CID, options?: AbortOptions): unknown;
}

export interface MemoryHostOptions {
  admit?: ShardStoreHost["admit"];
  attest?: ShardStoreHost["attest"];
  pieceRoot?: PieceRootFn;
  canServe?: ShardFetchHost["canServe"];
  onServed?: ShardFetchHost["onServed"];
}

/**
 * A host role in memory for the protocol tests and the simulation: held shards in a map, pieces in a block store.
 * A push writes its pieces straight to the store; aborting it deletes those it wrote that no held shard lists.
 * It counts how pushes ended, so that a test can check what the protocol asked of its role.
 */
export class MemoryHost {
  readonly store: MemoryHostStore;
  /** Pushes begun, committed and aborted, and recoveries run, since the role was made. */
  readonly counts = { begun: 0, committed: 0, aborted: 0, recovered: 0 };
  readonly #shards = new Map<string, HeldShard>();
  readonly #options: MemoryHostOptions;

  constructor(store: MemoryHostStore = new MemoryBlockstore(), options: MemoryHostOptions = {}) {
    this.store = store;
    this.#options = options;
  }

  /** The held shard under this manifest and index. */
  get(manifest: CID, shardIndex: number): HeldShard | undefined {
    return this.#shards.get(shardKey(manifest, shardIndex));
  }

  /** Every held shard. */
  list(): HeldShard[] {
    return [...this.#shards.values()];
  }

  /** Records a shard as held, as a push that ends in a commit does. */
  hold(shard: HeldShard): void {
    this.#shards.set(shardKey(shard.manifest, shard.shardIndex), shard);
  }

  readonly readPiece = (cid: CID, options?: AbortOptions): Promise<Uint8Array | undefined> =>
    readPiece(this.store, cid, options);

  shardStore(): ShardStoreHost {
    const { admit, attest, pieceRoot } = this.#options;
    return {
      ...(admit ? { admit } : {}),
      ...(attest ? { attest } : {}),
      ...(pieceRoot ? { pieceRoot } : {}),
      begin: (offer, options) => this.#begin(offer.pieces, options),
      readPiece: this.readPiece,
      recover: async () => {
        this.counts.recovered += 1;
      },
    };
  }

  shardFetch(): ShardFetchHost {
    const { canServe, onServed } = this.#options;
    return { readPiece: this.readPiece, ...(canServe ? { canServe } : {}), ...(onServed ? { onServed } : {}) };
  }

  audit(): AuditHost {
    const { pieceRoot } = this.#options;
    return {
      held: async (manifest, shardIndex) => this.get(manifest, shardIndex),
      readPiece: this.readPiece,
      ...(pieceRoot ? { pieceRoot } : {}),
    };
  }

  async #begin(pieces: readonly CID[], options: AbortOptions = {}): Promise<HostPush> {
    this.counts.begun += 1;
    const need: number[] = [];
    for (const [index, cid] of pieces.entries()) {
      if (!(await this.store.has(cid, options))) need.push(index);
    }
    const written: CID[] = [];
    let ended = false;
    return {
      need,
      put: async (cid, bytes, putOptions) => {
        if (ended) throw new Error("the push has ended");
        written.push(cid);
        await this.store.put(cid, bytes, putOptions);
      },
      commit: async (shard) => {
        if (ended) throw new Error("the push has ended");
        ended = true;
        this.hold(shard);
        this.counts.committed += 1;
      },
      abort: async () => {
        if (ended) return;
        ended = true;
        this.counts.aborted += 1;
        const listed = new Set(this.list().flatMap((shard) => shard.pieces.map(String)));
        for (const cid of written) if (!listed.has(cid.toString())) await this.store.delete(cid);
      },
    };
  }
}
