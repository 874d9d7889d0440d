/**
 * @packageDocumentation
 *
 * Payment messages (version 1) that ride beside the bytes they pay for, inside a data protocol's `payment`
 * slot (`{t: "payment", scheme, data}`): the payer names what it locked, then pays as the bytes arrive, and the
 * payee answers each payment. Every message is a small dag-cbor map with a version `v` and a type `t`, checked
 * field by field; a message of another version or scheme is refused by name.
 *
 * Bandwidth channel (`scheme: "bandwidth"`): payer → `open` {ch} once (the channel it opened on-chain); payer →
 * `unit` {ch, seq, n, time, link, sig} for the bytes it received and verified; payee → `sign` {seq, sig}, its
 * countersignature of that unit.
 *
 * Hash chain (`scheme: "hash-chain"`): payer → `open` {ch} once (the 32-byte id of the chain it locked); payer →
 * `token` {d, p}, the preimage `p` at depth `d`, for the MB it received and verified; the payee answers nothing.
 *
 * Merkle tokens (`scheme: "merkle"`): payer → `open` {ch} once (the 32-byte id of the channel it funded); payer →
 * `tokens` {ts: [[index, treeIndex, proof]…]}, the tokens for the MB it received and verified, each worth the
 * price of one MB and bound to the payee (the payee rebuilds each leaf from what it knows and checks the proof);
 * the payee answers nothing.
 *
 * Lottery (`scheme: "lottery"`): payer → `open` {lot} once (the lot it funded, or one it funds still, that covers
 * the payee); payer → `tickets` {ts: [[index, nonce, sig]…]}, one ticket per MB it received and verified, each
 * signed by the lot's key for this payee; the payee answers nothing.
 */
import type { Address, Hex } from "viem";
import { bytesToHex, getAddress, hexToBigInt, hexToBytes, numberToHex } from "viem";
import type { SignedUsage } from "../../../lib/payments/bandwidth.ts";
import { checkBytes, checkUint, decodeFields, encodeMessage, type Fields } from "../common/codec.ts";
import { MalformedMessageError } from "../common/errors.ts";

/** Version of the payment messages and of the terms a link or an announcement carries. */
export const PAY_VERSION = 1;
export const PAY_PROTOCOL = "/tabula/pay/1.0.0";
/** The schemes, by the names the wire uses. */
export const PAYMENT_SCHEMES = ["bandwidth", "hash-chain", "merkle", "lottery"] as const;
export type PaymentScheme = (typeof PAYMENT_SCHEMES)[number];
/** Largest encoded terms. */
export const MAX_TERMS_BYTES = 256;
const SIGNATURE_BYTES = 65;

/** What a payee asks: the chain and address it is paid at, its price per MB (10^6 bytes), the schemes it takes. */
export interface PaymentTerms {
  chainId: number;
  payee: Address;
  /** Token base units per MB. */
  pricePerMB: bigint;
  schemes: PaymentScheme[];
}

export function encodeTerms(terms: PaymentTerms): Uint8Array {
  return encodeMessage({
    v: PAY_VERSION,
    c: terms.chainId,
    to: hexToBytes(terms.payee),
    p: terms.pricePerMB,
    s: terms.schemes,
  });
}

export function decodeTerms(bytes: Uint8Array): PaymentTerms {
  if (bytes.byteLength > MAX_TERMS_BYTES) throw new MalformedMessageError(PAY_PROTOCOL, "terms are too long");
  const fields = decodeFields(PAY_PROTOCOL, bytes, "terms");
  checkVersion(fields);
  const terms: PaymentTerms = {
    chainId: fields.uint("c"),
    payee: getAddress(bytesToHex(fields.bytes("to", { min: 20, max: 20 }))),
    pricePerMB: fields.bigUint("p"),
    schemes: fields.list("s", { min: 1, max: PAYMENT_SCHEMES.length }, (value, fail) => {
      if (!PAYMENT_SCHEMES.includes(value as PaymentScheme)) fail("is not a payment scheme");
      return value as PaymentScheme;
    }),
  };
  fields.end();
  if (terms.pricePerMB === 0n) throw new MalformedMessageError(PAY_PROTOCOL, "a paid link's price must not be 0");
  return terms;
}

/**
 * The payer names the channel it opened (or reuses) for these bytes. A route's upstream leg carries `proof`: the
 * channel's payer key's signature of the route (see route-proof), so that only its payer can have a proxy carry it.
 */
export interface ChannelOpenMessage {
  type: "open";
  channelId: bigint;
  proof?: Hex;
}

/** The payer's unit for the bytes it received and verified. */
export interface UnitMessage {
  type: "unit";
  unit: SignedUsage;
}

