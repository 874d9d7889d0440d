/**
 * This tab as a proxy for paid transfers between peers that cannot reach each other (the transfer proxy protocol):
 * off until the user switches it on, and the choice is kept. Switching on authorizes the tab's key to be paid and to
 * pay (a transaction, once); each carried transfer then locks the route's leg to its sender from the owner's tokens
 * and earns the 10 %. Carrying follows the wallet: it pauses while none is connected and goes on with the one
 * connected next, so a route is never admitted for a wallet that left.
 */
import { userMessage } from "../../lib/errors.ts";
import type { TransferCarrier } from "../../p2p/protocols/transfer/index.ts";
import type { TransferPayments } from "../payments/transfer-payments.ts";

export interface CarryingOptions {
  /** Whether the user had switched carrying on (a reload carries on as before). */
  wanted?: boolean;
  /** Keeps the user's choice. */
  onWanted?: (on: boolean) => void;
}

export class Carrying extends EventTarget {
  readonly #payments: TransferPayments;
  readonly #onWanted: ((on: boolean) => void) | undefined;
  #wanted: boolean;
  /** The wallet address carrying is for now (undefined: none connected). */
  #owner: string | undefined;
  #carrier: TransferCarrier | undefined;
  /** Bumped by every change of choice or wallet: a switch-on that finished for an older one is dropped. */
  #generation = 0;
  #busy = false;
  #error: string | undefined;

  constructor(payments: TransferPayments, options: CarryingOptions = {}) {
    super();
    this.#payments = payments;
    this.#wanted = options.wanted ?? false;
    this.#onWanted = options.onWanted;
  }

  /** What carries transfers now (the transfer proxy protocol reads it at every route); undefined while off. */
  get carrier(): TransferCarrier | undefined {
    return this.#carrier;
  }
  /** The user wants this tab to carry (it does once a wallet is connected). */
  get on(): boolean {
    return this.#wanted;
  }
  /** Switched on, but no wallet is connected to carry with. */
  get waiting(): boolean {
    return this.#wanted && this.#owner === undefined && !this.#busy;
  }
  get busy(): boolean {
    return this.#busy;
  }
  /** Why switching on failed (no wallet, the key could not be authorized). */
  get error(): string | undefined {
    return this.#error;
  }

  async setOn(on: boolean): Promise<void> {
    if (on === this.#wanted && (!on || this.#carrier || this.#busy)) return;
    this.#wanted = on;
    this.#onWanted?.(on);
    await this.#follow();
  }

  /** The connected wallet changed (`undefined`: none, or on another chain). */
  async ownerChanged(owner: string | undefined): Promise<void> {
    if (owner === this.#owner) return;
    this.#owner = owner;
    await this.#follow();
  }

  /** Carries for the connected wallet when wanted, else not at all. */
  async #follow(): Promise<void> {
    const generation = ++this.#generation;
    this.#carrier = undefined;
    this.#error = undefined;
    if (!this.#wanted || this.#owner === undefined) {
      this.#busy = false;
      return this.#emit();
    }
    this.#busy = true;
    this.#emit();
    let carrier: TransferCarrier | undefined;
    let error: string | undefined;
    try {
      carrier = await this.#payments.carrier();
    } catch (failure) {
      error = userMessage(failure);
    }
    if (generation !== this.#generation) return;
    this.#busy = false;
    if (carrier && carrier.address.toLowerCase() !== this.#owner?.toLowerCase()) carrier = undefined;
    this.#carrier = carrier;
    if (error) this.#error = error;
    this.#emit();
  }

  #emit(): void {
    this.dispatchEvent(new Event("change"));
  }
}
