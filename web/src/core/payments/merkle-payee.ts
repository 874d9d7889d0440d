/**
 * The payee's side of a paid transfer paid in Merkle tokens: it admits a receiver's channel once the chain shows an
 * allocation to this owner that covers every MB of the transfer at the asked price and time left to redeem; it then
 * lets bytes go only up to the MB the tokens it verified pay for plus the credit. Each token is checked alone
 * against the channel's root, rebuilt from what the payee knows (channel, index, itself, the price), so a token
 * bound to anyone else or worth anything else fails; a token it holds already (sent again after a drop) pays
 * nothing more. It answers nothing; the tokens are redeemed in one batch.
 */
import { type Address, type Hex, hexToBigInt, isAddressEqual } from "viem";
import { getBlock } from "viem/actions";
import type { TabulaClient } from "../../chain/client.ts";
import { getMerkleChannel, merkleAllocationOf } from "../../chain/merkle/channel.ts";
import { type MerkleRedemption, MerkleTokenPurse } from "../../lib/payments/merkle.ts";
import { PaymentRefusedError, type PaymentStoppedError } from "../../p2p/protocols/common/errors.ts";
import { decodeMerkleMessage, type PaymentTerms, type WireMerkleToken } from "../../p2p/protocols/pay/index.ts";
import type { PaidShare, PayeeGate, Payment } from "../../p2p/protocols/transfer/index.ts";
import { PAYMENT_TIMEOUT_MS } from "../../p2p/protocols/transfer/index.ts";
import { bytesPaid, unitsFor } from "./cost.ts";
import { MIN_REDEEM_SECONDS } from "./hash-chain-payee.ts";
import { paymentMessage } from "./payment-message.ts";
import type { PayeeView } from "./types.ts";
import { type UnitSession, unitGate, unitSession } from "./unit-gate.ts";

/** Most tokens one redemption transaction carries (its calldata and hashing stay well inside a block). */
export const MAX_REDEEM_TOKENS = 1_000;

/** One Merkle channel as the payee sees it, live, with the tokens that redeem it. */
export interface MerklePayeeChannel extends PayeeView {
  scheme: "merkle";
  id: Hex;
  expiresAt: bigint;
  tokens: WireMerkleToken[];
}

export interface MerklePayeeParts {
  reader: TabulaClient;
  owner: Address;
  terms: PaymentTerms;
  /** Whether this tab may take payments on channel `id` (no other transfer of it was paid on it). */
  claim: (id: bigint) => boolean;
  timeoutMs?: number;
  onChange?: (channel: MerklePayeeChannel) => void;
  onStopped?: (error: PaymentStoppedError, channelId: bigint) => void;
}

interface Held extends UnitSession {
  id: Hex;
  payer: Address;
  expiresAt: bigint;
  purse: MerkleTokenPurse;
  tokens: WireMerkleToken[];
}

export class MerklePayee implements PaidShare {
  readonly terms: PaymentTerms;
  readonly #parts: MerklePayeeParts;
  /**
   * Each receiver's session on its channel, kept so that a resumed transfer goes on from what it paid; another
   * receiver that opens with the same channel is refused by the claim.
   */
  readonly #sessions = new Map<string, Held>();

  constructor(parts: MerklePayeeParts) {
    if (!parts.reader.chain.contracts.MerkleChannel) throw new Error("this chain has no MerkleChannel");
    this.#parts = parts;
    this.terms = parts.terms;
  }

