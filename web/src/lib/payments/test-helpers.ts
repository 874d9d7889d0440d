import { concat, type Hex, hexToBigInt, numberToHex, slice } from "viem";

const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

/** The malleable twin of a valid signature: s' = n - s with v flipped (ecrecover gives the same signer). */
export function highS(signature: Hex): Hex {
  const r = slice(signature, 0, 32);
  const s = hexToBigInt(slice(signature, 32, 64));
  const v = hexToBigInt(slice(signature, 64, 65));
  return concat([r, numberToHex(SECP256K1_ORDER - s, { size: 32 }), numberToHex(v === 27n ? 28 : 27, { size: 1 })]);
}

/** The EIP-2098 64-byte form (r ‖ yParity·2^255 + s) of a 65-byte signature. */
export function compact(signature: Hex): Hex {
  const r = slice(signature, 0, 32);
  const s = hexToBigInt(slice(signature, 32, 64));
  const v = hexToBigInt(slice(signature, 64, 65));
  const vs = v === 28n ? s | (1n << 255n) : s;
  return concat([r, numberToHex(vs, { size: 32 })]);
}
