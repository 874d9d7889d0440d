/**
 * The sender's side of one paid share, over every scheme its link accepts: a receiver's first payment names the
 * scheme, and the payee of that scheme admits it. Any other scheme is refused by name.
 */
import { PaymentRefusedError } from "../../p2p/protocols/common/errors.ts";
import type { PaymentScheme, PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import type { PaidShare, PayeeGate, Payment } from "../../p2p/protocols/transfer/index.ts";
import type { BandwidthPayee } from "./bandwidth-payee.ts";
import type { HashChainPayee } from "./hash-chain-payee.ts";
import type { LotteryPayee } from "./lottery-payee.ts";
import type { MerklePayee } from "./merkle-payee.ts";
import { openedChannel } from "./payment-message.ts";
import type { PayeeView } from "./types.ts";

export interface SchemePayees {
  bandwidth?: BandwidthPayee;
  "hash-chain"?: HashChainPayee;
  merkle?: MerklePayee;
  lottery?: LotteryPayee;
}

export interface TransferPayeeHooks {
  /** Hears of every payment refused, at admission or later, before the receiver is told why. */
  onRefused?: (error: PaymentRefusedError) => void;
  /** A session on channel (or lot) `channelId` is over (protocols whose sessions stand alone, as shard fetch). */
  onEnd?: (scheme: PaymentScheme, channelId: bigint) => void;
}

export class TransferPayee implements PaidShare {
  readonly terms: PaymentTerms;
  readonly schemes: SchemePayees;

  readonly #hooks: TransferPayeeHooks;

  constructor(terms: PaymentTerms, schemes: SchemePayees, hooks: TransferPayeeHooks = {}) {
    this.terms = terms;
    this.schemes = schemes;
    this.#hooks = hooks;
  }

  end(opening: Payment): void {
    const channelId = openedChannel(opening);
    if (channelId !== undefined) this.#hooks.onEnd?.(opening.scheme as PaymentScheme, channelId);
  }

  async admit(payment: Payment, session: Parameters<PaidShare["admit"]>[1]): Promise<PayeeGate> {
    const gate = await this.#refusals(async () => {
      const payee = this.schemes[payment.scheme as keyof SchemePayees];
      if (!payee || !this.terms.schemes.includes(payment.scheme as PaymentScheme)) {
        throw new PaymentRefusedError(`this link takes ${this.terms.schemes.join(", ")}, not ${payment.scheme}`);
      }
      return await payee.admit(payment, session);
    });
    return { ...gate, receive: (next) => this.#refusals(() => gate.receive(next)) };
  }

  async #refusals<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof PaymentRefusedError) this.#hooks.onRefused?.(error);
      throw error;
    }
  }

  /**
   * Lets go of what paid one fetch once it is settled (its records keep the rest): a host that settles each fetch
   * holds only those under way. A lottery lot serves many fetches and stays.
   */
  forget(scheme: PaymentScheme, channelId: bigint): void {
    if (scheme === "bandwidth" || scheme === "hash-chain" || scheme === "merkle") {
      this.schemes[scheme]?.forget(channelId);
    }
  }

  /** Every receiver's payment, in every scheme. */
  get channels(): PayeeView[] {
    return [
      ...(this.schemes.bandwidth?.channels ?? []),
      ...(this.schemes["hash-chain"]?.channels ?? []),
      ...(this.schemes.merkle?.channels ?? []),
      ...(this.schemes.lottery?.channels ?? []),
    ];
  }
}
