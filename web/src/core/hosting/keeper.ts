import type { AbortOptions } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { raceSignal } from "../../lib/signals.ts";
import type { HostPush } from "../../p2p/protocols/shard-store/index.ts";
import type { HeldShard, ShardCatalog } from "./catalog.ts";
import type { HostPieceStore } from "./host-store.ts";

/** A shard as the keeper needs it: the blocks a push of it may write or rely on. */
export interface KeptShardRef {
  manifest: CID;
  shardIndex: number;
}

export interface RemoveShardsResult {
  /** Held shards removed from the catalog. */
  shards: number;
  /** Host blocks deleted from the store (pieces and manifests no remaining shard lists). */
  blocks: number;
}

/**
 * Makes shard pushes atomic for a host whose block store is shared with other content (Helia's, in the tab).
 *
 * A push first claims every block its offer lists (no cleanup deletes a claimed block), then records the pieces
 * the store lacks as host blocks in the catalog, and only then writes them. A push that ends in a held shard
 * keeps them; any other end (abort, reset, timeout, bad piece, bad root, a crash) leaves host blocks that no held
 * shard lists, which {@link ShardKeeper.collect} deletes at once, or {@link ShardKeeper.recover} at the next
 * start. Blocks the store had before a push (public content, another shard's pieces) are never host blocks of
 * that push, so the host never deletes data it did not write.
 */
export class ShardKeeper {
  readonly #store: HostPieceStore;
  readonly #catalog: ShardCatalog;
  /** Block CID text → number of pushes (and other holders) that rely on it now. */
  readonly #claims = new Map<string, number>();
  /** Block CID text → its deletion under way; a push that needs the block waits for it, then writes it again. */
  readonly #deleting = new Map<string, Promise<void>>();

  constructor(store: HostPieceStore, catalog: ShardCatalog) {
    this.#store = store;
    this.#catalog = catalog;
  }

