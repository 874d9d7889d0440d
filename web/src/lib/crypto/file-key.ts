/** A file's random key and the commitment to it that manifests carry, so a wrong key is told apart from damage. */
import { FILE_KEY_BYTES } from "../constants.ts";

const COMMITMENT_INFO = new TextEncoder().encode("tabula/file-key-commitment/v1");

export function generateFileKey(): Uint8Array {
  const key = new Uint8Array(FILE_KEY_BYTES);
  crypto.getRandomValues(key);
  return key;
}

/**
 * HKDF-SHA-256(key, salt = file id, info = "tabula/file-key-commitment/v1"): reveals nothing about the key, and
 * AES-GCM alone is not key-committing, so this is what proves that a key belongs to a manifest.
 */
export async function keyCommitment(rawKey: Uint8Array, fileId: Uint8Array): Promise<Uint8Array> {
  const ikm = await crypto.subtle.importKey("raw", rawKey as Uint8Array<ArrayBuffer>, "HKDF", false, ["deriveBits"]);
  const bits = await crypto.subtle.deriveBits(
    { name: "HKDF", hash: "SHA-256", salt: fileId as Uint8Array<ArrayBuffer>, info: COMMITMENT_INFO },
    ikm,
    256,
  );
  return new Uint8Array(bits);
}
