/**
 * File keys kept wrapped by a key derived from a wallet signature over a fixed EIP-712 message, so the same wallet
 * unlocks them on any device (wallets sign deterministically, RFC 6979). The same signature also derives the
 * user's X25519 key pair, to which others can wrap keys (ecies.ts), and the tab's operator keys: the secp256k1
 * keys the owner authorizes on-chain to sign receipts, units and tickets without a wallet prompt, the same on
 * every device of the same wallet, a new one per generation when an old one was revoked.
 */
import { x25519 } from "@noble/curves/ed25519.js";
import { secp256k1 } from "@noble/curves/secp256k1.js";
import { concatBytes, randomBytes, toHex } from "../bytes.ts";
import { AES_GCM_NONCE_BYTES } from "../constants.ts";
import { WrongKeyError } from "../file-errors.ts";
import { aesKey, hkdf } from "./hkdf.ts";

/** The message the wallet signs to unlock the vault. No chain id: the same keys on every chain. */
export const VAULT_TYPED_DATA = {
  domain: { name: "Tabula", version: "1" },
  types: { Unlock: [{ name: "purpose", type: "string" }] },
  primaryType: "Unlock",
  message: { purpose: "Unlock my Tabula file keys. This signature costs nothing and sends no transaction." },
} as const;

const VAULT_SALT = new TextEncoder().encode("tabula/vault/v1");

export interface Vault {
  /** nonce ‖ AES-256-GCM(file key), bound to the manifest CID. */
  seal(rawKey: Uint8Array, cid: string): Promise<Uint8Array>;
  /** The file key; WrongKeyError when this vault did not seal it (another wallet) or it was altered. */
  open(sealed: Uint8Array, cid: string): Promise<Uint8Array>;
  /** X25519 key pair for receiving keys from others. */
  x25519PublicKey: Uint8Array;
  x25519SecretKey: Uint8Array;
  /** The tab's operator private key on chain `chainId`; `generation` counts the keys revoked before it. */
  operatorKey(chainId: number, generation?: number): Promise<`0x${string}`>;
}

/** Derives the vault from the wallet's signature over {@link VAULT_TYPED_DATA}. */
export async function deriveVault(signature: Uint8Array): Promise<Vault> {
  if (signature.length < 64) throw new RangeError("expected a 65-byte ECDSA signature");
  const wrapKey = await aesKey(await hkdf(signature, VAULT_SALT, "file-key-wrap"));
  const x25519SecretKey = await hkdf(signature, VAULT_SALT, "x25519");
  const encoder = new TextEncoder();
  return {
    async seal(rawKey, cid) {
      const nonce = randomBytes(AES_GCM_NONCE_BYTES);
      const ct = await crypto.subtle.encrypt(
        { name: "AES-GCM", iv: nonce as Uint8Array<ArrayBuffer>, additionalData: encoder.encode(cid) },
        wrapKey,
        rawKey as Uint8Array<ArrayBuffer>,
      );
      return concatBytes(nonce, new Uint8Array(ct));
    },
    async open(sealed, cid) {
      try {
        const pt = await crypto.subtle.decrypt(
          {
            name: "AES-GCM",
            iv: sealed.subarray(0, AES_GCM_NONCE_BYTES) as Uint8Array<ArrayBuffer>,
            additionalData: encoder.encode(cid),
          },
          wrapKey,
          sealed.subarray(AES_GCM_NONCE_BYTES) as Uint8Array<ArrayBuffer>,
        );
        return new Uint8Array(pt);
      } catch {
        throw new WrongKeyError();
      }
    },
    x25519SecretKey,
    x25519PublicKey: x25519.getPublicKey(x25519SecretKey),
    async operatorKey(chainId, generation = 0) {
      if (!Number.isSafeInteger(chainId) || chainId <= 0) throw new RangeError(`no chain id ${chainId}`);
      if (!Number.isSafeInteger(generation) || generation < 0) throw new RangeError(`no key generation ${generation}`);
      // A 32-byte HKDF output is a valid secp256k1 scalar except with probability ~2^-128; the counter covers it.
      for (let attempt = 0; ; attempt++) {
        const candidate = await hkdf(signature, VAULT_SALT, `operator/${chainId}/${generation}/${attempt}`);
        if (secp256k1.utils.isValidSecretKey(candidate)) {
          return `0x${toHex(candidate)}`;
        }
      }
    },
  };
}
