/**
 * The payee's side of a paid transfer over a hash chain: it admits a receiver's chain once the chain shows it pays
 * this owner the asked price per MB, holds a unit for every MB of the transfer and leaves time to redeem; it then
 * lets bytes go only up to the MB the payer's preimages proved plus the credit, and checks each preimage with a
 * hash or two against the last one. It answers nothing: the latest preimage is what it redeems, once.
 */
import { type Address, bytesToHex, type Hex, hexToBigInt, hexToBytes, isAddressEqual } from "viem";
import { getBlock } from "viem/actions";
import type { TabulaClient } from "../../chain/client.ts";
import { getHashChainChannel, type HashChainChannelInfo } from "../../chain/hashchain/channel.ts";
import { HashChainReceiver, MAX_CHAIN_LENGTH } from "../../lib/payments/hashchain.ts";
import { PaymentRefusedError, type PaymentStoppedError } from "../../p2p/protocols/common/errors.ts";
import { decodeHashChainMessage, type PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import type { PaidShare, PayeeGate, Payment } from "../../p2p/protocols/transfer/index.ts";
import { PAYMENT_TIMEOUT_MS } from "../../p2p/protocols/transfer/index.ts";
import { bytesPaid, unitsFor } from "./cost.ts";
import { paymentMessage } from "./payment-message.ts";
import type { PayeeView } from "./types.ts";
import { type UnitSession, unitGate, unitSession } from "./unit-gate.ts";

/** Least time a chain must have left when admitted, so the payee can redeem after the transfer (seconds). */
export const MIN_REDEEM_SECONDS = 60n * 60n;

/** One hash chain as the payee sees it, live, with the preimage that redeems it. */
export interface HashChainPayeeChannel extends PayeeView {
  scheme: "hash-chain";
  id: Hex;
  expiresAt: bigint;
  /** The latest preimage and its depth (none before the first payment). */
  redemption?: { preimage: Hex; depth: number };
}

export interface HashChainPayeeParts {
  reader: TabulaClient;
  /** The owner the chain must pay. */
  owner: Address;
  terms: PaymentTerms;
  /** Whether this tab may take payments on chain `id` (no other transfer of it was paid on it). */
  claim: (id: bigint) => boolean;
  timeoutMs?: number;
  onChange?: (channel: HashChainPayeeChannel) => void;
  onStopped?: (error: PaymentStoppedError, channelId: bigint) => void;
}

interface Held extends UnitSession {
  id: Hex;
  /** The peer whose sessions the chain pays for. */
  peer: string;
  info: HashChainChannelInfo;
  receiver: HashChainReceiver;
}

export class HashChainPayee implements PaidShare {
  readonly terms: PaymentTerms;
  readonly #parts: HashChainPayeeParts;
  readonly #channels = new Map<Hex, Held>();

  constructor(parts: HashChainPayeeParts) {
    if (!parts.reader.chain.contracts.HashChainChannel) throw new Error("this chain has no HashChainChannel");
    this.#parts = parts;
    this.terms = parts.terms;
  }

  get channels(): HashChainPayeeChannel[] {
    return [...this.#channels.values()].map((held) => this.#view(held));
  }

  /** Lets go of chain `channelId` once it is redeemed: its records keep what a redemption needs. */
  forget(channelId: bigint): void {
    for (const [id, held] of this.#channels) if (BigInt(held.id) === channelId) this.#channels.delete(id);
  }

  async admit(
    payment: Payment,
    session: { receiver: string; totalBytes: number; position: number; signal: AbortSignal },
  ): Promise<PayeeGate> {
    if (payment.scheme !== "hash-chain" || !this.terms.schemes.includes("hash-chain")) {
      throw new PaymentRefusedError(`this link takes ${this.terms.schemes.join(", ")}, not ${payment.scheme}`);
    }
    const message = paymentMessage(payment, "hash-chain", decodeHashChainMessage, "open");
    return this.#gate(await this.#hold(message.channelId, session.receiver, BigInt(session.totalBytes)));
  }

  async #hold(id: Hex, peer: string, totalBytes: bigint): Promise<Held> {
    const refuse = (reason: string) => new PaymentRefusedError(`hash chain ${id} ${reason}`);
    const existing = this.#channels.get(id);
    // A resumed session goes on from what was paid; another peer naming the chain would be served on its payer.
    if (existing && existing.peer !== peer) throw refuse("already pays for another peer's transfer");
    if (existing) return existing;
    const { reader, owner, terms } = this.#parts;
    const info = await getHashChainChannel(reader, { channelId: id });
    if (info.payer === "0x0000000000000000000000000000000000000000") throw refuse("is not on the chain");
    if (info.closed) throw refuse("was redeemed or reclaimed already");
    if (!isAddressEqual(info.payee, owner)) throw refuse(`pays ${info.payee}, not ${owner}`);
    if (info.unitValue !== terms.pricePerMB) throw refuse(`pays ${info.unitValue} per MB, not ${terms.pricePerMB}`);
    if (BigInt(info.units) < unitsFor(totalBytes) || info.units > MAX_CHAIN_LENGTH) {
      throw refuse(`holds ${info.units} units, not the ${unitsFor(totalBytes)} MB the files take`);
    }
    const now = (await getBlock(reader)).timestamp;
    if (info.expiresAt < now + MIN_REDEEM_SECONDS) {
      throw refuse(`expires at ${info.expiresAt}, too soon to redeem after the transfer`);
    }
    if (!this.#parts.claim(hexToBigInt(id))) throw refuse("already paid for another transfer");
    const held: Held = {
      id,
      peer,
      info,
      receiver: new HashChainReceiver(hexToBytes(id), hexToBytes(info.anchor), info.units),
      ...unitSession(totalBytes),
    };
    this.#channels.set(id, held);
    this.#parts.onChange?.(this.#view(held));
    return held;
  }

  #gate(held: Held): PayeeGate {
    return unitGate(held, {
      paidUnits: () => BigInt(held.receiver.depth),
      timeoutMs: this.#parts.timeoutMs ?? PAYMENT_TIMEOUT_MS,
      onStopped: (error) => this.#parts.onStopped?.(error, hexToBigInt(held.id)),
      onChange: () => this.#parts.onChange?.(this.#view(held)),
      take: (payment) => {
        const message = paymentMessage(payment, "hash-chain", decodeHashChainMessage, "token");
        try {
          held.receiver.accept(hexToBytes(message.preimage), message.depth);
        } catch (error) {
          throw new PaymentRefusedError("the payer's preimage is not on its hash chain", { cause: error });
        }
      },
    });
  }

  #view(held: Held): HashChainPayeeChannel {
    const depth = held.receiver.depth;
    const view: HashChainPayeeChannel = {
      scheme: "hash-chain",
      channelId: hexToBigInt(held.id),
      id: held.id,
      payer: held.info.payer,
      sentBytes: held.sent,
      paidBytes: bytesPaid(BigInt(depth), held.totalBytes),
      earned: BigInt(depth) * held.info.unitValue,
      pricePerMB: held.info.unitValue,
      deposit: BigInt(held.info.units) * held.info.unitValue,
      expiresAt: held.info.expiresAt,
    };
    if (depth > 0) {
      const { preimage } = held.receiver.redemption();
      view.redemption = { preimage: bytesToHex(preimage), depth };
    }
    return view;
  }
}
