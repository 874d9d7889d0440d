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
 * sig, sigma} (σ: the chain's EIP-712 storage receipt when the offer names a deal, else null). The client keeps at most {@link WINDOW_BYTES} unacknowledged, so the host buffers little on any
 * transport.
 */
import type { AbortOptions, DialTarget, PeerId } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import type { PieceRootFn } from "../audit/merkle.ts";
import type { SigningComponents } from "../common/components.ts";
import type { HeldShard, ReadPieceFn } from "../common/held-shard.ts";
import type { PaymentMessage } from "../common/messages.ts";
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
  /** For an offer with a deal id: σ, the storage receipt the market's `acceptDeals` takes (not checked here). */
  sigma: Uint8Array | null;
  host: PeerId;
  /** Bytes of pieces actually sent (pieces the host already had are skipped). */
  sentBytes: number;
}

export interface AdmitRequest {
  offer: OfferMessage;
  totalBytes: number;
  from: PeerId;
}

/** Codes a host's policy refuses a push with (`bad-deal`: the deal id names no deal this host would sign). */
export type RefusalCode = "no-space" | "not-hosting" | "bad-deal";

/**
 * What a host's policy decides about an offer: take it (and `release` what it reserved for it once the push ends,
 * stored or not), or refuse it with a code the client acts on (`not-hosting`: this tab stopped sharing storage).
 */
export type Admission = { ok: true; release?: () => void } | { ok: false; code: RefusalCode; message?: string };

/**
 * One push as the host role runs it: which pieces it lacks, their writes, and how the push ends. A push that does
 * not end in {@link HostPush.commit} is aborted, whatever stopped it, and the role undoes what it wrote.
 */
export interface HostPush {
  /** Indexes (ascending) of the offer's pieces the host lacks: the ones the client must send. */
  readonly need: readonly number[];
  /** Writes a piece the push needs, already checked against its CID. */
  put(cid: CID, bytes: Uint8Array, options?: AbortOptions): Promise<void>;
  /** Records the shard as held: from now on its pieces are kept until the host removes it. */
  commit(shard: HeldShard): Promise<void>;
  /** Ends a push that did not store its shard. */
  abort(): Promise<unknown>;
}

/** What the shard-store protocol asks of the host role it serves; without one the service is a client only. */
export interface ShardStoreHost {
  /** Quota and policy: whether to take this offer, reserving room for it. `false` refuses with `no-space`. */
  admit?: (request: AdmitRequest, options?: AbortOptions) => boolean | Admission | Promise<boolean | Admission>;
  /** Opens a push of an admitted offer: the host works out which pieces it lacks and readies their writes. */
  begin(offer: OfferMessage, options?: AbortOptions): Promise<HostPush>;
  /** Reads a piece the host has (the pieces of an offer it did not need, to check the offer's root). */
  readPiece: ReadPieceFn;
  /** Undoes what pushes cut short by a crash or a closed tab left; run before the host takes new pushes. */
  recover?: (options?: AbortOptions) => Promise<unknown>;
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
  /**
   * σ for a stored shard whose offer named a deal: the EIP-712 storage receipt over the deal's terms, sent with the
   * receipt. Without it (or for an offer without a deal) the receipt carries none.
   */
  attest?: (shard: HeldShard, options?: AbortOptions) => Promise<Uint8Array>;
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
