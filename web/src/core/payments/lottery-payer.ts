/**
 * The payer's side of a paid transfer paid in lottery tickets: it draws on a lot that covers the payee (one this
 * tab funded for that payee and price with room for the whole transfer, or a new one: one permit, one
 * transaction), then hands over one ticket per MB once it has received and written all of it, and the last one at
 * the end. Each ticket, signed by the tab's operator key, wins the whole lot with one chance in its size, so it is
 * worth one MB's price in expectation; nothing reaches the chain until the lot is drawn.
 *
 * The lot's secret is not kept anywhere: it is the hash of the operator key's signature over the lot's terms, so
 * a tab that lost its records still reveals.
 */
import {
  type Account,
  type Address,
  encodeAbiParameters,
  type Hash,
  type Hex,
  keccak256,
  type LocalAccount,
} from "viem";
import type { TabulaClient } from "../../chain/client.ts";
import { createdLotId, createLot } from "../../chain/lottery/create-lot.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { lotCommitment, lotDeposit, TicketIssuer } from "../../lib/payments/lottery.ts";
import { PaymentRefusedError } from "../../p2p/protocols/common/errors.ts";
import {
  encodeLotteryMessage,
  MAX_LOTTERY_TICKETS_PER_MESSAGE,
  type PaymentTerms,
  type WireTicket,
} from "../../p2p/protocols/pay/index.ts";
import type { PayerGate, Payment } from "../../p2p/protocols/transfer/index.ts";
import { bytesPaid, unitsDue } from "./cost.ts";
import type { PayerView, SchemePayer } from "./types.ts";

/** How long a new lot issues tickets before anyone may close it (seconds). */
export const LOT_ISSUE_SECONDS = 24n * 60n * 60n;

/** One lot's part in a transfer as the payer sees it, live. */
export interface LotteryPayerChannel extends PayerView {
  scheme: "lottery";
  lotSize: number;
  /** Tickets of the lot issued so far, to every transfer it paid. */
  issued: number;
  closeBy: bigint;
}

/** What a lot's payer needs to derive its secret again: its terms as the chain keeps them. */
export interface LotTerms {
  chainId: number;
  lottery: Address;
  payer: Address;
  lotSize: number;
  ticketValue: bigint;
  closeBy: bigint;
}

/** The secret a lot with `terms` commits to: the hash of the operator key's signature over them. */
export async function lotSecret(key: LocalAccount, terms: LotTerms): Promise<Hex> {
  const message = keccak256(
    encodeAbiParameters(
      [
        { type: "string" },
        { type: "uint256" },
        { type: "address" },
        { type: "address" },
        { type: "uint32" },
        { type: "uint128" },
        { type: "uint40" },
      ],
      [
        "Tabula lottery lot secret",
        BigInt(terms.chainId),
        terms.lottery,
        terms.payer,
        terms.lotSize,
        terms.ticketValue,
        Number(terms.closeBy),
      ],
    ),
  );
  return keccak256(await key.signMessage({ message: { raw: message } }));
}

/**
 * A lot this payer may draw on: its id, size, tickets issued, close-by time, its secret and the transaction that
 * funded it.
 */
export interface HeldLot {
  lotId: bigint;
  secret: Hex;
  lotSize: number;
  issued: number;
  closeBy: bigint;
  openTx: Hash;
}

export interface LotteryPayerParts {
  reader: TabulaClient;
  /** The tab's operator key: the lot's signer. */
  key: LocalAccount;
  terms: PaymentTerms;
  totalBytes: bigint;
  lot: HeldLot;
  onChange?: (channel: LotteryPayerChannel) => void;
  /** The transfer is over: the lot may be drawn on by the next one, or drawn. */
  onEnd?: () => void;
}

export class LotteryPayer implements SchemePayer {
  readonly lotId: bigint;
  readonly #parts: LotteryPayerParts;
  readonly #issuer: TicketIssuer;
  /** Tickets issued before this transfer, and by it. */
  readonly #first: number;
  #received = 0n;
  #handed = 0;
  /** The last tickets handed over, sent again when a session resumes (those in flight at a drop were lost). */
  #recent: WireTicket[] = [];
  #resend = false;
  /** Tickets are signed one call at a time, so none is issued twice for one MB. */
  #signing: Promise<unknown> = Promise.resolve();

