import type { CID } from "multiformats/cid";
import { checkCid, checkUint, decodeMessage, encodeMessage } from "../common/codec.ts";
import { MalformedMessageError } from "../common/errors.ts";
import {
  type ErrorMessage,
  errorFields,
  type PaymentMessage,
  paymentFields,
  readError,
  readPayment,
} from "../common/messages.ts";
import {
  DEAL_ID_BYTES,
  MAX_PIECE_BYTES,
  MAX_PIECES_PER_SHARD,
  MAX_SHARD_INDEX,
  ROOT_BYTES,
  SHARD_STORE_PROTOCOL,
} from "./constants.ts";
import { readReceipt, receiptFields, type StoreReceipt } from "./receipt.ts";

/** The client describes the shard it wants stored: every piece's CID and size, the Merkle root, the deal. */
export interface OfferMessage {
  type: "offer";
  dealId: Uint8Array | null;
  manifest: CID;
  shardIndex: number;
  root: Uint8Array;
  pieces: CID[];
  sizes: number[];
}

/** One piece's bytes; `index` is its position in the offer. */
export interface PieceMessage {
  type: "piece";
  index: number;
  bytes: Uint8Array;
}

/** The host takes the shard and lists (ascending) the piece indexes it does not hold yet. */
export interface AcceptMessage {
  type: "accept";
  need: number[];
}

/** The host verified and stored the piece at `index`. */
export interface AckMessage {
  type: "ack";
  index: number;
}

/**
 * The host's signed receipt, sent once every needed piece is stored; for a paid offer also σ, the EIP-712
 * storage receipt the chain's market checks (65 bytes, by the host's operator key).
 */
export interface ReceiptMessage {
  type: "receipt";
  receipt: StoreReceipt;
  signature: Uint8Array;
  sigma: Uint8Array | null;
}

export type ClientMessage = OfferMessage | PieceMessage | PaymentMessage;
export type HostMessage = AcceptMessage | AckMessage | ReceiptMessage | ErrorMessage;

/** Error codes a host sends. */
export type StoreErrorCode =
  | "no-space"
  | "not-hosting"
  | "bad-deal"
  | "piece-mismatch"
  | "bad-root"
  | "bad-request"
  | "internal";

/** Largest signature accepted (Ed25519: 64, secp256k1 DER: <= 72). */
const SIGNATURE_MAX_BYTES = 128;
/** σ is an Ethereum signature: r ‖ s ‖ v. */
export const SIGMA_BYTES = 65;

export function encodeClientMessage(message: ClientMessage): Uint8Array {
  switch (message.type) {
    case "offer":
      return encodeMessage({
        t: "offer",
        deal: message.dealId,
        manifest: message.manifest,
        shard: message.shardIndex,
        root: message.root,
        pieces: message.pieces,
        sizes: message.sizes,
      });
    case "piece":
      return encodeMessage({ t: "piece", i: message.index, data: message.bytes });
    case "payment":
      return encodeMessage(paymentFields(message));
  }
}

export function encodeHostMessage(message: HostMessage): Uint8Array {
  switch (message.type) {
    case "accept":
      return encodeMessage({ t: "accept", need: message.need });
    case "ack":
      return encodeMessage({ t: "ack", i: message.index });
    case "receipt":
      return encodeMessage({
        t: "receipt",
        receipt: receiptFields(message.receipt),
        sig: message.signature,
        sigma: message.sigma,
      });
    case "error":
      return encodeMessage(errorFields(message.code, message.message));
  }
}

/** Decodes what a client sends; anything else throws {@link MalformedMessageError}. */
export function decodeClientMessage(bytes: Uint8Array): ClientMessage {
  const { type, fields } = decodeMessage(SHARD_STORE_PROTOCOL, bytes);
  switch (type) {
    case "offer": {
      const fail = (reason: string): never => {
        throw new MalformedMessageError(SHARD_STORE_PROTOCOL, `offer ${reason}`);
      };
      const bounds = { min: 1, max: MAX_PIECES_PER_SHARD };
      const message: OfferMessage = {
        type: "offer",
        dealId: fields.bytesOrNull("deal", { min: DEAL_ID_BYTES, max: DEAL_ID_BYTES }),
        manifest: fields.cid("manifest"),
        shardIndex: fields.uint("shard", MAX_SHARD_INDEX),
        root: fields.bytes("root", { min: ROOT_BYTES, max: ROOT_BYTES }),
        pieces: fields.list("pieces", bounds, (value, failItem) => checkCid(value, "piece", failItem)),
        sizes: fields.list("sizes", bounds, (value, failItem) => {
          const size = checkUint(value, MAX_PIECE_BYTES, failItem);
          return size === 0 ? failItem("is zero") : size;
        }),
      };
      fields.end();
      if (message.pieces.length !== message.sizes.length) fail("lists a different number of pieces and sizes");
      return message;
    }
    case "piece": {
      const message: PieceMessage = {
        type: "piece",
        index: fields.uint("i", MAX_PIECES_PER_SHARD - 1),
        bytes: fields.bytes("data", { min: 1, max: MAX_PIECE_BYTES }),
      };
      fields.end();
      return message;
    }
    case "payment":
      return readPayment(fields);
    default:
      throw new MalformedMessageError(SHARD_STORE_PROTOCOL, `unknown client message type "${type}"`);
  }
}

/** Decodes what a host sends; anything else throws {@link MalformedMessageError}. */
export function decodeHostMessage(bytes: Uint8Array): HostMessage {
  const { type, fields } = decodeMessage(SHARD_STORE_PROTOCOL, bytes);
  switch (type) {
    case "accept": {
      let previous = -1;
      const need = fields.list("need", { max: MAX_PIECES_PER_SHARD }, (value, fail) => {
        const index = checkUint(value, MAX_PIECES_PER_SHARD - 1, fail);
        if (index <= previous) fail("is not in ascending order");
        previous = index;
        return index;
      });
      fields.end();
      return { type: "accept", need };
    }
    case "ack": {
      const message: AckMessage = { type: "ack", index: fields.uint("i", MAX_PIECES_PER_SHARD - 1) };
      fields.end();
      return message;
    }
    case "receipt": {
      const receipt = readReceipt(fields.map("receipt"));
      const signature = fields.bytes("sig", { min: 1, max: SIGNATURE_MAX_BYTES });
      const sigma = fields.bytesOrNull("sigma", { min: SIGMA_BYTES, max: SIGMA_BYTES });
      fields.end();
      return { type: "receipt", receipt, signature, sigma };
    }
    case "error":
      return readError(fields);
    default:
      throw new MalformedMessageError(SHARD_STORE_PROTOCOL, `unknown host message type "${type}"`);
  }
}
