/**
 * This tab as a proxy for paid transfers between peers that cannot reach each other (the transfer proxy protocol):
 * off until the user switches it on. Switching on authorizes the tab's key to be paid and to pay (a transaction,
 * once); each carried transfer then locks the route's leg to its sender from the owner's tokens and earns the 10 %.
 */
import { userMessage } from "../../lib/errors.ts";
import type { TransferCarrier } from "../../p2p/protocols/transfer/index.ts";
import type { TransferPayments } from "../payments/transfer-payments.ts";

export class Carrying extends EventTarget {
  readonly #payments: TransferPayments;
  #carrier: TransferCarrier | undefined;
  #busy = false;
  #error: string | undefined;

  constructor(payments: TransferPayments) {
    super();
    this.#payments = payments;
  }

  /** What carries transfers now (the transfer proxy protocol reads it at every route); undefined while off. */
  get carrier(): TransferCarrier | undefined {
    return this.#carrier;
  }
  get on(): boolean {
    return this.#carrier !== undefined;
  }
  get busy(): boolean {
    return this.#busy;
  }
  /** Why switching on failed (no wallet, the key could not be authorized). */
  get error(): string | undefined {
    return this.#error;
  }

  async setOn(on: boolean): Promise<void> {
    if (this.#busy || on === this.on) return;
    this.#error = undefined;
    if (!on) {
      this.#carrier = undefined;
      return this.#emit();
    }
    this.#busy = true;
    this.#emit();
    try {
      this.#carrier = await this.#payments.carrier();
    } catch (error) {
      this.#error = userMessage(error);
    } finally {
      this.#busy = false;
      this.#emit();
    }
  }

  #emit(): void {
    this.dispatchEvent(new Event("change"));
  }
}
