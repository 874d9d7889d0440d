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
  readonly #shares = new Map<number, TransferShare>();
  #nextId = 1;
  #outgoing: readonly OutgoingShare[] = [];
  #error: string | undefined;

  constructor(transfer: Pick<Transfer, "share">) {
    super();
    this.#transfer = transfer;
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
   * The offer lasts until {@link stop} or until `signal` aborts.
   */
  async share(files: readonly File[], options: { appUrl: string; signal?: AbortSignal }): Promise<void> {
    this.#error = undefined;
    this.#emit();
    const id = this.#nextId++;
    const update = (patch: Partial<OutgoingShare>) => {
      this.#outgoing = this.#outgoing.map((o) => (o.id === id ? { ...o, ...patch } : o));
      this.#emit();
    };
    let pending: TransferProgress | undefined;
    const progress = new ProgressThrottle(() => update({ progress: pending }));
    try {
      options.signal?.throwIfAborted();
      const share = await this.#transfer.share(
        files.map((f) => blobSource(f)),
        {
          onProgress: (p) => {
            pending = p;
            progress.soon();
          },
          onDeclined: () => update({ declined: true }),
        },
      );
      if (options.signal?.aborted) {
        share.close();
        options.signal.throwIfAborted();
      }
      this.#shares.set(id, share);
      const link = receiveLink(options.appUrl, share.link);
      const qrSvg = await QRCode.toString(link, { type: "svg", margin: 1, errorCorrectionLevel: "M" });
      this.#outgoing = [...this.#outgoing, { id, files: share.files, link, qrSvg, done: false, declined: false }];
      this.#emit();
      options.signal?.addEventListener("abort", () => this.stop(id), { once: true });
      void share.done.then(() => {
        progress.flush();
        update({ done: true, ...(pending ? { progress: pending } : {}) });
      });
    } catch (error) {
      // An offer its caller withdrew is no failure to show.
      if (!options.signal?.aborted) this.#error = userMessage(error);
      this.#emit();
    }
  }

  /** Stops offering a transfer (its link stops working). */
  stop(id: number): void {
    this.#shares.get(id)?.close();
    this.#shares.delete(id);
    this.#outgoing = this.#outgoing.filter((o) => o.id !== id);
    this.#emit();
  }

  #emit(): void {
    this.dispatchEvent(new Event("change"));
  }
}
