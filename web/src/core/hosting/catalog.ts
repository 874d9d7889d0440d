import * as dagCbor from "@ipld/dag-cbor";
import { CID } from "multiformats/cid";
import { type HeldShard, shardKey } from "../../p2p/protocols/common/held-shard.ts";
import type { HeldShardRecord, HostingDB } from "../../storage/hosting-db.ts";
import type { ShardKeeper } from "./keeper.ts";

export { type HeldShard, shardKey };

/**
 * The host's records: the shards it holds, and the blocks it wrote into the shared block store for them (the
 * "host blocks"). A block enters the host blocks before it is written, so that a push that never ends in a held
 * shard (an abort, a bad piece, a crash) can be undone; a block the host found in the store (public content,
 * anything else) never enters them and is never deleted by the host. The browser node keeps the records in
 * IndexedDB ({@link IdbShardCatalog}); {@link MemoryShardCatalog} serves Node (tests).
 */
export interface ShardCatalog {
  put(shard: HeldShard): Promise<void>;
  get(manifest: CID, shardIndex: number): Promise<HeldShard | undefined>;
  /** Every held shard, oldest first. */
  list(): HeldShard[];
  /** Forgets a held shard (its blocks are the caller's business: see {@link ShardKeeper}). */
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

/**
 * The host's {@link ShardCatalog} in IndexedDB (storage/hosting-db.ts), with an in-memory index of what it holds:
 * the shards, the CIDs it serves (their pieces and manifests), the bytes they take and the host blocks, so that
 * the admission, serving, cleanup and announcement policies never wait for IndexedDB.
 */
export class IdbShardCatalog extends EventTarget implements ShardCatalog {
  readonly #db: HostingDB;
  readonly #shards = new Map<string, HeldShard>();
  /** CID text → number of held shards that reference it (a piece can be shared by two shards). */
  readonly #servable = new Map<string, number>();
  /** Piece CID text → key of a held shard it belongs to. */
  readonly #pieceShard = new Map<string, string>();
  /** CID text → CID of every block host mode wrote (or is about to write). */
  readonly #hostBlocks = new Map<string, CID>();
  #usedBytes = 0;

  private constructor(db: HostingDB) {
    super();
    this.#db = db;
  }

  /** Loads the catalog of a profile's hosting database. */
  static async load(db: HostingDB): Promise<IdbShardCatalog> {
    const catalog = new IdbShardCatalog(db);
    for (const record of await db.listShards()) {
      try {
        catalog.#index(decodeHeldShard(record.body));
      } catch {
        // An entry this version cannot read is skipped, not fatal.
      }
    }
    for (const text of await db.hostBlocks()) {
      try {
        catalog.#hostBlocks.set(text, CID.parse(text));
      } catch {
        // Not a CID: nothing to delete for it.
      }
    }
    if (await db.hasLegacyBlocks()) {
      // Shards stored before host blocks were recorded: their pieces came through pushes, so they are the host's.
      const pieces = new Map(catalog.list().flatMap((shard) => shard.pieces.map((cid) => [cid.toString(), cid])));
      await db.recordLegacyBlocks([...pieces.keys()]);
      for (const [text, cid] of pieces) catalog.#hostBlocks.set(text, cid);
    }
    return catalog;
  }

  async put(shard: HeldShard): Promise<void> {
    const key = shardKey(shard.manifest, shard.shardIndex);
    const record: HeldShardRecord = {
      key,
      manifest: shard.manifest.toString(),
      shardIndex: shard.shardIndex,
      owner: shard.owner,
      totalBytes: totalBytesOf(shard),
      storedAtMs: shard.storedAtMs,
      body: encodeHeldShard(shard),
    };
    await this.#db.putShard(record);
    this.#unindex(key);
    this.#index(shard);
    this.dispatchEvent(new CustomEvent("change"));
  }

  async get(manifest: CID, shardIndex: number): Promise<HeldShard | undefined> {
    return this.#shards.get(shardKey(manifest, shardIndex));
  }

  /** Forgets a held shard (its blocks are deleted by the {@link ShardKeeper}, which calls this). */
  async remove(manifest: CID, shardIndex: number): Promise<void> {
    const key = shardKey(manifest, shardIndex);
    await this.#db.deleteShard(key);
    this.#unindex(key);
    this.dispatchEvent(new CustomEvent("change"));
  }

