/**
 * AES-256-GCM of a file's segments and metadata with WebCrypto.
 *
 * Each file has its own random key, used for that one file only, so a nonce only has to be unique within the file:
 * nonce = 4-byte domain ‖ 8-byte big-endian counter, domain 0 for segment i (counter i), domain 1 for the
 * metadata (counter 0). Every segment index is used once, so no nonce can repeat under a key. The AAD of a segment is
 * file id ‖ index, so a segment moved to another position or another file fails authentication.
 */
import { concatBytes, u32be, u64be } from "../bytes.ts";
import { AES_GCM_NONCE_BYTES, AES_GCM_TAG_BYTES, FILE_KEY_BYTES } from "../constants.ts";

const SEGMENT_NONCE_DOMAIN = 0;
const METADATA_NONCE_DOMAIN = 1;
const TAG_BITS = AES_GCM_TAG_BYTES * 8;

/** Cipher parameters as written into manifests. */
export const CIPHER_PARAMETERS = {
  name: "AES-256-GCM",
  nonce: "u32be(domain) || u64be(counter); segments domain 0 counter index, metadata domain 1 counter 0",
  aad: "file id || u64be(segment index)",
  tagBytes: AES_GCM_TAG_BYTES,
} as const;

export function nonceFor(domain: number, counter: number): Uint8Array<ArrayBuffer> {
  const nonce = concatBytes(u32be(domain), u64be(counter));
  if (nonce.length !== AES_GCM_NONCE_BYTES) throw new Error("nonce length");
  return nonce as Uint8Array<ArrayBuffer>;
}

export function segmentNonce(index: number): Uint8Array<ArrayBuffer> {
  return nonceFor(SEGMENT_NONCE_DOMAIN, index);
}

export function segmentAad(fileId: Uint8Array, index: number): Uint8Array<ArrayBuffer> {
  return concatBytes(fileId, u64be(index)) as Uint8Array<ArrayBuffer>;
}

/** A WebCrypto key for a raw 32-byte file key; not extractable, it can be sent to workers. */
export async function importFileKey(raw: Uint8Array): Promise<CryptoKey> {
  if (raw.length !== FILE_KEY_BYTES) throw new RangeError(`a file key has ${FILE_KEY_BYTES} bytes`);
  return await crypto.subtle.importKey("raw", raw as Uint8Array<ArrayBuffer>, "AES-GCM", false, ["encrypt", "decrypt"]);
}

/** Ciphertext ‖ tag of segment `index` (plaintext length + 16 bytes). */
export async function encryptSegment(
  key: CryptoKey,
  fileId: Uint8Array,
  index: number,
  plaintext: BufferSource,
): Promise<ArrayBuffer> {
  return await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: segmentNonce(index), additionalData: segmentAad(fileId, index), tagLength: TAG_BITS },
    key,
    plaintext,
  );
}

/** Plaintext of segment `index`; rejects (OperationError) when anything was altered. */
export async function decryptSegment(
  key: CryptoKey,
  fileId: Uint8Array,
  index: number,
  ciphertext: BufferSource,
): Promise<ArrayBuffer> {
  return await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: segmentNonce(index), additionalData: segmentAad(fileId, index), tagLength: TAG_BITS },
    key,
    ciphertext,
  );
}

/** Encrypts the file's metadata; `aad` binds it to the rest of the manifest. */
export async function encryptMetadata(key: CryptoKey, plaintext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  const ct = await crypto.subtle.encrypt(
    {
      name: "AES-GCM",
      iv: nonceFor(METADATA_NONCE_DOMAIN, 0),
      additionalData: aad as Uint8Array<ArrayBuffer>,
      tagLength: TAG_BITS,
    },
    key,
    plaintext as Uint8Array<ArrayBuffer>,
  );
  return new Uint8Array(ct);
}

export async function decryptMetadata(key: CryptoKey, ciphertext: Uint8Array, aad: Uint8Array): Promise<Uint8Array> {
  const pt = await crypto.subtle.decrypt(
    {
      name: "AES-GCM",
      iv: nonceFor(METADATA_NONCE_DOMAIN, 0),
      additionalData: aad as Uint8Array<ArrayBuffer>,
      tagLength: TAG_BITS,
    },
    key,
    ciphertext as Uint8Array<ArrayBuffer>,
  );
  return new Uint8Array(pt);
}
