import {
  type Address,
  type Hex,
  hexToBigInt,
  isAddressEqual,
  recoverAddress,
  size,
  slice,
  type TypedDataDomain,
} from "viem";
import { PaymentSignatureError } from "./errors.ts";
import type { ContractRef } from "./types.ts";

/** EIP-712 domain names, as the contracts declare them. */
export const BANDWIDTH_DOMAIN_NAME = "Tabula BandwidthChannel";
export const LOTTERY_DOMAIN_NAME = "Tabula Lottery";
export const PAYMENT_DOMAIN_VERSION = "1";

/** The only signature encoding the contracts accept: r ‖ s ‖ v. 64-byte (EIP-2098) forms are refused. */
export const SIGNATURE_LENGTH_BYTES = 65;
/** secp256k1 group order / 2: a larger s is the malleable twin of a valid signature. */
const SECP256K1_HALF_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** Usage unit of a bandwidth channel (see IBandwidthChannel.Usage). */
export const USAGE_TYPES = {
  Usage: [
    { name: "channelId", type: "uint256" },
    { name: "sequence", type: "uint64" },
    { name: "totalBytes", type: "uint128" },
    { name: "time", type: "uint64" },
    { name: "link", type: "bytes32" },
  ],
} as const;

/** Lottery ticket (see ILottery). */
export const TICKET_TYPES = {
  Ticket: [
    { name: "lotId", type: "uint256" },
    { name: "index", type: "uint32" },
    { name: "payee", type: "address" },
    { name: "nonce", type: "uint256" },
  ],
} as const;

/** The EIP-712 domain of a payment contract named `name`. */
export function paymentDomain(name: string, contract: ContractRef): TypedDataDomain {
  return { name, version: PAYMENT_DOMAIN_VERSION, chainId: contract.chainId, verifyingContract: contract.address };
}

/** Refuses any signature the contracts would refuse: wrong length, high s, or v other than 27/28. */
export function assertCanonicalSignature(signature: Hex): void {
  const length = size(signature);
  if (length !== SIGNATURE_LENGTH_BYTES) {
    throw new PaymentSignatureError(`${length}-byte signature, only ${SIGNATURE_LENGTH_BYTES}-byte (r, s, v) accepted`);
  }
  const s = hexToBigInt(slice(signature, 32, 64));
  if (s > SECP256K1_HALF_ORDER) throw new PaymentSignatureError("high-s (malleable) signature");
  const v = hexToBigInt(slice(signature, 64, 65));
  if (v !== 27n && v !== 28n) throw new PaymentSignatureError(`v = ${v}, expected 27 or 28`);
}

/** Checks that `signature` over `digest` is canonical and by `expected`; returns nothing or throws. */
export async function assertSignedBy(digest: Hex, signature: Hex, expected: Address): Promise<void> {
  assertCanonicalSignature(signature);
  let signer: Address;
  try {
    signer = await recoverAddress({ hash: digest, signature });
  } catch (cause) {
    throw new PaymentSignatureError("unrecoverable signature", cause);
  }
  if (!isAddressEqual(signer, expected)) throw new PaymentSignatureError(`signed by ${signer}, expected ${expected}`);
}