  /** Every held shard, oldest first. */
  list(): HeldShard[] {
    return [...this.#shards.values()].sort((a, b) => a.storedAtMs - b.storedAtMs);
  }

  /** Bytes of all held shards. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Key (`<manifest>/<index>`) of a held shard that has this piece. */
  shardOfPiece(cid: CID): string | undefined {
    return this.#pieceShard.get(cid.toString());
  }

  /** True for a piece or manifest of a held shard: the only blocks shard-fetch serves. */
  serves(cid: CID): boolean {
    return this.#servable.has(cid.toString());
  }

  references(cid: CID): boolean {
    return this.#servable.has(cid.toString());
  }

  isHostBlock(cid: CID): boolean {
    return this.#hostBlocks.has(cid.toString());
  }

  hostBlocks(): CID[] {
    return [...this.#hostBlocks.values()];
  }

  async addHostBlocks(cids: readonly CID[]): Promise<void> {
    await this.#db.addHostBlocks(cids.map(String));
    for (const cid of cids) this.#hostBlocks.set(cid.toString(), cid);
  }

  async forgetHostBlocks(cids: readonly CID[]): Promise<void> {
    if (cids.length === 0) return;
    await this.#db.forgetHostBlocks(cids.map(String));
    for (const cid of cids) this.#hostBlocks.delete(cid.toString());
  }

  #index(shard: HeldShard): void {
    const key = shardKey(shard.manifest, shard.shardIndex);
    this.#shards.set(key, shard);
    this.#usedBytes += totalBytesOf(shard);
    for (const cid of [shard.manifest, ...shard.pieces]) {
      const text = cid.toString();
      this.#servable.set(text, (this.#servable.get(text) ?? 0) + 1);
    }
    for (const cid of shard.pieces) this.#pieceShard.set(cid.toString(), key);
  }

  #unindex(key: string): void {
    const shard = this.#shards.get(key);
    if (!shard) return;
    this.#shards.delete(key);
    this.#usedBytes -= totalBytesOf(shard);
    for (const cid of [shard.manifest, ...shard.pieces]) {
      const text = cid.toString();
      const count = (this.#servable.get(text) ?? 1) - 1;
      if (count > 0) this.#servable.set(text, count);
      else this.#servable.delete(text);
    }
    for (const cid of shard.pieces) {
      if (this.#pieceShard.get(cid.toString()) === key) this.#pieceShard.delete(cid.toString());
    }
  }
}

export function totalBytesOf(shard: Pick<HeldShard, "sizes">): number {
  return shard.sizes.reduce((total, size) => total + size, 0);
}

const HELD_SHARD_VERSION = 1;

export function encodeHeldShard(shard: HeldShard): Uint8Array {
  return dagCbor.encode({
    v: HELD_SHARD_VERSION,
    manifest: shard.manifest,
    shard: shard.shardIndex,
    root: shard.root,
    pieces: shard.pieces,
    sizes: shard.sizes,
    ...(shard.pieceRoots ? { pieceRoots: shard.pieceRoots } : {}),
    owner: shard.owner,
    deal: shard.dealId,
    at: shard.storedAtMs,
  });
}

export function decodeHeldShard(bytes: Uint8Array): HeldShard {
  const value = dagCbor.decode(bytes) as {
    v: number;
    manifest: unknown;
    shard: number;
    root: Uint8Array;
    pieces: unknown[];
    sizes: number[];
    pieceRoots?: Uint8Array[];
    owner: string;
    deal: Uint8Array | null;
    at: number;
  };
  if (value.v !== HELD_SHARD_VERSION) throw new RangeError(`held shard entry version ${value.v}`);
  const asCid = (v: unknown): CID => {
    const cid = CID.asCID(v);
    if (!cid) throw new TypeError("not a CID");
    return cid;
  };
  return {
    manifest: asCid(value.manifest),
    shardIndex: value.shard,
    root: value.root,
    pieces: value.pieces.map(asCid),
    sizes: value.sizes,
    ...(value.pieceRoots ? { pieceRoots: value.pieceRoots } : {}),
    owner: value.owner,
    dealId: value.deal,
    storedAtMs: value.at,
  };
}
