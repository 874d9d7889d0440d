/**
 * @packageDocumentation
 *
 * Shard fetch (`/tabula/shard-fetch/1.0.0`): a requester names pieces by CID and the host streams them back in
 * that order; the requester checks every piece against its CID before handing it over, so a host that serves a
 * bad piece fails with {@link PieceMismatchError} and can be dropped.
 *
 * Wire (length-prefixed dag-cbor maps, `t` = type): requester → `want` {cids} (at most
 * `MAX_WANT_CIDS`); host → `block` {cid, data} or `missing` {cid} per wanted CID. The
 * requester keeps `WINDOW_PIECES` pieces requested ahead of what it consumed, so both sides buffer little.
 *
 * `have` {cids} asks which pieces a host holds without their bytes; the host answers `held` {cids} and closes. It
 * is free on any host, so a requester finds which shard a paid host holds before it locks a payment.
 *
 * Paid retrieval: a host that asks to be paid ({@link ShardFetchHost.payment}) takes a `paid` {total, scheme,
 * data} first (what the requester locked, for the bytes it will fetch); a `want` without it is served only the
 * blocks the host gives free (a file's manifest) and answered `payment-required` at the first piece it charges for. The requester then pays as the pieces arrive (`payment`, in the scheme's messages; the host
 * may answer with `payment`), and sends `done` after its last payment; the host serves no piece beyond what it was
 * paid for plus the scheme's credit, and stops with `payment-stopped` (or `payment-refused`) when payments stop.
 */
import type { AbortOptions, DialTarget, PeerId } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import type { ProtocolComponents } from "../common/components.ts";
import type { PieceMismatchError } from "../common/errors.ts";
import type { ReadPieceFn } from "../common/held-shard.ts";
import type { PaidShare, PayerGate } from "../transfer/index.ts";
import { ShardFetchService } from "./shard-fetch.ts";

export interface ShardFetch {
  readonly protocol: string;
  /**
   * Streams the pieces in order, each verified against its CID; a piece the host lacks comes with `bytes`
   * undefined. Stopping the iteration early cancels the rest.
   */
  fetchPieces(peer: DialTarget, cids: readonly CID[], options?: FetchPiecesOptions): AsyncGenerator<FetchedPiece>;
  /** Which of `cids` (at most `MAX_WANT_CIDS`) the host holds and would serve, without their bytes. */
  holds(peer: DialTarget, cids: readonly CID[], options?: AbortOptions): Promise<CID[]>;
}

export interface FetchedPiece {
  cid: CID;
  bytes: Uint8Array | undefined;
}

export interface FetchPiecesOptions extends AbortOptions {
  /** Pieces requested ahead of consumption (default `WINDOW_PIECES`). */
  windowPieces?: number;
  /** Pays a host that asks to be paid: the gate of what was locked, and the bytes it covers. */
  payer?: { gate: PayerGate; totalBytes: number };
}

/** What the shard-fetch protocol asks of the host role it serves; without one the service is a requester only. */
export interface ShardFetchHost {
  /** Reads a piece the host has. */
  readPiece: ReadPieceFn;
  /** Whether to serve this CID to this peer (default: any piece it has). */
  canServe?: (cid: CID, from: PeerId) => boolean | Promise<boolean>;
  /** Whether the host holds a piece, without reading it (default: reads it). */
  hasPiece?: (cid: CID) => Promise<boolean>;
  /** What the host asks to be paid for what it serves, if anything (read at every fetch). */
  payment?: () => PaidShare | undefined;
  /** Blocks a paid host serves without a payment (default: none). */
  free?: (cid: CID) => boolean;
  /** Called after each piece served (for accounting and the host's view of who reads what). */
  onServed?: (cid: CID, bytes: number, from: PeerId) => void;
}

export interface ShardFetchInit {
  host?: ShardFetchHost;
  timeoutMs?: number;
  maxInboundStreams?: number;
}

/** libp2p service factory: `services: { shardFetch: shardFetch({ host }) }`. */
export function shardFetch(init: ShardFetchInit = {}): (components: ProtocolComponents) => ShardFetch {
  return (components) => new ShardFetchService(components, init);
}

export * from "./codec.ts";
export * from "./constants.ts";
export { ShardFetchService } from "./shard-fetch.ts";
export type { PieceMismatchError };
