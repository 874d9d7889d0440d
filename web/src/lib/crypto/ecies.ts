/**
 * ECIES over X25519: wraps a file key (or any short secret) to a recipient's X25519 public key. A fresh ephemeral
 * key per message, HKDF-SHA-256 over the shared secret bound to both public keys, AES-256-GCM; since every message
 * has its own key, a zero nonce is safe. Output: ephemeral public key (32) ‖ ciphertext ‖ tag.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { concatBytes } from "../bytes.ts";
import { WrongKeyError } from "../file-errors.ts";
import { aesKey, hkdf } from "./hkdf.ts";

const X25519_KEY_BYTES = 32;
const ZERO_NONCE = new Uint8Array(12);

async function messageKey(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array, info: string) {
  return await aesKey(await hkdf(shared, concatBytes(ephemeral, recipient), `tabula/ecies/v1/${info}`));
}

export async function sealTo(
  recipientPublicKey: Uint8Array,
  plaintext: Uint8Array,
  info = "file-key",
): Promise<Uint8Array> {
  const ephemeralSecret = x25519.utils.randomSecretKey();
  const ephemeral = x25519.getPublicKey(ephemeralSecret);
  const shared = x25519.getSharedSecret(ephemeralSecret, recipientPublicKey);
  const key = await messageKey(shared, ephemeral, recipientPublicKey, info);
  const ct = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv: ZERO_NONCE },
    key,
    plaintext as Uint8Array<ArrayBuffer>,
  );
  return concatBytes(ephemeral, new Uint8Array(ct));
}

/** Opens a sealed message; WrongKeyError when it was not sealed to this key or was altered. */
export async function openSealed(secretKey: Uint8Array, sealed: Uint8Array, info = "file-key"): Promise<Uint8Array> {
  const ephemeral = sealed.subarray(0, X25519_KEY_BYTES);
  try {
    const shared = x25519.getSharedSecret(secretKey, ephemeral);
    const key = await messageKey(shared, ephemeral, x25519.getPublicKey(secretKey), info);
    const pt = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: ZERO_NONCE },
      key,
      sealed.subarray(X25519_KEY_BYTES) as Uint8Array<ArrayBuffer>,
    );
    return new Uint8Array(pt);
  } catch {
    throw new WrongKeyError();
  }
}