/** The payee's countersignature of the unit at `sequence`. */
export interface CountersignMessage {
  type: "sign";
  sequence: bigint;
  signature: Hex;
}

export type BandwidthMessage = ChannelOpenMessage | UnitMessage | CountersignMessage;

export function encodeBandwidthMessage(message: BandwidthMessage): Uint8Array {
  switch (message.type) {
    case "open":
      return encodeMessage({
        v: PAY_VERSION,
        t: "open",
        ch: message.channelId,
        ...(message.proof ? { proof: hexToBytes(message.proof) } : {}),
      });
    case "unit": {
      const { usage, signature } = message.unit;
      return encodeMessage({
        v: PAY_VERSION,
        t: "unit",
        ch: usage.channelId,
        seq: usage.sequence,
        n: usage.totalBytes,
        time: usage.time,
        link: hexToBytes(usage.link),
        sig: hexToBytes(signature),
      });
    }
    case "sign":
      return encodeMessage({ v: PAY_VERSION, t: "sign", seq: message.sequence, sig: hexToBytes(message.signature) });
  }
}

export function decodeBandwidthMessage(bytes: Uint8Array): BandwidthMessage {
  const fields = decodeFields(PAY_PROTOCOL, bytes, "payment");
  checkVersion(fields);
  const type = fields.string("t", 8);
  let message: BandwidthMessage;
  switch (type) {
    case "open":
      message = {
        type: "open",
        channelId: fields.bigUint("ch"),
        ...(fields.has("proof")
          ? { proof: bytesToHex(fields.bytes("proof", { min: SIGNATURE_BYTES, max: SIGNATURE_BYTES })) }
          : {}),
      };
      break;
    case "unit":
      message = {
        type: "unit",
        unit: {
          usage: {
            channelId: fields.bigUint("ch"),
            sequence: fields.bigUint("seq"),
            totalBytes: fields.bigUint("n"),
            time: fields.bigUint("time"),
            link: bytesToHex(fields.bytes("link", { min: 32, max: 32 })),
          },
          signature: bytesToHex(fields.bytes("sig", { min: SIGNATURE_BYTES, max: SIGNATURE_BYTES })),
        },
      };
      break;
    case "sign":
      message = {
        type: "sign",
        sequence: fields.bigUint("seq"),
        signature: bytesToHex(fields.bytes("sig", { min: SIGNATURE_BYTES, max: SIGNATURE_BYTES })),
      };
      break;
    default:
      throw new MalformedMessageError(PAY_PROTOCOL, `unknown bandwidth message type "${type}"`);
  }
  fields.end();
  return message;
}

function checkVersion(fields: Fields): void {
  const version = fields.uint("v");
  if (version !== PAY_VERSION) {
    throw new MalformedMessageError(PAY_PROTOCOL, `payment version ${version} is not supported (${PAY_VERSION} is)`);
  }
}

/** The payer names the hash chain it locked for these bytes. */
export interface HashChainOpenMessage {
  type: "open";
  channelId: Hex;
}

/** The preimage at `depth`: it pays `depth` units in all. */
export interface HashChainTokenMessage {
  type: "token";
  depth: number;
  preimage: Hex;
}

export type HashChainMessage = HashChainOpenMessage | HashChainTokenMessage;

export function encodeHashChainMessage(message: HashChainMessage): Uint8Array {
  switch (message.type) {
    case "open":
      return encodeMessage({ v: PAY_VERSION, t: "open", ch: hexToBytes(message.channelId) });
    case "token":
      return encodeMessage({ v: PAY_VERSION, t: "token", d: message.depth, p: hexToBytes(message.preimage) });
  }
}

export function decodeHashChainMessage(bytes: Uint8Array): HashChainMessage {
  const fields = decodeFields(PAY_PROTOCOL, bytes, "payment");
  checkVersion(fields);
  const type = fields.string("t", 8);
  let message: HashChainMessage;
  switch (type) {
    case "open":
      message = { type: "open", channelId: bytesToHex(fields.bytes("ch", { min: 32, max: 32 })) };
      break;
    case "token":
      message = {
        type: "token",
        depth: fields.uint("d"),
        preimage: bytesToHex(fields.bytes("p", { min: 32, max: 32 })),
      };
      break;
    default:
      throw new MalformedMessageError(PAY_PROTOCOL, `unknown hash-chain message type "${type}"`);
  }
  fields.end();
  return message;
}

/** Most Merkle tokens in one message, and longest proof (a tree of up to 2^20 tokens). */
export const MAX_MERKLE_TOKENS_PER_MESSAGE = 64;
export const MAX_MERKLE_PROOF_NODES = 20;

/** The payer names the Merkle channel it funded for these bytes. */
export interface MerkleOpenMessage {
  type: "open";
  channelId: Hex;
}

