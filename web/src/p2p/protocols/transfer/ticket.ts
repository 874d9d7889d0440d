import { peerIdFromMultihash, peerIdFromString } from "@libp2p/peer-id";
import * as Digest from "multiformats/hashes/digest";
import { concatBytes, fromBase64Url, toBase64Url } from "../../../lib/bytes.ts";
import { TransferLinkError } from "../common/errors.ts";
import { decodeTerms, encodeTerms, type PaymentTerms } from "../pay/index.ts";
import { PAID_TICKET_VERSION, SECRET_BYTES, TICKET_VERSION, TRANSFER_ID_BYTES } from "./constants.ts";

/**
 * What a share link carries (in its `#fragment`, never sent to a server): the sender's peer id, the transfer
 * id and the 32-byte secret the keys derive from, and for a paid transfer the sender's payment terms.
 */
export interface TransferTicket {
  peer: string;
  transferId: Uint8Array;
  secret: Uint8Array;
  /** What the sender asks per MB, where, and in which schemes; absent for a free transfer. */
  terms?: PaymentTerms;
}

/**
 * Base64url text of a ticket: version ‖ transfer id ‖ secret ‖ the sender's peer id multihash; a paid ticket
 * (version 2) puts the multihash's length before it and the encoded terms after it.
 */
export function encodeTicket(ticket: TransferTicket): string {
  const peer = peerIdFromString(ticket.peer).toMultihash().bytes;
  if (!ticket.terms) {
    return toBase64Url(concatBytes(new Uint8Array([TICKET_VERSION]), ticket.transferId, ticket.secret, peer));
  }
  return toBase64Url(
    concatBytes(
      new Uint8Array([PAID_TICKET_VERSION]),
      ticket.transferId,
      ticket.secret,
      new Uint8Array([peer.byteLength]),
      peer,
      encodeTerms(ticket.terms),
    ),
  );
}

/** Parses {@link encodeTicket}'s text; throws {@link TransferLinkError} on anything else. */
export function decodeTicket(text: string): TransferTicket {
  let bytes: Uint8Array;
  try {
    bytes = fromBase64Url(text.trim());
  } catch {
    throw new TransferLinkError("it is not base64url text");
  }
  const head = 1 + TRANSFER_ID_BYTES + SECRET_BYTES;
  const version = bytes[0];
  if (version !== TICKET_VERSION && version !== PAID_TICKET_VERSION) {
    throw new TransferLinkError(`version ${version} is not supported`);
  }
  const paid = version === PAID_TICKET_VERSION;
  const peerStart = paid ? head + 1 : head;
  const peerEnd = paid ? peerStart + (bytes[head] ?? 0) : bytes.byteLength;
  if (bytes.byteLength <= peerStart || peerEnd - peerStart > 128 || peerEnd > bytes.byteLength) {
    throw new TransferLinkError("it has the wrong length");
  }
  let peer: string;
  try {
    peer = peerIdFromMultihash(Digest.decode(bytes.subarray(peerStart, peerEnd))).toString();
  } catch {
    throw new TransferLinkError("the sender's peer id is malformed");
  }
  let terms: PaymentTerms | undefined;
  if (paid) {
    try {
      terms = decodeTerms(bytes.subarray(peerEnd));
    } catch {
      throw new TransferLinkError("its payment terms are malformed");
    }
  }
  return {
    peer,
    transferId: bytes.slice(1, 1 + TRANSFER_ID_BYTES),
    secret: bytes.slice(1 + TRANSFER_ID_BYTES, head),
    ...(terms ? { terms } : {}),
  };
}
