/** CIDs of raw blocks (pieces): CIDv1, raw codec, sha2-256. */
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { RAW_CODEC, SHA2_256_CODE } from "./constants.ts";

export function rawCidFromDigest(sha256: Uint8Array): CID {
  return CID.createV1(RAW_CODEC, Digest.create(SHA2_256_CODE, sha256));
}

export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

export async function rawCid(bytes: Uint8Array): Promise<CID> {
  return rawCidFromDigest(await sha256(bytes));
}

/** The sha2-256 digest a raw block's CID commits to. */
export function digestOf(cid: CID): Uint8Array {
  if (cid.code !== RAW_CODEC || cid.multihash.code !== SHA2_256_CODE)
    throw new TypeError(`not a raw sha2-256 CID: ${cid}`);
  return cid.multihash.digest;
}

/** A CID given as itself or as its string form (throws on a string that is not a CID). */
export function asCid(cid: CID | string): CID {
  return typeof cid === "string" ? CID.parse(cid) : cid;
}
