import QRCode from "qrcode";
import { userMessage } from "../../lib/errors.ts";
import { ProgressThrottle } from "../../lib/progress.ts";
import {
  blobSource,
  type Transfer,
  type TransferFileMeta,
  type TransferProgress,
  type TransferShare,
} from "../../p2p/protocols/transfer/index.ts";
import type { TransferPayee } from "../payments/transfer-payee.ts";
import type { TransferPayments, TransferScheme } from "../payments/transfer-payments.ts";

export type { TransferFileMeta, TransferProgress };

/** The route a receive link opens. */
export const RECEIVE_ROUTE = "/receive";

/** One offer of this tab: its files, its link (and QR code), and what the receiver has acknowledged. */
export interface OutgoingShare {
  id: number;
  files: TransferFileMeta[];
  link: string;
  /** The link as an SVG QR code. */
  qrSvg: string;
  progress?: TransferProgress;
  done: boolean;
  declined: boolean;
  /** For a paid offer: its price, and what receivers paid so far. */
  payment?: OutgoingPayment;
}

/** A paid offer as its sender sees it, live. */
export interface OutgoingPayment {
  /** Token base units per MB (10^6 bytes). */
  pricePerMB: bigint;
  /** The schemes the link takes. */
  schemes: TransferScheme[];
  /** Bytes sent, bytes the receivers paid for, and what those earn, over every receiver's channel. */
  sentBytes: bigint;
  paidBytes: bigint;
  earned: bigint;
  channels: bigint[];
  /** Why sending stopped, when the receiver stopped paying. */
  stopped?: string;
  /** Why a receiver's payment was refused (it was told, and that transfer stopped). */
  refused?: string;
  /** Whether the payments were ended: channels closed (settled once their window passes), hash chains redeemed. */
  closed: boolean;
}

/** The receive link of a share: the app's address with the receive route and the ticket in the fragment. */
export function receiveLink(appUrl: string, ticketText: string): string {
  return `${appUrl.split("#")[0]}#${RECEIVE_ROUTE}?t=${ticketText}`;
}

/**
 * The sending side of tab-to-tab transfers: the files this tab offers, each until it is stopped, with its link,
 * QR code and progress. Emits `change` when an offer came, went or moved (progress at most every 100 ms).
 */
export class Sender extends EventTarget {
  readonly #transfer: Pick<Transfer, "share">;
  readonly #payments: TransferPayments | undefined;
  readonly #shares = new Map<number, TransferShare>();
  /** What each paid offer is paid by: its payments end when it is stopped. */
  readonly #payees = new Map<number, TransferPayee>();
  #nextId = 1;
  #outgoing: readonly OutgoingShare[] = [];
  #error: string | undefined;

  constructor(transfer: Pick<Transfer, "share">, payments?: TransferPayments) {
    super();
    this.#transfer = transfer;
    this.#payments = payments;
  }

  /** Whether this tab can ask to be paid for what it sends (the chain has payment channels). */
  get canCharge(): boolean {
    return this.#payments !== undefined && this.#payments.schemes.length > 0;
  }

  /** The schemes a paid link can take on this chain, in the order the tab prefers them. */
  get schemes(): TransferScheme[] {
    return this.#payments?.schemes ?? [];
  }

  get outgoing(): readonly OutgoingShare[] {
    return this.#outgoing;
  }
  /** Why the last offer could not be made. */
  get error(): string | undefined {
    return this.#error;
  }

