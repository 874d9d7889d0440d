import { hkdf } from "@noble/hashes/hkdf.js";
import { hmac } from "@noble/hashes/hmac.js";
import { sha256 } from "@noble/hashes/sha2.js";
import { concatBytes, u32be, u64be } from "../../../lib/bytes.ts";
import { TransferIntegrityError } from "../common/errors.ts";
import { copyBytes, equalBytes } from "../common/pieces.ts";
import { NONCE_BYTES, TAG_BYTES } from "./constants.ts";

/**
 * Keys of one transfer, derived from the link secret: AES-256-GCM for chunks and the file list, HMAC for the
 * receiver to prove it holds the link (bound to its peer id, so a proof cannot be replayed by another peer).
 * Nonces are random 96-bit values: a transfer is at most a few million chunks, far below the 2^32 limit for
 * random nonces under one key, and a resumed chunk may be re-sealed safely. The AAD binds transfer id, file
 * index and offset, so a chunk moved, swapped or replayed into another transfer fails to open.
 */
export interface TransferKeys {
  transferId: Uint8Array;
  cipher: CryptoKey;
  auth: Uint8Array;
}

const encoder = new TextEncoder();

export async function deriveKeys(secret: Uint8Array, transferId: Uint8Array): Promise<TransferKeys> {
  const cipherBytes = hkdf(sha256, secret, transferId, encoder.encode("tabula/transfer/1 cipher"), 32);
  const auth = hkdf(sha256, secret, transferId, encoder.encode("tabula/transfer/1 auth"), 32);
  const cipher = await crypto.subtle.importKey("raw", copyBytes(cipherBytes), "AES-GCM", false, ["encrypt", "decrypt"]);
  return { transferId, cipher, auth };
}

/** The receiver's proof that it holds the link, bound to its peer id. */
export function helloTag(keys: TransferKeys, receiverPeerId: string): Uint8Array {
  return hmac(sha256, keys.auth, encoder.encode(`tabula/transfer/1 hello\n${receiverPeerId}`));
}

export function checkHelloTag(keys: TransferKeys, receiverPeerId: string, tag: Uint8Array): boolean {
  return equalBytes(helloTag(keys, receiverPeerId), tag);
}

/** WebCrypto reads exactly a view's range; the cast only narrows the buffer type (never a SharedArrayBuffer here). */
function bufferSource(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return bytes.buffer instanceof ArrayBuffer ? (bytes as Uint8Array<ArrayBuffer>) : copyBytes(bytes);
}

function aad(keys: TransferKeys, kind: "meta" | "chunk", file: number, offset: number): Uint8Array {
  return concatBytes(encoder.encode(`tabula/transfer/1 ${kind}\n`), keys.transferId, u32be(file), u64be(offset));
}

async function seal(keys: TransferKeys, data: Uint8Array, additionalData: Uint8Array): Promise<Uint8Array> {
  const iv = crypto.getRandomValues(new Uint8Array(NONCE_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: copyBytes(additionalData), tagLength: TAG_BYTES * 8 },
    keys.cipher,
    bufferSource(data),
  );
  return concatBytes(iv, new Uint8Array(sealed));
}

async function open(
  keys: TransferKeys,
  sealed: Uint8Array,
  additionalData: Uint8Array,
  what: string,
): Promise<Uint8Array> {
  if (sealed.byteLength < NONCE_BYTES + TAG_BYTES) throw new TransferIntegrityError(`${what} is truncated`);
  try {
    const plain = await crypto.subtle.decrypt(
      {
        name: "AES-GCM",
        iv: copyBytes(sealed.subarray(0, NONCE_BYTES)),
        additionalData: copyBytes(additionalData),
        tagLength: TAG_BYTES * 8,
      },
      keys.cipher,
      bufferSource(sealed.subarray(NONCE_BYTES)),
    );
    return new Uint8Array(plain);
  } catch {
    throw new TransferIntegrityError(`${what} does not decrypt with the link's key`);
  }
}

export function sealChunk(keys: TransferKeys, file: number, offset: number, data: Uint8Array): Promise<Uint8Array> {
  return seal(keys, data, aad(keys, "chunk", file, offset));
}

export function openChunk(keys: TransferKeys, file: number, offset: number, sealed: Uint8Array): Promise<Uint8Array> {
  return open(keys, sealed, aad(keys, "chunk", file, offset), `the chunk of file ${file} at ${offset}`);
}

export function sealMeta(keys: TransferKeys, meta: Uint8Array): Promise<Uint8Array> {
  return seal(keys, meta, aad(keys, "meta", 0, 0));
}

export function openMeta(keys: TransferKeys, sealed: Uint8Array): Promise<Uint8Array> {
  return open(keys, sealed, aad(keys, "meta", 0, 0), "the file list");
}
