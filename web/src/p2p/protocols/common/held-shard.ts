import type { AbortOptions } from "@libp2p/interface";
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

/** A held shard's key: `<manifest CID>/<shard index>`. */
export function shardKey(manifest: CID, shardIndex: number): string {
  return `${manifest.toString()}/${shardIndex}`;
}

/** Reads one piece of what a host holds, or `undefined` when it does not have it. */
export type ReadPieceFn = (cid: CID, options?: AbortOptions) => Promise<Uint8Array | undefined>;
