/**
 * A libp2p peer id as the chain keeps it: the bytes of its multihash (`peerId.toMultihash().bytes`), which a host
 * registers in the StorageMarket, and back to the id string tabs dial.
 */
import { peerIdFromMultihash, peerIdFromString } from "@libp2p/peer-id";
import * as Digest from "multiformats/hashes/digest";

/** The multihash bytes of the peer id `peer` (its string form); throws on a string that is not a peer id. */
export function peerIdBytes(peer: string): Uint8Array {
  return peerIdFromString(peer).toMultihash().bytes;
}

/** The peer id string whose multihash bytes are `bytes`; `undefined` when they are not a peer id. */
export function peerIdFromBytes(bytes: Uint8Array): string | undefined {
  try {
    return peerIdFromMultihash(Digest.decode(bytes)).toString();
  } catch {
    return undefined;
  }
}
