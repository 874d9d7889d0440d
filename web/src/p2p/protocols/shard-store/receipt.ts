import type { PrivateKey } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { sha256 } from "@noble/hashes/sha2.js";
import type { CID } from "multiformats/cid";
import { encodeMessage, type Fields } from "../common/codec.ts";
import {
  DEAL_ID_BYTES,
  MAX_SHARD_INDEX,
  PEER_ID_MAX_BYTES,
  RECEIPT_DOMAIN,
  RECEIPT_VERSION,
  ROOT_BYTES,
} from "./constants.ts";

/** What a host signs after it verified and stored every piece of a shard. */
export interface StoreReceipt {
  version: number;
  /** Peer id of the host (its key signs the receipt). */
  host: string;
  /** Peer id of the client that pushed the shard. */
  client: string;
  dealId: Uint8Array | null;
  manifest: CID;
  shardIndex: number;
  /** Merkle root of the shard, as declared by the client and later audited. */
  root: Uint8Array;
  /** sha2-256 over the concatenated bytes of the shard's piece CIDs, in order. */
  piecesDigest: Uint8Array;
  pieceCount: number;
  totalBytes: number;
  storedAtMs: number;
}

/** The digest of a shard's piece list that a receipt carries. */
export function piecesDigest(pieces: readonly CID[]): Uint8Array {
  const hash = sha256.create();
  for (const cid of pieces) hash.update(cid.bytes);
  return hash.digest();
}

export function receiptFields(receipt: StoreReceipt): Record<string, unknown> {
  return {
    v: receipt.version,
    host: receipt.host,
    client: receipt.client,
    deal: receipt.dealId,
    manifest: receipt.manifest,
    shard: receipt.shardIndex,
    root: receipt.root,
    pieces: receipt.piecesDigest,
    count: receipt.pieceCount,
    bytes: receipt.totalBytes,
    at: receipt.storedAtMs,
  };
}

export function readReceipt(fields: Fields): StoreReceipt {
  const receipt: StoreReceipt = {
    version: fields.uint("v", 255),
    host: fields.string("host", PEER_ID_MAX_BYTES),
    client: fields.string("client", PEER_ID_MAX_BYTES),
    dealId: fields.bytesOrNull("deal", { min: DEAL_ID_BYTES, max: DEAL_ID_BYTES }),
    manifest: fields.cid("manifest"),
    shardIndex: fields.uint("shard", MAX_SHARD_INDEX),
    root: fields.bytes("root", { min: ROOT_BYTES, max: ROOT_BYTES }),
    piecesDigest: fields.bytes("pieces", { min: 32, max: 32 }),
    pieceCount: fields.uint("count"),
    totalBytes: fields.uint("bytes"),
    storedAtMs: fields.uint("at"),
  };
  fields.end();
  return receipt;
}

/** The exact bytes a receipt signature covers. */
export function receiptSigningBytes(receipt: StoreReceipt): Uint8Array {
  const domain = new TextEncoder().encode(RECEIPT_DOMAIN);
  const body = encodeMessage(receiptFields(receipt));
  const bytes = new Uint8Array(domain.byteLength + body.byteLength);
  bytes.set(domain, 0);
  bytes.set(body, domain.byteLength);
  return bytes;
}

/** Signs a receipt with the host's libp2p key. */
export async function signReceipt(privateKey: PrivateKey, receipt: StoreReceipt): Promise<Uint8Array> {
  return await privateKey.sign(receiptSigningBytes(receipt));
}

/**
 * True when `signature` is the receipt's host's signature over it. The host's key comes from its peer id, so
 * only peer ids that embed their key (Ed25519, secp256k1) can sign receipts.
 */
export async function verifyReceipt(receipt: StoreReceipt, signature: Uint8Array): Promise<boolean> {
  if (receipt.version !== RECEIPT_VERSION) return false;
  let publicKey: ReturnType<typeof peerIdFromString>["publicKey"];
  try {
    publicKey = peerIdFromString(receipt.host).publicKey;
  } catch {
    return false;
  }
  if (!publicKey) return false;
  try {
    return await publicKey.verify(receiptSigningBytes(receipt), signature);
  } catch {
    return false;
  }
}
