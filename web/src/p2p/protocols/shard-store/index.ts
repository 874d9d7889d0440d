/**
 * @packageDocumentation
 *
 * Shard store (`/tabula/shard-store/1.0.0`): an owner's tab pushes the pieces of one shard to a host. The host
 * checks every piece against its CID before keeping it and answers with a receipt signed by its libp2p key over
 * (deal id, manifest CID, shard index, Merkle root, piece list digest, sizes).
 *
 * Wire (length-prefixed dag-cbor maps, `t` = type):
 * client → `offer` {deal, manifest, shard, root, pieces, sizes} [`payment`]… then `piece` {i, data} for each
 * needed piece, in order; host → `accept` {need} (or `error`), `ack` {i} per stored piece, `receipt` {receipt,
 * sig}. The client keeps at most {@link WINDOW_BYTES} unacknowledged, so the host buffers little on any
 * transport.
 */
import type { AbortOptions, DialTarget, PeerId } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import type { PieceRootFn } from "../audit/merkle.ts";
import type { HeldShard, ShardCatalog } from "../common/catalog.ts";
import type { SigningComponents } from "../common/components.ts";
import type { PaymentMessage } from "../common/messages.ts";
import type { PieceStore } from "../common/pieces.ts";
import type { OfferMessage } from "./codec.ts";
import type { WINDOW_BYTES } from "./constants.ts";
import type { StoreReceipt } from "./receipt.ts";
import { ShardStoreService } from "./shard-store.ts";

export interface ShardStore {
  readonly protocol: string;
  /** Pushes one shard to a host and returns its verified, signed receipt. */
  storeShard(peer: DialTarget, shard: ShardUpload, options?: StoreShardOptions): Promise<StoreShardResult>;
}

/** A shard to push: its description from the manifest and a way to read each piece when it is sent. */
export interface ShardUpload {
  manifest: CID;
  shardIndex: number;
  root: Uint8Array;
  pieces: CID[];
  sizes: number[];
  dealId?: Uint8Array | null;
  readPiece(index: number, options: AbortOptions): Promise<Uint8Array>;
}

export interface StoreShardProgress {
  storedBytes: number;
  totalBytes: number;
  storedPieces: number;
}

export interface StoreShardOptions extends AbortOptions {
  /** Called after the host acknowledged each piece (and once after `accept`, counting pieces it had). */
  onProgress?: (progress: StoreShardProgress) => void;
  /** A payment message sent right after the offer (the slot paid storage will use). */
  payment?: Omit<PaymentMessage, "type">;
  /** Bytes sent ahead of acknowledgements (default {@link WINDOW_BYTES}). */
  windowBytes?: number;
}

export interface StoreShardResult {
  receipt: StoreReceipt;
  signature: Uint8Array;
  host: PeerId;
  /** Bytes of pieces actually sent (pieces the host already had are skipped). */
  sentBytes: number;
}

export interface AdmitRequest {
  offer: OfferMessage;
  totalBytes: number;
  from: PeerId;
}

/** What a node needs to act as a host; without it the service is a client only. */
export interface ShardStoreHost {
  /** Where verified pieces go: Helia's blockstore in the tab, so shards and IPFS blocks share one store. */
  store: PieceStore;
  catalog: ShardCatalog;
  /** Quota and policy: return false to refuse the shard (the client gets `no-space`). Default: accept. */
  admit?: (request: AdmitRequest) => boolean | Promise<boolean>;
  /** Receives payment messages; this release stores for free and needs none. */
  onPayment?: (payment: PaymentMessage, from: PeerId) => void | Promise<void>;
  /**
   * Merkle subtree root of one piece. When set, the host checks the offer's root against the pieces before it
   * signs (refusing with `bad-root`), so a receipt also attests the root audits will be checked against, and it
   * keeps the piece roots so that audits only hash the challenged piece.
   */
  pieceRoot?: PieceRootFn;
  /** Called once a whole shard is stored, before the receipt is sent. */
  onStored?: (shard: HeldShard) => void;
}

export interface ShardStoreInit {
  host?: ShardStoreHost;
  timeoutMs?: number;
  maxInboundStreams?: number;
}

/** libp2p service factory: `services: { shardStore: shardStore({ host }) }`. */
export function shardStore(init: ShardStoreInit = {}): (components: SigningComponents) => ShardStore {
  return (components) => new ShardStoreService(components, init);
}

export {
  decodeClientMessage,
  decodeHostMessage,
  encodeClientMessage,
  encodeHostMessage,
  type OfferMessage,
} from "./codec.ts";
export * from "./constants.ts";
export { piecesDigest, type StoreReceipt, signReceipt, verifyReceipt } from "./receipt.ts";
export { ShardStoreService } from "./shard-store.ts";
