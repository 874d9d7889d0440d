/**
 * Tab-to-tab sending as the UI sees it: the files this tab offers (each with its link, QR code and progress) and
 * the transfer it receives from a link (the offered files, progress and speed, reconnections, and the files once
 * they are here).
 */

import { moneyTotals, type SchemeTotals } from "../core/payments/summary.ts";
import type { ChannelRecord, TransferPayments, TransferScheme } from "../core/payments/transfer-payments.ts";
import type { Carrying } from "../core/send/carrying.ts";
import type { IncomingTransfer, Receiver } from "../core/send/receive-files.ts";
import type { OutgoingShare, Sender } from "../core/send/send-files.ts";
import type { FileWriter } from "../core/send/sinks.ts";

export type { ChannelRecord, FileWriter, IncomingTransfer, OutgoingShare, SchemeTotals, TransferScheme };

/** The carry switch: switched on (kept across reloads), carrying now, or waiting for a wallet to carry with. */
export interface CarryState {
  on: boolean;
  active: boolean;
  waiting: boolean;
  busy: boolean;
  error?: string;
}
export class SendState {
  readonly #sender: Sender;
  readonly #receiver: Receiver;
  #outgoing = $state.raw<readonly OutgoingShare[]>([]);
  #error = $state<string | undefined>();
  #incoming = $state.raw<IncomingTransfer | undefined>();
  #channels = $state.raw<readonly ChannelRecord[]>([]);

  readonly #payments: TransferPayments | undefined;
  readonly #carrying: Carrying | undefined;
  #carry = $state<CarryState | undefined>();

  constructor(sender: Sender, receiver: Receiver, payments?: TransferPayments, carrying?: Carrying) {
    this.#payments = payments;
    this.#carrying = carrying;
    if (carrying) {
      const carried = () => {
        this.#carry = {
          on: carrying.on,
          active: carrying.carrier !== undefined,
          waiting: carrying.waiting,
          busy: carrying.busy,
          ...(carrying.error ? { error: carrying.error } : {}),
        };
      };
      carrying.addEventListener("change", carried);
      carried();
    }
    this.#sender = sender;
    this.#receiver = receiver;
    if (payments) {
      const moved = () => {
        this.#channels = payments.channels;
      };
      payments.addEventListener("change", moved);
      moved();
    }
    const sent = () => {
      this.#outgoing = sender.outgoing;
      this.#error = sender.error;
    };
    const received = () => {
      this.#incoming = receiver.incoming;
    };
    sender.addEventListener("change", sent);
    receiver.addEventListener("change", received);
    sent();
    received();
  }

  get outgoing(): readonly OutgoingShare[] {
    return this.#outgoing;
  }
  get incoming(): IncomingTransfer | undefined {
    return this.#incoming;
  }
  get error(): string | undefined {
    return this.#error;
  }
  /** Whether a link can ask to be paid (the chain has payment channels). */
  get canCharge(): boolean {
    return this.#sender.canCharge;
  }
  /** The schemes a paid link can take on this chain, in the order the tab prefers them. */
  get schemes(): TransferScheme[] {
    return this.#sender.schemes;
  }
  /** Whether this tab carries paid transfers for others (absent where the chain has no payment channels). */
  get carry(): CarryState | undefined {
    return this.#carry;
  }

  async setCarrying(on: boolean): Promise<void> {
    await this.#carrying?.setOn(on);
  }

  /** The payment channels this tab is party to, newest first. */
  get channels(): readonly ChannelRecord[] {
    return this.#channels;
  }
  /** Per scheme: what this tab holds locked, paid and earned over its channels. */
  get totals(): SchemeTotals[] {
    return moneyTotals(this.#channels);
  }

  /**
   * Offers files to whoever opens the returned link; the data goes straight from this tab to theirs. A
   * `pricePerMB` above 0 (token base units per MB) makes the receiver pay as the bytes arrive, in one of `schemes`.
   */
  share(
    files: readonly File[],
    options: { appUrl?: string; signal?: AbortSignal; pricePerMB?: bigint; schemes?: readonly TransferScheme[] } = {},
  ): Promise<void> {
    return this.#sender.share(files, { ...options, appUrl: options.appUrl ?? location.href });
  }

  /** Closes a channel with the last unit both sides signed; it settles after its challenge window. */
  closeChannel(channelId: bigint): Promise<void> {
    return this.#payments?.closeChannel(channelId) ?? Promise.resolve();
  }

  /** Redeems a hash chain this tab is paid by with the latest preimage it holds. */
  redeem(channelId: bigint): Promise<void> {
    return this.#payments?.redeem(channelId) ?? Promise.resolve();
  }

  /**
   * Takes back a deposit: of a channel the sender never confirmed (after its confirmation deadline), or of a hash
   * chain that expired unredeemed.
   */
  reclaim(channelId: bigint): Promise<void> {
    return this.#payments?.reclaim(channelId) ?? Promise.resolve();
  }

  /** Closes a lottery lot this tab pays from and draws it (once no transfer draws on it). */
  draw(lotId: bigint): Promise<void> {
    return this.#payments?.draw(lotId) ?? Promise.resolve();
  }

  /** Stops offering a transfer (its link stops working). */
  stop(id: number): void {
    this.#sender.stop(id);
  }

  /** Starts receiving from a link's ticket (the `t` parameter); the offer is then shown for accept or decline. */
  receive(ticketText: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    return this.#receiver.receive(ticketText, options);
  }

  /** Pays the offered files in `scheme` (one of the quote's) instead of the one proposed. */
  chooseScheme(scheme: TransferScheme): void {
    this.#receiver.chooseScheme(scheme);
  }

  /** Accepts the offered files: into `writers` (one per file, e.g. a save dialog's file), else staged on disk. */
  accept(writers?: FileWriter[]): void {
    this.#receiver.accept(writers);
  }

  decline(): void {
    this.#receiver.decline();
  }

  cancel(): void {
    this.#receiver.cancel();
  }

  /** Releases the received files' staging (call when the receive page goes away). */
  dispose(): void {
    this.#receiver.dispose();
  }
}
