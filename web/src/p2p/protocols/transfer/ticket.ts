import { peerIdFromMultihash, peerIdFromString } from "@libp2p/peer-id";
import * as Digest from "multiformats/hashes/digest";
import { concatBytes, fromBase64Url, toBase64Url } from "../../../lib/bytes.ts";
import { TransferLinkError } from "../common/errors.ts";
import { SECRET_BYTES, TICKET_VERSION, TRANSFER_ID_BYTES } from "./constants.ts";

/**
 * What a share link carries (in its `#fragment`, never sent to a server): the sender's peer id, the transfer
 * id and the 32-byte secret the keys derive from.
 */
export interface TransferTicket {
  peer: string;
  transferId: Uint8Array;
  secret: Uint8Array;
}

/** Base64url text of a ticket: version ‖ transfer id ‖ secret ‖ the sender's peer id multihash. */
export function encodeTicket(ticket: TransferTicket): string {
  const peer = peerIdFromString(ticket.peer).toMultihash().bytes;
  return toBase64Url(concatBytes(new Uint8Array([TICKET_VERSION]), ticket.transferId, ticket.secret, peer));
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
  if (bytes.byteLength <= head || bytes.byteLength > head + 128) throw new TransferLinkError("it has the wrong length");
  if (bytes[0] !== TICKET_VERSION) throw new TransferLinkError(`version ${bytes[0]} is not supported`);
  let peer: string;
  try {
    peer = peerIdFromMultihash(Digest.decode(bytes.subarray(head))).toString();
  } catch {
    throw new TransferLinkError("the sender's peer id is malformed");
  }
  return {
    peer,
    transferId: bytes.slice(1, 1 + TRANSFER_ID_BYTES),
    secret: bytes.slice(1 + TRANSFER_ID_BYTES, head),
  };
}
