/**
 * @packageDocumentation
 *
 * Audit (`/tabula/audit/1.0.0`): an owner challenges a host for leaf i of a shard it should hold; the host
 * answers the leaf's bytes and its Merkle path, which the owner checks against the shard root in the manifest.
 * The tree is the data path's (lib/merkle/tree.ts), the one the storage contract verifies on chain.
 *
 * Wire (length-prefixed dag-cbor maps, `t` = type): auditor → `challenge` {manifest, shard, leaf}… (several
 * per stream); host → `proof` {leaf, path} or `error` {code: "not-held"} per challenge, in order.
 */
import type { AbortOptions, DialTarget } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import type { ProtocolComponents } from "../common/components.ts";
import type { HeldShard, ReadPieceFn } from "../common/held-shard.ts";
import { AuditService } from "./audit.ts";
import type { PieceRootFn } from "./merkle.ts";

export interface Audit {
  readonly protocol: string;
  /** Challenges one host with up to 64 leaves over one stream; resolves per challenge, throws on stream failure. */
  audit(peer: DialTarget, challenges: readonly AuditChallenge[], options?: AuditOptions): Promise<AuditResult[]>;
}

export interface AuditChallenge {
  manifest: CID;
  shardIndex: number;
  leafIndex: number;
  /** The shard's Merkle root from the manifest (never sent; the answer is checked against it). */
  root: Uint8Array;
}

export type AuditResult =
  | { challenge: AuditChallenge; ok: true; latencyMs: number }
  | { challenge: AuditChallenge; ok: false; reason: "not-held" | "bad-proof" | "refused"; latencyMs: number };

export interface AuditOptions extends AbortOptions {}

/** What the audit protocol asks of the host role it serves; without one the service is an auditor only. */
export interface AuditHost {
  /** The shard held under this manifest and index (its pieces, sizes and piece roots), if any. */
  held(manifest: CID, shardIndex: number, options?: AbortOptions): Promise<HeldShard | undefined>;
  /** Reads a piece the host has. */
  readPiece: ReadPieceFn;
  /** Piece subtree roots, for shards stored without them (default: pure TypeScript keccak). */
  pieceRoot?: PieceRootFn;
}

export interface AuditInit {
  host?: AuditHost;
  timeoutMs?: number;
}

/** libp2p service factory: `services: { audit: audit({ host }) }`. */
export function audit(init: AuditInit = {}): (components: ProtocolComponents) => Audit {
  return (components) => new AuditService(components, init);
}

export { AuditService } from "./audit.ts";
export * from "./codec.ts";
export * from "./constants.ts";
export * from "./held-proof.ts";
export * from "./merkle.ts";
