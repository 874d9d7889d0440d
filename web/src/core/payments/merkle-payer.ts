/**
 * The payer's side of a paid transfer paid in Merkle tokens: it funds a channel whose tree holds one token per MB
 * of the transfer, each bound to the payee and worth the price of one MB, with one allocation to that payee (one
 * permit, one transaction); it then hands over the tokens for each MB once it has received and written all of it,
 * and the last one at the end. It never hands over a token ahead of the bytes. When a session resumes, it hands
 * over its last tokens again (at most one message's worth), since those in flight at the drop were lost.
 */
import { type Account, type Hash, type Hex, hexToBigInt } from "viem";
import type { TabulaClient } from "../../chain/client.ts";
import { openedMerkleId, openMerkle } from "../../chain/merkle/open-channel.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { MerkleTokenSet, merkleChannelId } from "../../lib/payments/merkle.ts";
import { PaymentRefusedError } from "../../p2p/protocols/common/errors.ts";
import {
  encodeMerkleMessage,
  MAX_MERKLE_TOKENS_PER_MESSAGE,
  type PaymentTerms,
  type WireMerkleToken,
} from "../../p2p/protocols/pay/index.ts";
import type { PayerGate, Payment } from "../../p2p/protocols/transfer/index.ts";
import { bytesPaid, unitLockTerms, unitsDue, unitsFor } from "./cost.ts";
import type { PayerView, SchemePayer } from "./types.ts";

/** One Merkle channel as the payer sees it, live. */
export interface MerklePayerChannel extends PayerView {
  scheme: "merkle";
  id: Hex;
  expiresAt: bigint;
}

export interface OpenMerkleParts {
  reader: TabulaClient;
  /** The owner's client: its tokens fund the channel. */
  owner: TabulaClient<Account>;
  terms: PaymentTerms;
  totalBytes: bigint;
  onChange?: (channel: MerklePayerChannel) => void;
}

export class MerklePayer implements SchemePayer {
  readonly id: Hex;
  readonly openTx: Hash;
  readonly expiresAt: bigint;
  readonly #parts: OpenMerkleParts;
  readonly #set: MerkleTokenSet;
  #received = 0n;
  /** Tokens handed over: those numbered below it. */
  #handed = 0;
  /** Whether the next payment hands over the last tokens again: a session resumed, and those in flight were lost. */
  #resend = false;

  private constructor(parts: OpenMerkleParts, set: MerkleTokenSet, openTx: Hash, expiresAt: bigint) {
    this.#parts = parts;
    this.#set = set;
    this.id = set.channelId;
    this.openTx = openTx;
    this.expiresAt = expiresAt;
  }

  /**
   * Funds a channel with one token per MB of `totalBytes` at the terms' price, all to the terms' payee: one permit
   * signature, one transaction. {@link InsufficientFundsError} (and nothing sent) when the owner holds too little.
   */
  static async open(parts: OpenMerkleParts): Promise<MerklePayer> {
    const { reader, owner, terms, totalBytes } = parts;
    const address = reader.chain.contracts.MerkleChannel?.address;
    if (!address) throw new Error("this chain has no MerkleChannel");
    const { units, salt, expiresAt, deadline } = await unitLockTerms(reader, {
      owner: owner.account.address,
      terms,
      totalBytes,
      scheme: "merkle",
    });
    const channelId = merkleChannelId({ chainId: reader.chain.id, address }, owner.account.address, salt);
    const set = MerkleTokenSet.create(
      channelId,
      Array.from({ length: Number(units) }, () => ({ payee: terms.payee, value: terms.pricePerMB })),
    );
    const hash = await openMerkle(owner, {
      salt,
      root: set.root,
      allocations: set.allocations(),
      expiresAt,
      deadline,
    });
    const receipt = await waitForSuccess(reader, { hash, what: "Funding the Merkle payment" });
    const id = openedMerkleId(reader, receipt);
    if (id !== channelId) throw new Error(`the chain funded ${id}, not ${channelId}`);
    return new MerklePayer(parts, set, hash, expiresAt);
  }

  gate(): PayerGate {
    this.#resend = this.#handed > 0;
    return {
      opening: { scheme: "merkle", data: encodeMerkleMessage({ type: "open", channelId: this.id }) },
      received: async (position) => this.#receivedUpTo(BigInt(position)),
      answer: async (payment) => {
        throw new PaymentRefusedError(`a Merkle payee answers nothing, and "${payment.scheme}" came`);
      },
    };
  }

  get view(): MerklePayerChannel {
    const { terms, totalBytes } = this.#parts;
    const handed = BigInt(this.#handed);
    return {
      scheme: "merkle",
      channelId: hexToBigInt(this.id),
      id: this.id,
      payee: terms.payee,
      deposit: unitsFor(totalBytes) * terms.pricePerMB,
      pricePerMB: terms.pricePerMB,
      receivedBytes: this.#received,
      paidBytes: bytesPaid(handed, totalBytes),
      paid: handed * terms.pricePerMB,
      openTx: this.openTx,
      expiresAt: this.expiresAt,
    };
  }

  #receivedUpTo(position: bigint): Payment | undefined {
    if (position > this.#received) this.#received = position;
    const due = Math.min(
      Number(unitsDue(this.#received, this.#parts.totalBytes)),
      this.#handed + MAX_MERKLE_TOKENS_PER_MESSAGE,
    );
    const from = this.#handed;
    if (due > this.#handed) {
      this.#handed = due;
      this.#parts.onChange?.(this.view);
    }
    if (this.#resend) {
      // The last tokens again, with any now due: the payee takes one it holds as nothing, one it lacks as the
      // payment it is.
      this.#resend = false;
      return this.#payment(Math.max(0, this.#handed - MAX_MERKLE_TOKENS_PER_MESSAGE), this.#handed);
    }
    return due > from ? this.#payment(from, due) : undefined;
  }

  /** A payment of tokens `from` to `to` (excluded), with their proofs. */
  #payment(from: number, to: number): Payment {
    const tokens: WireMerkleToken[] = [];
    for (let index = from; index < to; index++) {
      const token = this.#set.token(BigInt(index));
      tokens.push({ index, treeIndex: token.treeIndex, proof: token.proof });
    }
    return { scheme: "merkle", data: encodeMerkleMessage({ type: "tokens", tokens }) };
  }
}