  get channels(): MerklePayeeChannel[] {
    return [...this.#sessions.values()].map((held) => this.#view(held));
  }
  /** Lets go of channel `channelId` once it is redeemed: its records keep the tokens a redemption needs. */
  forget(channelId: bigint): void {
    for (const [key, held] of this.#sessions) {
      if (this.#view(held).channelId === channelId) this.#sessions.delete(key);
    }
  }

  async admit(
    payment: Payment,
    session: { receiver: string; totalBytes: number; position: number; signal: AbortSignal },
  ): Promise<PayeeGate> {
    const message = paymentMessage(payment, "merkle", decodeMerkleMessage, "open");
    return this.#gate(await this.#hold(message.channelId, session.receiver, BigInt(session.totalBytes)));
  }

  async #hold(id: Hex, receiver: string, totalBytes: bigint): Promise<Held> {
    const key = `${id.toLowerCase()}:${receiver}`;
    const existing = this.#sessions.get(key);
    if (existing) return existing;
    const { reader, owner, terms } = this.#parts;
    const refuse = (reason: string) => new PaymentRefusedError(`Merkle channel ${id} ${reason}`);
    const [info, allocation, block] = await Promise.all([
      getMerkleChannel(reader, { channelId: id }),
      merkleAllocationOf(reader, { channelId: id, payee: owner }),
      getBlock(reader),
    ]);
    if (isAddressEqual(info.payer, "0x0000000000000000000000000000000000000000")) throw refuse("is not on the chain");
    const needed = unitsFor(totalBytes) * terms.pricePerMB;
    if (allocation < needed)
      throw refuse(`sets aside ${allocation} for ${owner}, less than the ${needed} the files cost`);
    if (info.expiresAt < block.timestamp + MIN_REDEEM_SECONDS) {
      throw refuse(`expires at ${info.expiresAt}, too soon to redeem after the transfer`);
    }
    if (!this.#parts.claim(hexToBigInt(id))) throw refuse("already paid for another transfer");
    const held: Held = {
      id,
      payer: info.payer,
      expiresAt: info.expiresAt,
      purse: new MerkleTokenPurse({ channelId: id, root: info.root, payee: owner, allocation }),
      tokens: [],
      ...unitSession(totalBytes),
    };
    this.#sessions.set(key, held);
    this.#parts.onChange?.(this.#view(held));
    return held;
  }

  #gate(held: Held): PayeeGate {
    return unitGate(held, {
      paidUnits: () => BigInt(held.tokens.length),
      timeoutMs: this.#parts.timeoutMs ?? PAYMENT_TIMEOUT_MS,
      onStopped: (error) => this.#parts.onStopped?.(error, hexToBigInt(held.id)),
      onChange: () => this.#parts.onChange?.(this.#view(held)),
      take: (payment) => {
        const message = paymentMessage(payment, "merkle", decodeMerkleMessage, "tokens");
        for (const token of message.tokens) {
          try {
            const verified = this.#token(held.id, token);
            // Sent again after a drop: held already, it pays nothing more.
            if (held.purse.holds(verified)) continue;
            held.purse.accept(verified);
          } catch (error) {
            throw new PaymentRefusedError(`the payer's Merkle token ${token.index} does not verify`, { cause: error });
          }
          held.tokens.push(token);
        }
      },
    });
  }

  #token(id: Hex, token: WireMerkleToken) {
    return {
      ...token,
      channelId: id,
      index: BigInt(token.index),
      payee: this.#parts.owner,
      value: this.terms.pricePerMB,
    };
  }

  #view(held: Held): MerklePayeeChannel {
    const count = BigInt(held.tokens.length);
    return {
      scheme: "merkle",
      channelId: hexToBigInt(held.id),
      id: held.id,
      payer: held.payer,
      sentBytes: held.sent,
      paidBytes: bytesPaid(count, held.totalBytes),
      earned: count * this.terms.pricePerMB,
      pricePerMB: this.terms.pricePerMB,
      deposit: unitsFor(held.totalBytes) * this.terms.pricePerMB,
      expiresAt: held.expiresAt,
      tokens: [...held.tokens],
    };
  }
}

/**
 * The redemptions of `tokens` (each worth `value`, bound to `payee`) on channel `channelId`, at most
 * {@link MAX_REDEEM_TOKENS} per transaction, checked against the channel's root and what is left of the allocation.
 */
export async function merkleRedemptions(
  reader: TabulaClient,
  parameters: { channelId: Hex; payee: Address; value: bigint; tokens: readonly WireMerkleToken[] },
): Promise<MerkleRedemption[]> {
  const { channelId, payee, value } = parameters;
  const [info, allocation] = await Promise.all([
    getMerkleChannel(reader, { channelId }),
    merkleAllocationOf(reader, { channelId, payee }),
  ]);
  const batches: MerkleRedemption[] = [];
  for (let at = 0; at < parameters.tokens.length; at += MAX_REDEEM_TOKENS) {
    const purse = new MerkleTokenPurse({ channelId, root: info.root, payee, allocation });
    for (const token of parameters.tokens.slice(at, at + MAX_REDEEM_TOKENS)) {
      purse.accept({ ...token, channelId, index: BigInt(token.index), payee, value });
    }
    batches.push(purse.redemption());
  }
  return batches;
}