  constructor(parts: LotteryPayerParts) {
    const { reader, key, lot } = parts;
    const address = reader.chain.contracts.Lottery?.address;
    if (!address) throw new Error("this chain has no Lottery");
    this.#parts = parts;
    this.lotId = lot.lotId;
    this.#first = lot.issued;
    this.#issuer = new TicketIssuer({
      contract: { chainId: reader.chain.id, address },
      lotId: lot.lotId,
      lotSize: lot.lotSize,
      signer: key,
      secret: lot.secret,
      issued: lot.issued,
    });
  }

  /**
   * Funds a lot of `lotSize` tickets worth the terms' price each, covering the payee and signed by `key`: one
   * permit signature, one transaction. The caller checked the owner can pay {@link lotDeposit}.
   */
  static async fund(parameters: {
    reader: TabulaClient;
    owner: TabulaClient<Account>;
    key: LocalAccount;
    terms: PaymentTerms;
    lotSize: number;
    now: bigint;
    permitSeconds: bigint;
  }): Promise<HeldLot> {
    const { reader, owner, key, terms, lotSize, now } = parameters;
    const lottery = reader.chain.contracts.Lottery?.address;
    if (!lottery) throw new Error("this chain has no Lottery");
    const closeBy = now + LOT_ISSUE_SECONDS;
    const payer = owner.account.address;
    const secret = await lotSecret(key, {
      chainId: reader.chain.id,
      lottery,
      payer,
      lotSize,
      ticketValue: terms.pricePerMB,
      closeBy,
    });
    const hash = await createLot(owner, {
      lotSize,
      ticketValue: terms.pricePerMB,
      commitment: lotCommitment(payer, secret),
      closeBy,
      covered: [terms.payee],
      signer: key.address,
      deadline: now + parameters.permitSeconds,
    });
    const receipt = await waitForSuccess(reader, { hash, what: "Funding the lottery lot" });
    return { lotId: createdLotId(reader, receipt), secret, lotSize, issued: 0, closeBy, openTx: hash };
  }

  gate(): PayerGate {
    this.#resend = this.#recent.length > 0;
    return {
      opening: { scheme: "lottery", data: encodeLotteryMessage({ type: "open", lotId: this.lotId }) },
      received: (position) => {
        const next = this.#signing.then(() => this.#receivedUpTo(BigInt(position)));
        this.#signing = next.catch(() => undefined);
        return next;
      },
      answer: async (payment) => {
        throw new PaymentRefusedError(`a lottery payee answers nothing, and "${payment.scheme}" came`);
      },
    };
  }

  end(): void {
    this.#parts.onEnd?.();
  }

  /** Tickets of the lot issued so far, by every transfer it paid. */
  get issued(): number {
    return this.#issuer.issued;
  }

  get view(): LotteryPayerChannel {
    const { terms, totalBytes, lot } = this.#parts;
    const handed = BigInt(this.#handed);
    return {
      scheme: "lottery",
      channelId: this.lotId,
      payee: terms.payee,
      deposit: lotDeposit(lot.lotSize, terms.pricePerMB, 1),
      pricePerMB: terms.pricePerMB,
      receivedBytes: this.#received,
      paidBytes: bytesPaid(handed, totalBytes),
      paid: handed * terms.pricePerMB,
      openTx: lot.openTx,
      lotSize: lot.lotSize,
      issued: this.#issuer.issued,
      closeBy: lot.closeBy,
    };
  }

  async #receivedUpTo(position: bigint): Promise<Payment | undefined> {
    if (position > this.#received) this.#received = position;
    if (this.#resend) {
      // The payee takes a ticket it holds again as nothing, and one it lacks as the payment it is.
      this.#resend = false;
      return { scheme: "lottery", data: encodeLotteryMessage({ type: "tickets", tickets: [...this.#recent] }) };
    }
    const { totalBytes, terms } = this.#parts;
    const due = Math.min(Number(unitsDue(this.#received, totalBytes)), this.#handed + MAX_LOTTERY_TICKETS_PER_MESSAGE);
    if (due <= this.#handed || this.#first + due > this.#parts.lot.lotSize) return undefined;
    const tickets = [];
    while (this.#handed < due) {
      const ticket = await this.#issuer.issue(terms.payee);
      tickets.push({ index: ticket.index, nonce: ticket.nonce, signature: ticket.signature });
      this.#handed += 1;
    }
    this.#recent = [...this.#recent, ...tickets].slice(-MAX_LOTTERY_TICKETS_PER_MESSAGE);
    this.#parts.onChange?.(this.view);
    return { scheme: "lottery", data: encodeLotteryMessage({ type: "tickets", tickets }) };
  }
}
