import type { Fields } from "./codec.ts";

/** Longest error code and message a peer may send. */
export const ERROR_CODE_MAX_BYTES = 32;
export const ERROR_MESSAGE_MAX_BYTES = 256;
/** Longest payment scheme name ("hash-chain", "merkle", "lottery", …) and payment payload. */
export const PAYMENT_SCHEME_MAX_BYTES = 32;
export const PAYMENT_DATA_MAX_BYTES = 65_536;

/** An error a peer reports before closing the stream; `code` is one of the protocol's codes. */
export interface ErrorMessage {
  type: "error";
  code: string;
  message: string;
}

/**
 * A payment message (receipt, hash-chain token, Merkle token, lottery ticket) riding on a data protocol. The
 * slot is part of the wire format now so that paid storage and retrieval need no new protocol version; this
 * release passes payments to an optional hook and never requires one.
 */
export interface PaymentMessage {
  type: "payment";
  scheme: string;
  data: Uint8Array;
}

export function errorFields(code: string, message: string): Record<string, unknown> {
  return { t: "error", code, msg: message.slice(0, ERROR_MESSAGE_MAX_BYTES / 4) };
}

export function readError(fields: Fields): ErrorMessage {
  const message: ErrorMessage = {
    type: "error",
    code: fields.string("code", ERROR_CODE_MAX_BYTES),
    message: fields.string("msg", ERROR_MESSAGE_MAX_BYTES),
  };
  fields.end();
  return message;
}

export function paymentFields(payment: Omit<PaymentMessage, "type">): Record<string, unknown> {
  return { t: "payment", scheme: payment.scheme, data: payment.data };
}

export function readPayment(fields: Fields): PaymentMessage {
  const message: PaymentMessage = {
    type: "payment",
    scheme: fields.string("scheme", PAYMENT_SCHEME_MAX_BYTES),
    data: fields.bytes("data", { max: PAYMENT_DATA_MAX_BYTES }),
  };
  fields.end();
  return message;
}