  /**
   * Offers files to whoever opens the link (built on `appUrl`); the data goes straight from this tab to theirs.
   * The offer lasts until {@link stop} or until `signal` aborts. With a `pricePerMB` above 0 (token base units per
   * MB) the link carries the price and `schemes` (by default every one this chain has), and the receiver pays as
   * the bytes arrive.
   */
  async share(
    files: readonly File[],
    options: { appUrl: string; signal?: AbortSignal; pricePerMB?: bigint; schemes?: readonly TransferScheme[] },
  ): Promise<void> {
    this.#error = undefined;
    this.#emit();
    const id = this.#nextId++;
    const update = (patch: Partial<OutgoingShare>) => {
      this.#outgoing = this.#outgoing.map((o) => (o.id === id ? { ...o, ...patch } : o));
      this.#emit();
    };
    let pending: TransferProgress | undefined;
    const progress = new ProgressThrottle(() => update({ progress: pending }));
    let payee: TransferPayee | undefined;
    let paymentClosed = () => {};
    try {
      options.signal?.throwIfAborted();
      const price = options.pricePerMB ?? 0n;
      if (price < 0n) throw new RangeError("the price must not be negative");
      if (price > 0n) {
        if (!this.#payments) throw new RangeError("this chain has no payment channels: send for free");
        const schemes = [...(options.schemes ?? this.#payments.schemes)];
        let payment: OutgoingPayment = {
          pricePerMB: price,
          schemes,
          sentBytes: 0n,
          paidBytes: 0n,
          earned: 0n,
          channels: [],
          closed: false,
        };
        const shown = new ProgressThrottle(() => update({ payment }));
        const show = (patch: Partial<OutgoingPayment>, at: "now" | "soon" = "now") => {
          payment = { ...payment, ...patch };
          shown[at]();
        };
        const paying: TransferPayee = await this.#payments.payee(price, {
          schemes,
          onChange: () => {
            const channels = paying.channels;
            show(
              {
                sentBytes: channels.reduce((sum, c) => sum + c.sentBytes, 0n),
                paidBytes: channels.reduce((sum, c) => sum + c.paidBytes, 0n),
                earned: channels.reduce((sum, c) => sum + c.earned, 0n),
                channels: channels.map((c) => c.channelId),
              },
              "soon",
            );
          },
          onRefused: (error) => show({ refused: userMessage(error) }),
          onStopped: (error, channelId) => {
            show({ stopped: userMessage(error) });
            // What was paid is earned: the channel closes on the last unit both signed, a chain is redeemed.
            void this.#payments?.close(paying, channelId);
          },
        });
        payee = paying;
        paymentClosed = () => {
          show({ closed: true });
          shown.flush();
        };
      }
      const share = await this.#transfer.share(
        files.map((f) => blobSource(f)),
        {
          onProgress: (p) => {
            pending = p;
            progress.soon();
          },
          onDeclined: () => update({ declined: true }),
          ...(payee ? { payment: payee } : {}),
        },
      );
      if (options.signal?.aborted) {
        share.close();
        options.signal.throwIfAborted();
      }
      this.#shares.set(id, share);
      if (payee) this.#payees.set(id, payee);
      const link = receiveLink(options.appUrl, share.link);
      const qrSvg = await QRCode.toString(link, { type: "svg", margin: 1, errorCorrectionLevel: "M" });
      const payment: OutgoingPayment | undefined = payee
        ? {
            pricePerMB: payee.terms.pricePerMB,
            schemes: payee.terms.schemes as TransferScheme[],
            sentBytes: 0n,
            paidBytes: 0n,
            earned: 0n,
            channels: [],
            closed: false,
          }
        : undefined;
      this.#outgoing = [
        ...this.#outgoing,
        { id, files: share.files, link, qrSvg, done: false, declined: false, ...(payment ? { payment } : {}) },
      ];
      this.#emit();
      options.signal?.addEventListener("abort", () => this.stop(id), { once: true });
      void share.done.then(async () => {
        progress.flush();
        update({ done: true, ...(pending ? { progress: pending } : {}) });
        if (payee && this.#payments) {
          // Paid in full: channels close now (and settle once their window has passed), hash chains are redeemed.
          await this.#payments.close(payee);
          paymentClosed();
        }
      });
    } catch (error) {
      // An offer its caller withdrew is no failure to show.
      if (!options.signal?.aborted) this.#error = userMessage(error);
      this.#emit();
    }
  }

  /**
   * Stops offering a transfer (its link stops working); a paid one's payments end with what was paid: channels
   * close on the last unit both signed, hash chains are redeemed.
   */
  stop(id: number): void {
    this.#shares.get(id)?.close();
    this.#shares.delete(id);
    const payee = this.#payees.get(id);
    this.#payees.delete(id);
    if (payee) void this.#payments?.close(payee);
    this.#outgoing = this.#outgoing.filter((o) => o.id !== id);
    this.#emit();
  }

  #emit(): void {
    this.dispatchEvent(new Event("change"));
  }
}
