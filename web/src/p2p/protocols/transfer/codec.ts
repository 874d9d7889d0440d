import { decodeFields, decodeMessage, encodeMessage, Fields } from "../common/codec.ts";
import { MalformedMessageError } from "../common/errors.ts";
import {
  type ErrorMessage,
  errorFields,
  type PaymentMessage,
  paymentFields,
  readError,
  readPayment,
} from "../common/messages.ts";
import { MAX_TERMS_BYTES } from "../pay/index.ts";
import {
  AUTH_TAG_BYTES,
  MAX_CHUNK_BYTES,
  MAX_FILES,
  MAX_META_BYTES,
  MAX_NAME_BYTES,
  MAX_SEALED_CHUNK_BYTES,
  MAX_TYPE_BYTES,
  NONCE_BYTES,
  TAG_BYTES,
  TRANSFER_ID_BYTES,
  TRANSFER_PROTOCOL,
} from "./constants.ts";

/** A file as the receiver sees it before accepting (decrypted from the offer). */
export interface TransferFileMeta {
  name: string;
  size: number;
  type: string;
}

/** The receiver names the transfer and proves it holds the link. */
export interface HelloMessage {
  type: "hello";
  transferId: Uint8Array;
  auth: Uint8Array;
}

/** The sender's file list, sealed with the link key, its chunk size, and a paid share's encoded terms. */
export interface OfferMessage {
  type: "offer";
  meta: Uint8Array;
  chunkBytes: number;
  terms?: Uint8Array;
}

/** Start (or resume) at `position`, a byte offset into the files laid end to end. */
export interface AcceptMessage {
  type: "accept";
  position: number;
}

export interface DeclineMessage {
  type: "decline";
}

/** One sealed chunk of file `file` starting at `offset`. */
export interface ChunkMessage {
  type: "chunk";
  file: number;
  offset: number;
  sealed: Uint8Array;
}

/** Everything up to `position` is written on the receiver's side. */
export interface AckMessage {
  type: "ack";
  position: number;
}

/** The sender has sent its last chunk. */
export interface DoneMessage {
  type: "done";
}

export type ReceiverMessage = HelloMessage | AcceptMessage | DeclineMessage | AckMessage | PaymentMessage;
export type SenderMessage = OfferMessage | ChunkMessage | DoneMessage | ErrorMessage | PaymentMessage;

export function encodeReceiverMessage(message: ReceiverMessage): Uint8Array {
  switch (message.type) {
    case "hello":
      return encodeMessage({ t: "hello", id: message.transferId, auth: message.auth });
    case "accept":
      return encodeMessage({ t: "accept", pos: message.position });
    case "decline":
      return encodeMessage({ t: "decline" });
    case "ack":
      return encodeMessage({ t: "ack", pos: message.position });
    case "payment":
      return encodeMessage(paymentFields(message));
  }
}

export function encodeSenderMessage(message: SenderMessage): Uint8Array {
  switch (message.type) {
    case "offer":
      return encodeMessage({
        t: "offer",
        meta: message.meta,
        chunk: message.chunkBytes,
        ...(message.terms ? { pay: message.terms } : {}),
      });
    case "chunk":
      return encodeMessage({ t: "chunk", file: message.file, off: message.offset, data: message.sealed });
    case "done":
      return encodeMessage({ t: "done" });
    case "error":
      return encodeMessage(errorFields(message.code, message.message));
    case "payment":
      return encodeMessage(paymentFields(message));
  }
}

export function decodeReceiverMessage(bytes: Uint8Array): ReceiverMessage {
  const { type, fields } = decodeMessage(TRANSFER_PROTOCOL, bytes);
  let message: ReceiverMessage;
  switch (type) {
    case "hello":
      message = {
        type: "hello",
        transferId: fields.bytes("id", { min: TRANSFER_ID_BYTES, max: TRANSFER_ID_BYTES }),
        auth: fields.bytes("auth", { min: AUTH_TAG_BYTES, max: AUTH_TAG_BYTES }),
      };
      break;
    case "accept":
      message = { type: "accept", position: fields.uint("pos") };
      break;
    case "decline":
      message = { type: "decline" };
      break;
    case "ack":
      message = { type: "ack", position: fields.uint("pos") };
      break;
    case "payment":
      return readPayment(fields);
    default:
      throw new MalformedMessageError(TRANSFER_PROTOCOL, `unknown receiver message type "${type}"`);
  }
  fields.end();
  return message;
}

export function decodeSenderMessage(bytes: Uint8Array): SenderMessage {
  const { type, fields } = decodeMessage(TRANSFER_PROTOCOL, bytes);
  let message: SenderMessage;
  switch (type) {
    case "offer":
      message = {
        type: "offer",
        meta: fields.bytes("meta", { min: NONCE_BYTES + TAG_BYTES, max: MAX_META_BYTES }),
        chunkBytes: fields.uint("chunk", MAX_CHUNK_BYTES),
        ...(fields.has("pay") ? { terms: fields.bytes("pay", { min: 1, max: MAX_TERMS_BYTES }) } : {}),
      };
      break;
    case "chunk":
      message = {
        type: "chunk",
        file: fields.uint("file", MAX_FILES - 1),
        offset: fields.uint("off"),
        sealed: fields.bytes("data", { min: NONCE_BYTES + TAG_BYTES, max: MAX_SEALED_CHUNK_BYTES }),
      };
      break;
    case "done":
      message = { type: "done" };
      break;
    case "error":
      return readError(fields);
    case "payment":
      return readPayment(fields);
    default:
      throw new MalformedMessageError(TRANSFER_PROTOCOL, `unknown sender message type "${type}"`);
  }
  fields.end();
  return message;
}

/** The plaintext of an offer's `meta`: the file list. */
export function encodeFileList(files: readonly TransferFileMeta[]): Uint8Array {
  return encodeMessage({ files: files.map((f) => ({ name: f.name, size: f.size, type: f.type })) });
}

export function decodeFileList(bytes: Uint8Array): TransferFileMeta[] {
  const fields = decodeFields(TRANSFER_PROTOCOL, bytes, "file list");
  const files = fields.list("files", { max: MAX_FILES }, (entry, fail) => {
    let file: Fields;
    try {
      file = Fields.of(TRANSFER_PROTOCOL, entry, "file");
    } catch {
      return fail("is not a map");
    }
    const meta: TransferFileMeta = {
      name: file.string("name", MAX_NAME_BYTES),
      size: file.uint("size"),
      type: file.string("type", MAX_TYPE_BYTES),
    };
    file.end();
    return meta;
  });
  fields.end();
  return files;
}
