import * as dagCbor from "@ipld/dag-cbor";
import { CID } from "multiformats/cid";
import { MalformedMessageError } from "./errors.ts";

/** Multicodec of raw blocks (every piece is one). */
export const RAW_CODE = 0x55;
/** Multihash code of sha2-256, the only hash pieces and manifests use. */
export const SHA2_256_CODE = 0x12;
export const SHA2_256_BYTES = 32;

/** Encodes a message map as dag-cbor (deterministic: sorted keys, shortest ints). */
export function encodeMessage(message: Record<string, unknown>): Uint8Array {
  return dagCbor.encode(message);
}

/**
 * Decodes a dag-cbor message and returns its fields, with its type tag `t` already read. Anything that is not a
 * map with a short string `t` throws {@link MalformedMessageError}.
 */
export function decodeMessage(protocol: string, bytes: Uint8Array): { type: string; fields: Fields } {
  const fields = decodeFields(protocol, bytes, "message");
  return { type: fields.string("t", 32), fields };
}

/** Decodes a dag-cbor map (a message, or a sealed structure once opened). */
export function decodeFields(protocol: string, bytes: Uint8Array, where: string): Fields {
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch (cause) {
    throw new MalformedMessageError(protocol, `${where} is not dag-cbor`, { cause });
  }
  return Fields.of(protocol, value, where);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || value instanceof Uint8Array) return false;
  if (CID.asCID(value) !== null) return false;
  return Object.getPrototypeOf(value) === Object.prototype;
}

/**
 * Strict reader of one decoded map: each getter checks type and bounds, and {@link Fields.end} rejects keys
 * nobody read, so a message carries exactly the fields of its type.
 */
export class Fields {
  readonly #protocol: string;
  readonly #where: string;
  readonly #value: Record<string, unknown>;
  readonly #read = new Set<string>();

  private constructor(protocol: string, value: Record<string, unknown>, where: string) {
    this.#protocol = protocol;
    this.#value = value;
    this.#where = where;
  }

  static of(protocol: string, value: unknown, where: string): Fields {
    if (!isPlainObject(value)) throw new MalformedMessageError(protocol, `${where} is not a map`);
    return new Fields(protocol, value, where);
  }

  #fail(key: string, reason: string): never {
    throw new MalformedMessageError(this.#protocol, `${this.#where}.${key} ${reason}`);
  }

  #get(key: string): unknown {
    this.#read.add(key);
    if (!Object.hasOwn(this.#value, key)) this.#fail(key, "is missing");
    return this.#value[key];
  }

  has(key: string): boolean {
    return Object.hasOwn(this.#value, key);
  }

  bytes(key: string, bounds: { min?: number; max: number }): Uint8Array {
    return checkBytes(this.#get(key), bounds, (reason) => this.#fail(key, reason));
  }

  bytesOrNull(key: string, bounds: { min?: number; max: number }): Uint8Array | null {
    const value = this.#get(key);
    return value === null ? null : checkBytes(value, bounds, (reason) => this.#fail(key, reason));
  }

  uint(key: string, max: number = Number.MAX_SAFE_INTEGER): number {
    return checkUint(this.#get(key), max, (reason) => this.#fail(key, reason));
  }

  /** An unsigned integer of up to 64 bits (dag-cbor gives a bigint beyond 2^53). */
  bigUint(key: string): bigint {
    const value = this.#get(key);
    if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return BigInt(value);
    if (typeof value === "bigint" && value >= 0n && value < 2n ** 64n) return value;
    this.#fail(key, "is not an unsigned 64-bit integer");
  }

  string(key: string, maxBytes: number): string {
    return checkString(this.#get(key), maxBytes, (reason) => this.#fail(key, reason));
  }

  cid(key: string, kind: CidKind = "any"): CID {
    return checkCid(this.#get(key), kind, (reason) => this.#fail(key, reason));
  }

  list<T>(key: string, bounds: { min?: number; max: number }, item: (value: unknown, fail: Fail) => T): T[] {
    const value = this.#get(key);
    if (!Array.isArray(value)) this.#fail(key, "is not a list");
    if (value.length > bounds.max) this.#fail(key, `has more than ${bounds.max} items`);
    if (value.length < (bounds.min ?? 0)) this.#fail(key, `has fewer than ${bounds.min} items`);
    return value.map((entry, index) => item(entry, (reason) => this.#fail(`${key}[${index}]`, reason)));
  }

  map(key: string): Fields {
    return Fields.of(this.#protocol, this.#get(key), `${this.#where}.${key}`);
  }

  /** Rejects keys that no getter read. */
  end(): void {
    for (const key of Object.keys(this.#value)) {
      if (!this.#read.has(key)) this.#fail(key, "is not a field of this message");
    }
  }
}

export type Fail = (reason: string) => never;
/** `piece`: CIDv1, raw, sha2-256 (what the data path makes); `any`: CIDv1 with a sha2-256 digest. */
export type CidKind = "piece" | "any";

export function checkBytes(value: unknown, bounds: { min?: number; max: number }, fail: Fail): Uint8Array {
  if (!(value instanceof Uint8Array)) fail("is not bytes");
  if (value.byteLength > bounds.max) fail(`is longer than ${bounds.max} bytes`);
  if (value.byteLength < (bounds.min ?? 0)) fail(`is shorter than ${bounds.min} bytes`);
  return value;
}

export function checkUint(value: unknown, max: number, fail: Fail): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) fail("is not an unsigned integer");
  if (value > max) fail(`is larger than ${max}`);
  return value;
}

export function checkString(value: unknown, maxBytes: number, fail: Fail): string {
  if (typeof value !== "string") fail("is not a string");
  // UTF-8 length is at most 3 bytes per UTF-16 code unit; only measure when it could exceed the bound.
  if (value.length * 3 > maxBytes && new TextEncoder().encode(value).byteLength > maxBytes) {
    fail(`is longer than ${maxBytes} bytes`);
  }
  return value;
}

export function checkCid(value: unknown, kind: CidKind, fail: Fail): CID {
  const cid = CID.asCID(value);
  if (cid === null) fail("is not a CID");
  if (cid.version !== 1) fail("is not a CIDv1");
  if (cid.multihash.code !== SHA2_256_CODE || cid.multihash.digest.byteLength !== SHA2_256_BYTES) {
    fail("is not a sha2-256 CID");
  }
  if (kind === "piece" && cid.code !== RAW_CODE) fail("is not a raw-block CID");
  return cid;
}
