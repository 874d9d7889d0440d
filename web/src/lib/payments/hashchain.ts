/**
 * Off-chain half of the hash-chain channel (contracts/HashChainChannel.sol). The payer keeps a secret seed and
 * reveals the chain backwards from the anchor, one preimage per payment; the payee checks each with one hash and
 * keeps only the latest, which it redeems once on-chain for the number of payments it proves.
 *
 * Chain step: `h(k+1) = keccak256(channelId ‖ h(k))`, anchor `h(n)`, payment j reveals `h(n - j)`.
 */
import { keccak_256 } from "@noble/hashes/sha3.js";
import { type Address, encodeAbiParameters, type Hex, hexToBytes, keccak256 } from "viem";
import { concatBytes, equalBytes, randomBytes } from "../bytes.ts";
import { PaymentsExhaustedError, PaymentTokenRejectedError } from "./errors.ts";
import type { ContractRef } from "./types.ts";

export const HASH_BYTES = 32;
/** Longest chain a channel can hold (`HashChainChannel.MAX_UNITS`: its deepest redemption fits in a transaction). */
export const MAX_CHAIN_LENGTH = 100_000;

/** The id `HashChainChannel.open` gives a channel, binding it to chain id, contract, payer, payee and salt. */
export function hashChainChannelId(contract: ContractRef, payer: Address, payee: Address, salt: Hex): Uint8Array {
  const encoded = encodeAbiParameters(
    [{ type: "uint256" }, { type: "address" }, { type: "address" }, { type: "address" }, { type: "bytes32" }],
    [BigInt(contract.chainId), contract.address, payer, payee, salt],
  );
  return hexToBytes(keccak256(encoded));
}

/** One chain step bound to the channel. */
export function chainStep(channelId: Uint8Array, value: Uint8Array): Uint8Array {
  return keccak_256(concatBytes(channelId, value));
}

/** Applies {@link chainStep} `times` times. */
export function walkChain(channelId: Uint8Array, value: Uint8Array, times: number): Uint8Array {
  let current = value;
  for (let i = 0; i < times; i++) current = chainStep(channelId, current);
  return current;
}

/**
 * The payer's chain. Stores O(√n) values: a checkpoint every ⌈√n⌉ steps plus the segment being spent, so
 * handing out all n tokens costs about 2n hashes in total instead of n²/2.
 */
export class HashChain {
  readonly channelId: Uint8Array;
  readonly length: number;
  readonly anchor: Uint8Array;
  readonly #interval: number;
  readonly #checkpoints: Uint8Array[] = [];
  #segment: { index: number; values: Uint8Array[] } | undefined;
  #spent = 0;

  /** Builds the chain of `length` tokens from a 32-byte secret `seed`; `spent` tokens are already handed out. */
  constructor(channelId: Uint8Array, seed: Uint8Array, length: number, spent = 0) {
    if (seed.length !== HASH_BYTES || channelId.length !== HASH_BYTES) throw new RangeError("seed and id are 32 bytes");
    if (!Number.isInteger(length) || length < 1 || length > MAX_CHAIN_LENGTH) throw new RangeError("invalid length");
    this.channelId = channelId;
    this.length = length;
    this.#interval = Math.ceil(Math.sqrt(length));
    let value = seed;
    for (let i = 0; i <= length; i++) {
      if (i % this.#interval === 0) this.#checkpoints.push(value);
      if (i < length) value = chainStep(channelId, value);
    }
    this.anchor = value;
    this.#spent = spent;
  }

  /** A chain from a fresh random seed (keep the seed to rebuild it). */
  static generate(channelId: Uint8Array, length: number): { chain: HashChain; seed: Uint8Array } {
    const seed = randomBytes(HASH_BYTES);
    return { chain: new HashChain(channelId, seed, length), seed };
  }

  /** Tokens handed out so far (the depth of the last one). */
  get spent(): number {
    return this.#spent;
  }

  /** Hash values held in memory: checkpoints plus the cached segment, O(√n). */
  get storedValues(): number {
    return this.#checkpoints.length + (this.#segment?.values.length ?? 0);
  }

  /** The preimage proving `depth` payments: hashing it `depth` times gives the anchor. */
  token(depth: number): Uint8Array {
    if (!Number.isInteger(depth) || depth < 1 || depth > this.length)
      throw new RangeError(`depth ${depth} out of range`);
    return this.#valueAt(this.length - depth);
  }

  /** The next payment's token. */
  next(): { depth: number; token: Uint8Array } {
    if (this.#spent >= this.length) throw new PaymentsExhaustedError("hash-chain tokens");
    const depth = this.#spent + 1;
    const token = this.token(depth);
    this.#spent = depth;
    return { depth, token };
  }

  /** h^position(seed), from the nearest checkpoint below, caching that checkpoint's segment. */
  #valueAt(position: number): Uint8Array {
    const index = Math.floor(position / this.#interval);
    if (this.#segment?.index !== index) {
      const start = this.#checkpoints[index] as Uint8Array;
      const values = [start];
      const end = Math.min(this.#interval, this.length - index * this.#interval + 1);
      for (let i = 1; i < end; i++) values.push(chainStep(this.channelId, values[i - 1] as Uint8Array));
      this.#segment = { index, values };
    }
    return this.#segment.values[position - index * this.#interval] as Uint8Array;
  }
}

/** The payee's side: checks each token against the previous one and keeps the best one to redeem. */
export class HashChainReceiver {
  readonly channelId: Uint8Array;
  readonly units: number;
  #latest: Uint8Array;
  #depth = 0;

  constructor(channelId: Uint8Array, anchor: Uint8Array, units: number) {
    this.channelId = channelId;
    this.units = units;
    this.#latest = anchor;
  }

  /** Payments proven so far. */
  get depth(): number {
    return this.#depth;
  }

  /** Accepts the token for `depth` (by default the next one); one hash per payment. */
  accept(token: Uint8Array, depth = this.#depth + 1): void {
    if (!Number.isInteger(depth) || depth <= this.#depth || depth > this.units) {
      throw new PaymentTokenRejectedError("Hash-chain token", `depth ${depth} after ${this.#depth} of ${this.units}`);
    }
    if (!equalBytes(walkChain(this.channelId, token, depth - this.#depth), this.#latest)) {
      throw new PaymentTokenRejectedError("Hash-chain token", "it does not hash to the previous token");
    }
    this.#latest = token;
    this.#depth = depth;
  }

  /**
   * What `HashChainChannel.redeem` takes, sent by the payee or its ROLE_PAYEE operator: the latest preimage and its
   * depth.
   */
  redemption(): { preimage: Uint8Array; depth: number } {
    if (this.#depth === 0) throw new PaymentTokenRejectedError("Redemption", "no token received yet");
    return { preimage: this.#latest, depth: this.#depth };
  }
}
