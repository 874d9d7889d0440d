/**
 * @packageDocumentation
 *
 * Shard fetch (`/tabula/shard-fetch/1.0.0`): a requester names pieces by CID and the host streams them back in
 * that order; the requester checks every piece against its CID before handing it over, so a host that serves a
 * bad piece fails with {@link PieceMismatchError} and can be dropped.
 *
 * Wire (length-prefixed dag-cbor maps, `t` = type): requester → `want` {cids} (at most
 * `MAX_WANT_CIDS`), [`payment`]; host → `block` {cid, data} or `missing` {cid} per wanted CID. The
 * requester keeps `WINDOW_PIECES` pieces requested ahead of what it consumed, so both sides buffer little.
 */
import type { AbortOptions, DialTarget, PeerId } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import type { ProtocolComponents } from "../common/components.ts";
import type { PieceMismatchError } from "../common/errors.ts";
import type { ReadPieceFn } from "../common/held-shard.ts";
import type { PaymentMessage } from "../common/messages.ts";
import { ShardFetchService } from "./shard-fetch.ts";

export interface ShardFetch {
  readonly protocol: string;
  /**
   * Streams the pieces in order, each verified against its CID; a piece the host lacks comes with `bytes`
   * undefined. Stopping the iteration early cancels the rest.
   */
  fetchPieces(peer: DialTarget, cids: readonly CID[], options?: FetchPiecesOptions): AsyncGenerator<FetchedPiece>;
}

export interface FetchedPiece {
  cid: CID;
  bytes: Uint8Array | undefined;
}

export interface FetchPiecesOptions extends AbortOptions {
  /** Pieces requested ahead of consumption (default `WINDOW_PIECES`). */
  windowPieces?: number;
  /** A payment message sent before the first want (the slot paid retrieval will use). */
  payment?: Omit<PaymentMessage, "type">;
}

/** What the shard-fetch protocol asks of the host role it serves; without one the service is a requester only. */
export interface ShardFetchHost {
  /** Reads a piece the host has. */
  readPiece: ReadPieceFn;
  /** Whether to serve this CID to this peer (default: any piece it has). */
  canServe?: (cid: CID, from: PeerId) => boolean | Promise<boolean>;
  onPayment?: (payment: PaymentMessage, from: PeerId) => void | Promise<void>;
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