/** One token as it travels: its index in the payer's numbering, its position in the tree, and its proof. */
export interface WireMerkleToken {
  index: number;
  treeIndex: number;
  proof: Hex[];
}

/** Tokens paying for MB the payer received. */
export interface MerkleTokensMessage {
  type: "tokens";
  tokens: WireMerkleToken[];
}

export type MerkleMessage = MerkleOpenMessage | MerkleTokensMessage;

export function encodeMerkleMessage(message: MerkleMessage): Uint8Array {
  switch (message.type) {
    case "open":
      return encodeMessage({ v: PAY_VERSION, t: "open", ch: hexToBytes(message.channelId) });
    case "tokens":
      return encodeMessage({
        v: PAY_VERSION,
        t: "tokens",
        ts: message.tokens.map((t) => [t.index, t.treeIndex, t.proof.map((node) => hexToBytes(node))]),
      });
  }
}

export function decodeMerkleMessage(bytes: Uint8Array): MerkleMessage {
  const fields = decodeFields(PAY_PROTOCOL, bytes, "payment");
  checkVersion(fields);
  const type = fields.string("t", 8);
  let message: MerkleMessage;
  switch (type) {
    case "open":
      message = { type: "open", channelId: bytesToHex(fields.bytes("ch", { min: 32, max: 32 })) };
      break;
    case "tokens":
      message = {
        type: "tokens",
        tokens: fields.list("ts", { min: 1, max: MAX_MERKLE_TOKENS_PER_MESSAGE }, (value, fail) => {
          if (!Array.isArray(value) || value.length !== 3) fail("is not [index, treeIndex, proof]");
          const [index, treeIndex, proof] = value as unknown[];
          if (!Array.isArray(proof) || proof.length > MAX_MERKLE_PROOF_NODES) fail("has no proof of a known size");
          const nodes = proof as unknown[];
          return {
            index: checkUint(index, Number.MAX_SAFE_INTEGER, fail),
            treeIndex: checkUint(treeIndex, 2 ** (MAX_MERKLE_PROOF_NODES + 1), fail),
            proof: nodes.map((node) => bytesToHex(checkBytes(node, { min: 32, max: 32 }, fail))),
          };
        }),
      };
      break;
    default:
      throw new MalformedMessageError(PAY_PROTOCOL, `unknown Merkle message type "${type}"`);
  }
  fields.end();
  return message;
}

/** Most lottery tickets in one message. */
export const MAX_LOTTERY_TICKETS_PER_MESSAGE = 64;

/** The payer names the lottery lot its tickets are drawn from. */
export interface LotteryOpenMessage {
  type: "open";
  lotId: bigint;
}

/** One ticket as it travels: the lot and payee are known to both sides. */
export interface WireTicket {
  index: number;
  nonce: bigint;
  signature: Hex;
}

/** Tickets paying for MB the payer received. */
export interface LotteryTicketsMessage {
  type: "tickets";
  tickets: WireTicket[];
}

export type LotteryMessage = LotteryOpenMessage | LotteryTicketsMessage;

export function encodeLotteryMessage(message: LotteryMessage): Uint8Array {
  switch (message.type) {
    case "open":
      return encodeMessage({ v: PAY_VERSION, t: "open", lot: message.lotId });
    case "tickets":
      return encodeMessage({
        v: PAY_VERSION,
        t: "tickets",
        ts: message.tickets.map((t) => [
          t.index,
          hexToBytes(numberToHex(t.nonce, { size: 32 })),
          hexToBytes(t.signature),
        ]),
      });
  }
}

export function decodeLotteryMessage(bytes: Uint8Array): LotteryMessage {
  const fields = decodeFields(PAY_PROTOCOL, bytes, "payment");
  checkVersion(fields);
  const type = fields.string("t", 8);
  let message: LotteryMessage;
  switch (type) {
    case "open":
      message = { type: "open", lotId: fields.bigUint("lot") };
      break;
    case "tickets":
      message = {
        type: "tickets",
        tickets: fields.list("ts", { min: 1, max: MAX_LOTTERY_TICKETS_PER_MESSAGE }, (value, fail) => {
          if (!Array.isArray(value) || value.length !== 3) fail("is not [index, nonce, signature]");
          const [index, nonce, signature] = value as unknown[];
          return {
            index: checkUint(index, 2 ** 32 - 1, fail),
            nonce: hexToBigInt(bytesToHex(checkBytes(nonce, { min: 32, max: 32 }, fail))),
            signature: bytesToHex(checkBytes(signature, { min: SIGNATURE_BYTES, max: SIGNATURE_BYTES }, fail)),
          };
        }),
      };
      break;
    default:
      throw new MalformedMessageError(PAY_PROTOCOL, `unknown lottery message type "${type}"`);
  }
  fields.end();
  return message;
}
