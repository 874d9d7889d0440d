import type { Address } from "viem";
import { routeLock } from "../../chain/bandwidth/route.ts";
import { toHex } from "../../lib/bytes.ts";
import { BaseError, userMessage } from "../../lib/errors.ts";
import { ProgressThrottle } from "../../lib/progress.ts";
import { TransferLinkError } from "../../p2p/protocols/common/errors.ts";
import type { PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import {
  decodeTicket,
  type ReceiveOptions,
  type Transfer,
  type TransferFileMeta,
  type TransferProgress,
  type TransferTicket,
} from "../../p2p/protocols/transfer/index.ts";
import { transferCost, transferDeposit } from "../payments/cost.ts";
import { PaymentSchemeError } from "../payments/errors.ts";
import type { TransferPayments, TransferScheme } from "../payments/transfer-payments.ts";
import type { PayerView, SchemePayer } from "../payments/types.ts";
import { type FileWriter, opfsStaging, SequentialSink, type StagedFiles, type Staging } from "./sinks.ts";

export type IncomingStatus = "connecting" | "offered" | "receiving" | "done" | "declined" | "failed";

/** The transfer this tab receives from a link: the offered files, progress, reconnections, and how it ended. */
export interface IncomingTransfer {
  sender: string;
  state: IncomingStatus;
  files?: TransferFileMeta[];
  progress?: TransferProgress;
  /** Times the connection dropped and the transfer resumed. */
  interruptions: number;
  attempts?: number;
  /** Received files (from the staging folder on disk), ready to save. */
  saved?: { name: string; url: string; size: number }[];
  /** Whether the files went straight to a file the user chose. */
  toDisk?: boolean;
  error?: { name: string; message: string };
  /** For a paid link: the sender's terms and what the files cost at them, shown before accepting. */
  quote?: IncomingQuote;
  /** Why the payment could not be locked (the offer stays open to try again). */
  paymentError?: { name: string; message: string };
  /** Once paying: the channel, what it locked and what was paid. */
  payment?: IncomingPayment;
  /**
   * Carried by a proxy because the sender could not be reached directly: its peer id, and once it answered, the
   * address the route pays (110 % of the sender's price; the proxy keeps the 10 %).
   */
  route?: { peer: string; address?: Address };
  startedAtMs: number;
  endedAtMs?: number;
}

/** What a paid offer costs, before a byte moves. */
export interface IncomingQuote {
  terms: PaymentTerms;
  /** The scheme this tab will pay in, and the others the link takes that it could. */
  scheme: TransferScheme;
  schemes: TransferScheme[];
  totalBytes: bigint;
  /** The most the files cost at the price in that scheme (for lottery tickets, what they are worth in expectation). */
  cost: bigint;
  /** The most accepting locks (what is not used comes back). */
  deposit: bigint;
}

/** The payment of a transfer being received, live. */
export interface IncomingPayment {
  scheme: TransferScheme;
  channelId: bigint;
  openTx: `0x${string}`;
  deposit: bigint;
  /** Bytes received, bytes the sender countersigned, and what those cost. */
  receivedBytes: bigint;
  paidBytes: bigint;
  paid: bigint;
}

export interface ReceiverParts {
  transfer: Pick<Transfer, "receive">;
  /** Where to dial the sender: the transfer protocol runs only over a direct link. */
  directTarget(peer: string): Promise<NonNullable<ReceiveOptions["peer"]>>;
  /** Where files go when no writers are given; by default the origin private file system. */
  staging?: Staging;
  /** How this tab pays for a paid link (absent where the chain has no payment channels). */
  payments?: TransferPayments;
  /** Opens (or reuses) a direct link to `peer`; rejects when the peer cannot be reached that way. */
  reach?(peer: string, signal: AbortSignal): Promise<void>;
  /** Peers that may carry a paid transfer for this tab (they speak the transfer proxy protocol), best first. */
  carriers?(): Promise<string[]>;
}

type Decision = { writers?: FileWriter[] } | false;

/**
 * The receiving side of tab-to-tab transfers: one transfer at a time, from a link's ticket to the offer (accepted
 * into the writers given, e.g. a save dialog's file, or staged on disk) to the files once they are here. Emits
 * `change` when the transfer moved (progress at most every 100 ms). Clears staging left by closed tabs on start.
 */
export class Receiver extends EventTarget {
  readonly #transfer: Pick<Transfer, "receive">;
  readonly #directTarget: ReceiverParts["directTarget"];
  readonly #staging: Staging;
  readonly #payments: TransferPayments | undefined;
  readonly #reach: ReceiverParts["reach"];
  readonly #carriers: ReceiverParts["carriers"];
  #incoming: IncomingTransfer | undefined;
  #decide: ((decision: Decision) => void) | undefined;
  #quote: ((scheme: TransferScheme) => void) | undefined;
  #abort: AbortController | undefined;
  #releaseStaging: (() => void) | undefined;

  constructor(parts: ReceiverParts) {
    super();
    this.#transfer = parts.transfer;
    this.#directTarget = parts.directTarget;
    this.#staging = parts.staging ?? opfsStaging;
    this.#payments = parts.payments;
    this.#reach = parts.reach;
    this.#carriers = parts.carriers;
    void this.#staging.collect();
  }

  get incoming(): IncomingTransfer | undefined {
    return this.#incoming;
  }

  /**
   * Receives from a link's ticket (its `t` parameter): the offer waits for {@link accept} or {@link decline}.
   * Does nothing while another transfer is under way; `signal` cancels like {@link cancel}.
   */
  async receive(ticketText: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.#incoming && !this.#incoming.endedAtMs) return;
    let ticket: TransferTicket;
    try {
      ticket = decodeTicket(ticketText);
    } catch (error) {
      const now = Date.now();
      this.#incoming = {
        sender: "",
        state: "failed",
        interruptions: 0,
        startedAtMs: now,
        endedAtMs: now,
        error: describe(error),
      };
      this.#emit();
      return;
    }
    const transferId = toHex(ticket.transferId);
    let view: IncomingTransfer = {
      sender: ticket.peer,
      state: "connecting",
      interruptions: 0,
      startedAtMs: Date.now(),
    };
    const set = (patch: Partial<IncomingTransfer>) => {
      view = { ...view, ...patch };
      this.#incoming = view;
      this.#emit();
    };
    set({});
    const abort = new AbortController();
    this.#abort = abort;
    const onAbort = () => this.#decide?.(false);
    options.signal?.addEventListener("abort", onAbort, { once: true });
    const signal = options.signal ? AbortSignal.any([abort.signal, options.signal]) : abort.signal;
    let staged: StagedFiles | undefined;
    let sink: SequentialSink | undefined;
    let pending: TransferProgress | undefined;
    const progress = new ProgressThrottle(() => {
      if (view.state === "receiving") set({ progress: pending });
    });
    let payer: SchemePayer | undefined;
    let paying: IncomingPayment | undefined;
    // A unit moves the payment several times a second: the page hears of it at most every 100 ms.
    const payments = new ProgressThrottle(() => set({ ...(paying ? { payment: paying } : {}) }));
    try {
      if (ticket.terms && !this.#payments) {
        throw new TransferLinkError("it asks for payment, and this tab's chain has no payment channels");
      }
      const carriers = await this.#routes(ticket, signal);
      const receiveVia = async (via: string | undefined) => {
        // A proxy is dialed first, with the node's patience for a link through the relay.
        if (via) await this.#reach?.(via, signal);
        return await this.#transfer.receive(
          ticket,
          { write: (file, offset, bytes) => (sink as SequentialSink).write(file, offset, bytes) },
          {
            ...(via
              ? { via: { peer: via, target: await this.#directTarget(via) } }
              : { peer: await this.#directTarget(ticket.peer) }),
            onRoute: (address) => set({ route: { peer: via as string, address } }),
            ...receiveOptions(),
          },
        );
      };
      const receiveOptions = (): ReceiveOptions => ({
        signal,
        onOffer: async (files, terms) => {
          if (terms && !this.#payments) {
            throw new TransferLinkError("it asks for payment, and this tab's chain has no payment channels");
          }
          const totalBytes = BigInt(files.reduce((sum, f) => sum + f.size, 0));
          let quote: IncomingQuote | undefined;
          if (terms && this.#payments) {
            const payments = this.#payments;
            // A route is a bandwidth channel to the proxy at 110 % of the price.
            const routed = view.route?.address !== undefined;
            const schemes = payments.schemes.filter(
              (scheme) => terms.schemes.includes(scheme) && (!routed || scheme === "bandwidth"),
            );
            const scheme = schemes[0];
            if (!scheme) {
              throw new PaymentSchemeError({
                asked: routed ? "bandwidth, which a proxy route pays through" : "none of them",
                offered: terms.schemes,
              });
            }
            const priced = (scheme: TransferScheme) =>
              routed
                ? {
                    scheme,
                    cost: routeLock(transferCost(terms, totalBytes, "bandwidth")),
                    deposit: routeLock(transferCost(terms, totalBytes, "bandwidth")),
                  }
                : {
                    scheme,
                    cost: transferCost(terms, totalBytes, scheme),
                    deposit: transferDeposit(terms, totalBytes, scheme, payments.lotTickets),
                  };
            quote = { terms, schemes, totalBytes, ...priced(scheme) };
            this.#quote = (chosen) => {
              if (!quote || !schemes.includes(chosen)) return;
              quote = { ...quote, ...priced(chosen) };
              set({ quote, paymentError: undefined });
            };
          }
          set({ state: "offered", files, ...(quote ? { quote } : {}) });
          let decision: Decision = false;
          while (!signal.aborted) {
            decision = await new Promise<Decision>((resolve) => {
              this.#decide = resolve;
            });
            this.#decide = undefined;
            if (!decision || !terms || !this.#payments || !quote) break;
            // The one approval: the deposit is locked to the sender before a byte moves.
            try {
              const address = view.route?.address;
              const locked = await this.#payments.payer(terms, totalBytes, {
                scheme: quote.scheme,
                // The offer's files are exactly these bytes: a channel straight to the sender pays in fewer units.
                ...(address ? { via: address } : { exact: true }),
                onChange: (channel) => {
                  paying = incomingPayment(channel);
                  payments.soon();
                },
              });
              payer = locked;
              set({ payment: incomingPayment(locked.view) });
              break;
            } catch (error) {
              set({ paymentError: describe(error) });
            }
          }
          if (!decision || signal.aborted) return false;
          set({ paymentError: undefined });
          if (decision.writers) {
            sink = new SequentialSink(decision.writers);
            set({ state: "receiving", toDisk: true });
          } else {
            this.#releaseStaging = await this.#staging.hold(transferId);
            staged = await this.#staging.open(transferId, files);
            sink = new SequentialSink(staged.writers);
            set({ state: "receiving", toDisk: false });
          }
          return true;
        },
        onProgress: (p) => {
          pending = p;
          progress.soon();
        },
        onInterrupted: () => set({ interruptions: view.interruptions + 1 }),
        payer: () => {
          if (!payer) throw new TransferLinkError("it asks for payment and none was locked");
          return payer.gate();
        },
      });
      let result: Awaited<ReturnType<typeof receiveVia>> | undefined;
      const refusals: { peer: string; reason: string }[] = [];
      // Straight from the sender, or through the first proxy that carries it.
      for (const [index, via] of carriers.entries()) {
        set({ route: via ? { peer: via } : undefined });
        try {
          result = await receiveVia(via);
          break;
        } catch (error) {
          // A proxy that does not carry, or cannot be reached, before the offer: the next one is asked.
          const refusedRoute = via !== undefined && view.state === "connecting";
          if (refusedRoute) refusals.push({ peer: via, reason: userMessage(error) });
          if (refusedRoute && index < carriers.length - 1) continue;
          // The sender itself was tried last: what the proxies said matters as much as why it failed.
          if (refusals.length > 0 && view.state === "connecting") throw new SenderUnreachableError(error, refusals);
          throw error;
        }
      }
      if (!result) throw new TransferLinkError("the sender could not be reached");
      await sink?.close();
      payments.flush();
      const saved = staged
        ? (await staged.files()).map((file) => ({ name: file.name, size: file.size, url: URL.createObjectURL(file) }))
        : undefined;
      set({
        state: "done",
        attempts: result.attempts,
        ...(pending ? { progress: pending } : {}),
        ...(saved ? { saved } : {}),
        endedAtMs: Date.now(),
      });
    } catch (error) {
      await sink?.abort();
      await staged?.remove();
      const declined = error instanceof BaseError && error.name === "TransferDeclinedError";
      set({
        state: declined ? "declined" : "failed",
        endedAtMs: Date.now(),
        ...(declined ? {} : { error: describe(error) }),
      });
    } finally {
      payer?.end?.();
      options.signal?.removeEventListener("abort", onAbort);
    }
  }

  /**
   * Where to receive a link from: the sender itself (`undefined`) when it can be reached directly or the link is free,
   * else the peers that may carry it, in turn (a proxy is paid on the route, so only a paid link is carried).
   */
  async #routes(ticket: TransferTicket, signal: AbortSignal): Promise<(string | undefined)[]> {
    if (!ticket.terms || !this.#reach || !this.#carriers) return [undefined];
    try {
      await this.#reach(ticket.peer, signal);
      return [undefined];
    } catch {
      // Those that do not carry now say so at once; the sender itself is tried last, as a link may come back.
      return [...(await this.#carriers()).filter((peer) => peer !== ticket.peer), undefined];
    }
  }

  /** Pays a paid offer in `scheme` (one of the quote's), before it is accepted. */
  chooseScheme(scheme: TransferScheme): void {
    this.#quote?.(scheme);
  }

  /** Accepts the offered files: into `writers` (one per file, e.g. a save dialog's file), else staged on disk. */
  accept(writers?: FileWriter[]): void {
    this.#decide?.(writers ? { writers } : {});
  }

  decline(): void {
    this.#decide?.(false);
  }

  cancel(): void {
    this.#decide?.(false);
    this.#abort?.abort(new DOMException("Cancelled.", "AbortError"));
  }

  /** Releases the received files' staging (when the receive page goes away). */
  dispose(): void {
    this.#releaseStaging?.();
  }

  #emit(): void {
    this.dispatchEvent(new Event("change"));
  }
}

function incomingPayment(view: PayerView): IncomingPayment {
  return {
    scheme: view.scheme as TransferScheme,
    channelId: view.channelId,
    openTx: view.openTx,
    deposit: view.deposit,
    receivedBytes: view.receivedBytes,
    paidBytes: view.paidBytes,
    paid: view.paid,
  };
}

function describe(error: unknown): { name: string; message: string } {
  return { name: error instanceof BaseError ? error.name : "Error", message: userMessage(error) };
}

/** Neither the sender nor any peer that carries paid transfers could bring the files. */
export class SenderUnreachableError extends BaseError {
  override name = "SenderUnreachableError";
  constructor(direct: unknown, refusals: readonly { peer: string; reason: string }[]) {
    const proxies = refusals.map(({ peer, reason }) => `${peer.slice(-8)}: ${reason}`).join("; ");
    super(`The sender cannot be reached: ${userMessage(direct)} No carrying peer took the route (${proxies}).`, {
      details: "Keep the sender's tab open and try again, or ask a peer to switch on Carry paid transfers.",
    });
  }
}
