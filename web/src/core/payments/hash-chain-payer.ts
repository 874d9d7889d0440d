/**
 * The payer's side of a paid transfer over a hash chain: it locks one unit per MB of the transfer under the tip of
 * a chain only it can walk back (one permit, one transaction), then reveals the preimage for each MB once it has
 * received and written all of it, and the last one at the end. It never reveals a preimage ahead of the bytes.
 */
import { type Account, bytesToHex, type Hash, type Hex, hexToBigInt } from "viem";
import type { TabulaClient } from "../../chain/client.ts";
import { openedHashChainId, openHashChain } from "../../chain/hashchain/open-channel.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { HashChain, hashChainChannelId } from "../../lib/payments/hashchain.ts";
import { PaymentRefusedError } from "../../p2p/protocols/common/errors.ts";
import { encodeHashChainMessage, type PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import type { PayerGate, Payment } from "../../p2p/protocols/transfer/index.ts";
import { bytesPaid, unitLockTerms, unitsDue, unitsFor } from "./cost.ts";
import type { PayerView, SchemePayer } from "./types.ts";

/** One hash chain as the payer sees it, live. */
export interface HashChainPayerChannel extends PayerView {
  scheme: "hash-chain";
  id: Hex;
  expiresAt: bigint;
}

export interface OpenHashChainParts {
  reader: TabulaClient;
  /** The owner's client: its tokens fund the deposit. */
  owner: TabulaClient<Account>;
  terms: PaymentTerms;
  totalBytes: bigint;
  onChange?: (channel: HashChainPayerChannel) => void;
}

export class HashChainPayer implements SchemePayer {
  readonly id: Hex;
  readonly openTx: Hash;
  readonly expiresAt: bigint;
  readonly #parts: OpenHashChainParts;
  readonly #chain: HashChain;
  #received = 0n;
  #depth = 0;

  private constructor(parts: OpenHashChainParts, id: Hex, chain: HashChain, openTx: Hash, expiresAt: bigint) {
    this.#parts = parts;
    this.id = id;
    this.#chain = chain;
    this.openTx = openTx;
    this.expiresAt = expiresAt;
  }

  /**
   * Locks a unit per MB of `totalBytes` at the terms' price under a fresh chain: one permit signature, one
   * transaction. {@link InsufficientFundsError} (and nothing sent) when the owner holds too little.
   */
  static async open(parts: OpenHashChainParts): Promise<HashChainPayer> {
    const { reader, owner, terms, totalBytes } = parts;
    const address = reader.chain.contracts.HashChainChannel?.address;
    if (!address) throw new Error("this chain has no HashChainChannel");
    const { units, salt, expiresAt, deadline } = await unitLockTerms(reader, {
      owner: owner.account.address,
      terms,
      totalBytes,
      scheme: "hash-chain",
    });
    const contract = { chainId: reader.chain.id, address };
    const channelId = hashChainChannelId(contract, owner.account.address, terms.payee, salt);
    const { chain } = HashChain.generate(channelId, Number(units));
    const hash = await openHashChain(owner, {
      payee: terms.payee,
      salt,
      anchor: bytesToHex(chain.anchor),
      units: Number(units),
      unitValue: terms.pricePerMB,
      expiresAt,
      deadline,
    });
    const receipt = await waitForSuccess(reader, { hash, what: "Locking the hash-chain payment" });
    const id = openedHashChainId(reader, receipt);
    if (id !== bytesToHex(channelId)) throw new Error(`the chain opened ${id}, not ${bytesToHex(channelId)}`);
    return new HashChainPayer(parts, id, chain, hash, expiresAt);
  }

  gate(): PayerGate {
    return {
      opening: { scheme: "hash-chain", data: encodeHashChainMessage({ type: "open", channelId: this.id }) },
      received: async (position) => this.#receivedUpTo(BigInt(position)),
      answer: async (payment) => {
        throw new PaymentRefusedError(`a hash-chain payee answers nothing, and "${payment.scheme}" came`);
      },
    };
  }

  get view(): HashChainPayerChannel {
    const { terms, totalBytes } = this.#parts;
    return {
      scheme: "hash-chain",
      channelId: hexToBigInt(this.id),
      id: this.id,
      payee: terms.payee,
      deposit: unitsFor(totalBytes) * terms.pricePerMB,
      pricePerMB: terms.pricePerMB,
      receivedBytes: this.#received,
      paidBytes: bytesPaid(BigInt(this.#depth), totalBytes),
      paid: BigInt(this.#depth) * terms.pricePerMB,
      openTx: this.openTx,
      expiresAt: this.expiresAt,
    };
  }

  #receivedUpTo(position: bigint): Payment | undefined {
    if (position > this.#received) this.#received = position;
    const due = Number(unitsDue(this.#received, this.#parts.totalBytes));
    if (due <= this.#depth) return undefined;
    this.#depth = due;
    this.#parts.onChange?.(this.view);
    const preimage = bytesToHex(this.#chain.token(due));
    return { scheme: "hash-chain", data: encodeHashChainMessage({ type: "token", depth: due, preimage }) };
  }
}
