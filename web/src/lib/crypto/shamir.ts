/**
 * Splits a file key into n shares of which any t rebuild it (Shamir's scheme over GF(2^8), from the audited
 * `shamir-secret-sharing` package by Privy).
 */
import { combine, split } from "shamir-secret-sharing";

export async function splitKey(rawKey: Uint8Array, shares: number, threshold: number): Promise<Uint8Array[]> {
  return await split(rawKey, shares, threshold);
}

/** The key from at least `threshold` shares (fewer give an unrelated value: check it against the manifest). */
export async function combineKey(shares: Uint8Array[]): Promise<Uint8Array> {
  return await combine(shares);
}
