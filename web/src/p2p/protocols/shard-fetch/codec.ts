import type { CID } from "multiformats/cid";
import { checkCid, decodeMessage, encodeMessage } from "../common/codec.ts";
import { MalformedMessageError } from "../common/errors.ts";
import {
  type ErrorMessage,
  errorFields,
  PAYMENT_DATA_MAX_BYTES,
  PAYMENT_SCHEME_MAX_BYTES,
  type PaymentMessage,
  paymentFields,
  readError,
  readPayment,
} from "../common/messages.ts";
import { MAX_PIECE_BYTES, MAX_WANT_CIDS, SHARD_FETCH_PROTOCOL } from "./constants.ts";

/** The requester asks for these pieces, to be answered in this order. */
export interface WantMessage {
  type: "want";
  cids: CID[];
}

/** The requester asks which of these pieces the host holds, without their bytes (free, even on a paid host). */
export interface HaveMessage {
  type: "have";
  cids: CID[];
}

/** The host's answer to a `have`: the pieces it holds and would serve, among those asked. */
export interface HeldMessage {
  type: "held";
  cids: CID[];
}

/** One piece's bytes (the requester checks them against the CID). */
export interface BlockMessage {
  type: "block";
  cid: CID;
  bytes: Uint8Array;
}

/**
 * The requester opens a paid fetch: the payment of what it locked (as in the payment slot), and the bytes it will
 * fetch, which what it locked must cover.
 */
export interface PaidMessage {
  type: "paid";
  total: number;
  scheme: string;
  data: Uint8Array;
}

/** The requester wants nothing more and has sent its last payment; the host closes once that is in. */
export interface DoneMessage {
  type: "done";
}

/** The host does not hold (or will not serve) this piece. */
export interface MissingMessage {
  type: "missing";
  cid: CID;
}

export type RequesterMessage = WantMessage | HaveMessage | PaidMessage | PaymentMessage | DoneMessage;
export type HostMessage = BlockMessage | MissingMessage | HeldMessage | PaymentMessage | ErrorMessage;

export function encodeRequesterMessage(message: RequesterMessage): Uint8Array {
  switch (message.type) {
    case "want":
      return encodeMessage({ t: "want", cids: message.cids });
    case "have":
      return encodeMessage({ t: "have", cids: message.cids });
    case "paid":
      return encodeMessage({ t: "paid", total: message.total, scheme: message.scheme, data: message.data });
    case "payment":
      return encodeMessage(paymentFields(message));
    case "done":
      return encodeMessage({ t: "done" });
  }
}

export function encodeHostMessage(message: HostMessage): Uint8Array {
  switch (message.type) {
    case "block":
      return encodeMessage({ t: "block", cid: message.cid, data: message.bytes });
    case "missing":
      return encodeMessage({ t: "missing", cid: message.cid });
    case "held":
      return encodeMessage({ t: "held", cids: message.cids });
    case "payment":
      return encodeMessage(paymentFields(message));
    case "error":
      return encodeMessage(errorFields(message.code, message.message));
  }
}

/** Decodes what a requester sends; anything else throws {@link MalformedMessageError}. */
export function decodeRequesterMessage(bytes: Uint8Array): RequesterMessage {
  const { type, fields } = decodeMessage(SHARD_FETCH_PROTOCOL, bytes);
  switch (type) {
    case "want":
    case "have": {
      const cids = fields.list("cids", { min: 1, max: MAX_WANT_CIDS }, (value, fail) => checkCid(value, "any", fail));
      fields.end();
      return { type, cids };
    }
    case "paid": {
      const message: PaidMessage = {
        type: "paid",
        total: fields.uint("total"),
        scheme: fields.string("scheme", PAYMENT_SCHEME_MAX_BYTES),
        data: fields.bytes("data", { max: PAYMENT_DATA_MAX_BYTES }),
      };
      fields.end();
      return message;
    }
    case "payment":
      return readPayment(fields);
    case "done":
      fields.end();
      return { type: "done" };
    default:
      throw new MalformedMessageError(SHARD_FETCH_PROTOCOL, `unknown requester message type "${type}"`);
  }
}

/** Decodes what a host sends; anything else throws {@link MalformedMessageError}. */
export function decodeHostMessage(bytes: Uint8Array): HostMessage {
  const { type, fields } = decodeMessage(SHARD_FETCH_PROTOCOL, bytes);
  switch (type) {
    case "block": {
      const message: BlockMessage = {
        type: "block",
        cid: fields.cid("cid"),
        bytes: fields.bytes("data", { max: MAX_PIECE_BYTES }),
      };
      fields.end();
      return message;
    }
    case "missing": {
      const message: MissingMessage = { type: "missing", cid: fields.cid("cid") };
      fields.end();
      return message;
    }
    case "held": {
      const cids = fields.list("cids", { max: MAX_WANT_CIDS }, (value, fail) => checkCid(value, "any", fail));
      fields.end();
      return { type: "held", cids };
    }
    case "payment":
      return readPayment(fields);
    case "error":
      return readError(fields);
    default:
      throw new MalformedMessageError(SHARD_FETCH_PROTOCOL, `unknown host message type "${type}"`);
  }
}