  /**
   * Opens a push of a shard: claims its blocks, works out which pieces the store lacks (each distinct piece once)
   * and records them as host blocks before any is written.
   */
  async begin(offer: { manifest: CID; pieces: readonly CID[] }, options: AbortOptions = {}): Promise<KeptPush> {
    const release = this.hold([offer.manifest, ...offer.pieces]);
    try {
      const need: number[] = [];
      const missing: CID[] = [];
      const seen = new Set<string>();
      for (const [index, cid] of offer.pieces.entries()) {
        const key = cid.toString();
        if (seen.has(key)) continue;
        seen.add(key);
        const deleting = this.#deleting.get(key);
        if (deleting) await raceSignal(deleting, options.signal);
        if (await this.#store.has(cid, options)) continue;
        need.push(index);
        missing.push(cid);
      }
      options.signal?.throwIfAborted();
      if (missing.length > 0) await this.#catalog.addHostBlocks(missing);
      return new KeptPush(this, this.#store, this.#catalog, offer.pieces, need, release);
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Keeps `cids` from being deleted by any cleanup until the returned function is called (once). */
  hold(cids: readonly CID[]): () => void {
    const keys = [...new Set(cids.map((cid) => cid.toString()))];
    for (const key of keys) this.#claims.set(key, (this.#claims.get(key) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const key of keys) {
        const count = (this.#claims.get(key) ?? 1) - 1;
        if (count > 0) this.#claims.set(key, count);
        else this.#claims.delete(key);
      }
    };
  }

  /**
   * Removes held shards from the catalog and deletes the host blocks that nothing else lists or claims. An abort
   * stops before the next shard; the blocks of those removed already are deleted still.
   */
  async remove(shards: readonly KeptShardRef[], options: AbortOptions = {}): Promise<RemoveShardsResult> {
    const candidates: CID[] = [];
    let removed = 0;
    for (const { manifest, shardIndex } of shards) {
      if (options.signal?.aborted) break;
      const held = await this.#catalog.get(manifest, shardIndex);
      if (!held) continue;
      await this.#catalog.remove(manifest, shardIndex);
      removed += 1;
      candidates.push(held.manifest, ...held.pieces);
    }
    const blocks = await this.collect(candidates);
    options.signal?.throwIfAborted();
    return { shards: removed, blocks };
  }

  /** Deletes every host block no held shard lists: what pushes cut short by a crash or a closed tab left. */
  async recover(): Promise<number> {
    return await this.collect(this.#catalog.hostBlocks());
  }

  /**
   * Deletes those of `candidates` that are host blocks, listed by no held shard, claimed by no push under way and
   * pinned by no other content; returns how many it deleted. A block whose deletion fails stays a host block, for
   * the next start to retry.
   */
  async collect(candidates: Iterable<CID>): Promise<number> {
    const deletable = (cid: CID, key: string) =>
      !this.#deleting.has(key) &&
      !this.#claims.has(key) &&
      this.#catalog.isHostBlock(cid) &&
      !this.#catalog.references(cid);
    let unlisted = [...candidates].filter((cid) => deletable(cid, cid.toString()));
    // A block that pinned content (a public file added since) holds is no longer the host's to delete: it stops
    // being a host block and stays in the store.
    const isPinned = this.#store.isPinned?.bind(this.#store);
    if (isPinned && unlisted.length > 0) {
      // undefined: the pins could not be read; the block is left as it is, for the next start to try again.
      const pinned = await Promise.all(
        unlisted.map((cid) =>
          isPinned(cid).then(
            (yes) => yes,
            () => undefined,
          ),
        ),
      );
      const heldByPins = unlisted.filter((cid, index) => pinned[index] === true && deletable(cid, cid.toString()));
      if (heldByPins.length > 0) await this.#catalog.forgetHostBlocks(heldByPins);
      unlisted = unlisted.filter((_, index) => pinned[index] === false);
    }
    const doomed: { cid: CID; key: string; deleted: Promise<boolean> }[] = [];
    for (const cid of unlisted) {
      const key = cid.toString();
      // Checked again: a push may have claimed the block, or a shard listed it, while the pins were read.
      if (!deletable(cid, key)) continue;
      // Started before anything else can claim the block: a push that claims it later waits for this deletion.
      let deleted: Promise<boolean>;
      try {
        deleted = Promise.resolve(this.#store.delete(cid)).then(
          () => true,
          () => false,
        );
      } catch {
        deleted = Promise.resolve(false);
      }
      this.#deleting.set(
        key,
        deleted.then(() => {}),
      );
      doomed.push({ cid, key, deleted });
    }
    if (doomed.length === 0) return 0;
    try {
      const results = await Promise.all(doomed.map((entry) => entry.deleted));
      const gone = doomed.filter((_, index) => results[index]);
      // A block claimed again (or listed by a shard stored) meanwhile stays a host block: its push writes it again.
      const forget = gone.filter((entry) => !this.#claims.has(entry.key) && !this.#catalog.references(entry.cid));
      await this.#catalog.forgetHostBlocks(forget.map((entry) => entry.cid));
      return gone.length;
    } finally {
      for (const entry of doomed) this.#deleting.delete(entry.key);
    }
  }
}

/** One push under way: write its pieces with {@link KeptPush.put}, then {@link KeptPush.commit} or abort. */
export class KeptPush implements HostPush {
  /** Indexes (ascending) of the offer's pieces the store lacks: the ones the client must send. */
  readonly need: readonly number[];
  readonly #keeper: ShardKeeper;
  readonly #store: HostPieceStore;
  readonly #catalog: ShardCatalog;
  readonly #pieces: readonly CID[];
  readonly #release: () => void;
  #ended = false;

  constructor(
    keeper: ShardKeeper,
    store: HostPieceStore,
    catalog: ShardCatalog,
    pieces: readonly CID[],
    need: number[],
    release: () => void,
  ) {
    this.#keeper = keeper;
    this.#store = store;
    this.#catalog = catalog;
    this.#pieces = pieces;
    this.need = need;
    this.#release = release;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Writes a verified piece (one the push needs: it is already recorded as a host block). */
  async put(cid: CID, bytes: Uint8Array, options: AbortOptions = {}): Promise<void> {
    if (this.#ended) throw new Error("the push has ended");
    await this.#store.put(cid, bytes, options);
  }

  /** Records the shard as held: from now on its pieces are kept until it is removed. */
  async commit(shard: HeldShard): Promise<void> {
    if (this.#ended) throw new Error("the push has ended");
    await this.#catalog.put(shard);
    this.#end();
  }

  /** Ends a push that did not store its shard: deletes what it wrote that nothing else lists or claims. */
  async abort(): Promise<number> {
    if (this.#ended) return 0;
    this.#end();
    return await this.#keeper.collect(this.#pieces);
  }

  #end(): void {
    this.#ended = true;
    this.#release();
  }
}
