/**
 * The payee's side of a paid transfer paid in lottery tickets: it admits a receiver's lot once the chain shows it
 * open, worth the asked price per ticket, holding a cover for this owner (so that if another ticket for its index
 * takes the lot, the cover pays it the lot's value) and issuing long enough; it then lets bytes go only up to the MB the tickets it verified
 * pay for plus the credit. Each ticket is checked against the lot as the chain shows it when the ticket comes (a
 * ticket signed after the close could be one the payer knows loses) and against the key bound to the lot, and is
 * kept in the lot's ticket book, shared by every transfer the lot pays, so no index counts twice.
 */
import { type Address, isAddressEqual } from "viem";
import { getBlock } from "viem/actions";
import type { TabulaClient } from "../../chain/client.ts";
import { getLot, isLotCovered } from "../../chain/lottery/lot.ts";
import { type LotState, LotStatus, type TicketBook } from "../../lib/payments/lottery.ts";
import { PaymentRefusedError, type PaymentStoppedError } from "../../p2p/protocols/common/errors.ts";
import { decodeLotteryMessage, type PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import type { PaidShare, PayeeGate, Payment } from "../../p2p/protocols/transfer/index.ts";
import { PAYMENT_TIMEOUT_MS } from "../../p2p/protocols/transfer/index.ts";
import { bytesPaid, unitsFor } from "./cost.ts";
import { paymentMessage } from "./payment-message.ts";
import type { PayeeView } from "./types.ts";
import { type UnitSession, unitGate, unitSession } from "./unit-gate.ts";

/** Least issuing time a lot must have left when admitted, so the transfer ends before anyone may close it (s). */
export const MIN_ISSUE_SECONDS = 60n * 60n;

/** One lot's part in a transfer as the payee sees it, live. */
export interface LotteryPayeeChannel extends PayeeView {
  scheme: "lottery";
  lotSize: number;
  closeBy: bigint;
}

export interface LotteryPayeeParts {
  reader: TabulaClient;
  owner: Address;
  terms: PaymentTerms;
  /** The ticket book of lot `lotId`, one for every transfer it pays (kept by the tab across reloads). */
  book: (lotId: bigint) => TicketBook;
  timeoutMs?: number;
  onChange?: (channel: LotteryPayeeChannel) => void;
  onStopped?: (error: PaymentStoppedError, channelId: bigint) => void;
}

interface Held extends UnitSession {
  lotId: bigint;
  lot: LotState;
  book: TicketBook;
  /** Tickets this transfer was paid. */
  tickets: number;
}

export class LotteryPayee implements PaidShare {
  readonly terms: PaymentTerms;
  readonly #parts: LotteryPayeeParts;
  /** Each receiver's session on each lot, kept so that a resumed transfer goes on from what it paid. */
  readonly #sessions = new Map<string, Held>();

  constructor(parts: LotteryPayeeParts) {
    if (!parts.reader.chain.contracts.Lottery) throw new Error("this chain has no Lottery");
    this.#parts = parts;
    this.terms = parts.terms;
  }

  get channels(): LotteryPayeeChannel[] {
    return [...this.#sessions.values()].map((held) => this.#view(held));
  }

  async admit(
    payment: Payment,
    session: { receiver: string; totalBytes: number; position: number; signal: AbortSignal },
  ): Promise<PayeeGate> {
    const message = paymentMessage(payment, "lottery", decodeLotteryMessage, "open");
    return this.#gate(await this.#hold(message.lotId, session.receiver, BigInt(session.totalBytes)));
  }

  async #hold(lotId: bigint, receiver: string, totalBytes: bigint): Promise<Held> {
    const key = `${lotId}:${receiver}`;
    const existing = this.#sessions.get(key);
    if (existing) return existing;
    const { reader, owner, terms } = this.#parts;
    const refuse = (reason: string) => new PaymentRefusedError(`lottery lot ${lotId} ${reason}`);
    const [lot, covered, block] = await Promise.all([
      getLot(reader, { lotId }),
      isLotCovered(reader, { lotId, payee: owner }),
      getBlock(reader),
    ]);
    if (lot.status === LotStatus.None) throw refuse("is not on the chain");
    if (lot.status !== LotStatus.Open) throw refuse("is closed, so a ticket issued now could be one that loses");
    if (isAddressEqual(lot.payer, owner)) throw refuse("is our own");
    if (lot.ticketValue !== terms.pricePerMB) throw refuse(`pays ${lot.ticketValue} a ticket, not ${terms.pricePerMB}`);
    if (!covered) throw refuse(`holds no cover for ${owner}, so another ticket for our index could take the lot`);
    if (BigInt(lot.closeBy) < block.timestamp + MIN_ISSUE_SECONDS) {
      throw refuse(`may be closed by anyone at ${lot.closeBy}, too soon for this transfer`);
    }
    const book = this.#parts.book(lotId);
    const units = unitsFor(totalBytes);
    const free = BigInt(lot.lotSize - book.size);
    if (free < units) throw refuse(`has ${free} tickets left for us, not the ${units} MB the files take`);
    const held: Held = { lotId, lot, book, tickets: 0, ...unitSession(totalBytes) };
    this.#sessions.set(key, held);
    this.#parts.onChange?.(this.#view(held));
    return held;
  }

  #gate(held: Held): PayeeGate {
    return unitGate(held, {
      paidUnits: () => BigInt(held.tickets),
      timeoutMs: this.#parts.timeoutMs ?? PAYMENT_TIMEOUT_MS,
      onStopped: (error) => this.#parts.onStopped?.(error, held.lotId),
      onChange: () => this.#parts.onChange?.(this.#view(held)),
      take: async (payment) => {
        const message = paymentMessage(payment, "lottery", decodeLotteryMessage, "tickets");
        // The lot as it stands now: once it is closed, the payer may know which index wins.
        const { reader, owner } = this.#parts;
        const [lot, block] = await Promise.all([getLot(reader, { lotId: held.lotId }), getBlock(reader)]);
        held.lot = lot;
        for (const ticket of message.tickets) {
          // Sent again after a drop: held already, it pays nothing more.
          if (held.book.holds(ticket)) continue;
          try {
            await held.book.accept({ lotId: held.lotId, payee: owner, ...ticket }, lot, true, block.timestamp);
          } catch (error) {
            throw new PaymentRefusedError(`the payer's lottery ticket ${ticket.index} is refused`, { cause: error });
          }
          held.tickets += 1;
        }
      },
    });
  }

  #view(held: Held): LotteryPayeeChannel {
    const tickets = BigInt(held.tickets);
    return {
      scheme: "lottery",
      channelId: held.lotId,
      payer: held.lot.payer,
      sentBytes: held.sent,
      paidBytes: bytesPaid(tickets, held.totalBytes),
      earned: tickets * this.terms.pricePerMB,
      pricePerMB: this.terms.pricePerMB,
      deposit: BigInt(held.lot.lotSize) * held.lot.ticketValue,
      lotSize: held.lot.lotSize,
      closeBy: BigInt(held.lot.closeBy),
    };
  }
}
