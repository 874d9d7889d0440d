/**
 * Tab-to-tab sending as the UI sees it: the files this tab offers (each with its link, QR code and progress) and
 * the transfer it receives from a link (the offered files, progress and speed, reconnections, and the files once
 * they are here).
 */
import QRCode from "qrcode";
import { type FileWriter, opfsWriters, RECEIVE_DIR, SequentialSink } from "../core/send/sinks.ts";
import { toHex } from "../lib/bytes.ts";
import { BaseError, userMessage } from "../lib/errors.ts";
import type { TabulaNode } from "../p2p/node.ts";
import {
  blobSource,
  decodeTicket,
  type TransferFileMeta,
  type TransferProgress,
  type TransferShare,
} from "../p2p/protocols/transfer/index.ts";

/** The route a receive link opens. */
export const RECEIVE_ROUTE = "/receive";

export interface OutgoingView {
  id: number;
  files: TransferFileMeta[];
  link: string;
  /** The link as an SVG QR code. */
  qrSvg: string;
  progress?: TransferProgress;
  done: boolean;
  declined: boolean;
}

export interface IncomingView {
  sender: string;
  state: "connecting" | "offered" | "receiving" | "done" | "declined" | "failed";
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
  startedAtMs: number;
  endedAtMs?: number;
}

/** Progress is shown at most this often. */
const REPORT_INTERVAL_MS = 100;

export class SendState {
  readonly #node: TabulaNode;
  readonly #shares = new Map<number, TransferShare>();
  #nextId = 1;
  #outgoing = $state.raw<OutgoingView[]>([]);
  #incoming = $state.raw<IncomingView | undefined>();
  #error = $state<string | undefined>();
  #decide: ((accepted: { writers?: FileWriter[] } | false) => void) | undefined;
  #abort: AbortController | undefined;
  #releaseStaging: (() => void) | undefined;

  constructor(node: TabulaNode) {
    this.#node = node;
    void collectStaged();
  }

  get outgoing(): OutgoingView[] {
    return this.#outgoing;
  }
  get incoming(): IncomingView | undefined {
    return this.#incoming;
  }
  get error(): string | undefined {
    return this.#error;
  }

  /** Offers files to whoever opens the returned link; the data goes straight from this tab to theirs. */
  async share(files: readonly File[], appUrl: string = location.href): Promise<void> {
    this.#error = undefined;
    try {
      const id = this.#nextId++;
      let pending: TransferProgress | undefined;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const update = (patch: Partial<OutgoingView>) => {
        this.#outgoing = this.#outgoing.map((o) => (o.id === id ? { ...o, ...patch } : o));
      };
      const share = await this.#node.libp2p.services.transfer.share(
        files.map((f) => blobSource(f)),
        {
          onProgress: (progress) => {
            pending = progress;
            timer ??= setTimeout(() => {
              timer = undefined;
              update({ progress: pending });
            }, REPORT_INTERVAL_MS);
          },
          onDeclined: () => update({ declined: true }),
        },
      );
      this.#shares.set(id, share);
      const link = `${appUrl.split("#")[0]}#${RECEIVE_ROUTE}?t=${share.link}`;
      const qrSvg = await QRCode.toString(link, { type: "svg", margin: 1, errorCorrectionLevel: "M" });
      this.#outgoing = [...this.#outgoing, { id, files: share.files, link, qrSvg, done: false, declined: false }];
      void share.done.then(() => {
        if (timer) clearTimeout(timer);
        update({ done: true, ...(pending ? { progress: pending } : {}) });
      });
    } catch (error) {
      this.#error =
        error instanceof BaseError ? userMessage(error) : String(error instanceof Error ? error.message : error);
    }
  }

  /** Stops offering a transfer (its link stops working). */
  stop(id: number): void {
    this.#shares.get(id)?.close();
    this.#shares.delete(id);
    this.#outgoing = this.#outgoing.filter((o) => o.id !== id);
  }

  /** Starts receiving from a link's ticket (the `t` parameter); the offer is then shown for accept or decline. */
  async receive(ticketText: string): Promise<void> {
    if (this.#incoming && !this.#incoming.endedAtMs) return;
    let ticket: ReturnType<typeof decodeTicket>;
    try {
      ticket = decodeTicket(ticketText);
    } catch (error) {
      this.#incoming = {
        sender: "",
        state: "failed",
        interruptions: 0,
        startedAtMs: Date.now(),
        endedAtMs: Date.now(),
        error: describe(error),
      };
      return;
    }
    const transferId = toHex(ticket.transferId);
    const view: IncomingView = { sender: ticket.peer, state: "connecting", interruptions: 0, startedAtMs: Date.now() };
    this.#incoming = view;
    const set = (patch: Partial<IncomingView>) => {
      Object.assign(view, patch);
      this.#incoming = { ...view };
    };
    this.#abort = new AbortController();
    let staged: Awaited<ReturnType<typeof opfsWriters>> | undefined;
    let sink: SequentialSink | undefined;
    let pending: TransferProgress | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const peer = await this.#node.directTarget(ticket.peer);
      const result = await this.#node.libp2p.services.transfer.receive(
        ticket,
        {
          write: async (file, offset, bytes) => {
            await (sink as SequentialSink).write(file, offset, bytes);
          },
        },
        {
          peer,
          signal: this.#abort.signal,
          onOffer: async (files) => {
            set({ state: "offered", files });
            const decision = await new Promise<{ writers?: FileWriter[] } | false>((resolve) => {
              this.#decide = resolve;
            });
            this.#decide = undefined;
            if (!decision) return false;
            if (decision.writers) {
              sink = new SequentialSink(decision.writers);
              set({ state: "receiving", toDisk: true });
            } else {
              this.#releaseStaging = await holdStaging(transferId);
              staged = await opfsWriters(transferId, files);
              sink = new SequentialSink(staged.writers);
              set({ state: "receiving", toDisk: false });
            }
            return true;
          },
          onProgress: (progress) => {
            pending = progress;
            timer ??= setTimeout(() => {
              timer = undefined;
              if (view.state === "receiving") set({ progress: pending });
            }, REPORT_INTERVAL_MS);
          },
          onInterrupted: () => set({ interruptions: view.interruptions + 1 }),
        },
      );
      if (timer) clearTimeout(timer);
      await sink?.close();
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
      if (timer) clearTimeout(timer);
      await sink?.abort();
      await staged?.remove();
      const declined = error instanceof BaseError && error.name === "TransferDeclinedError";
      set({
        state: declined ? "declined" : "failed",
        endedAtMs: Date.now(),
        ...(declined ? {} : { error: describe(error) }),
      });
    }
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

  /** Releases the received files' staging (call when the receive page goes away). */
  dispose(): void {
    this.#releaseStaging?.();
  }
}

function describe(error: unknown): { name: string; message: string } {
  return { name: error instanceof BaseError ? error.name : "Error", message: userMessage(error) };
}

/** Holds a lock on a transfer's staging folder while this tab may still offer its files. */
async function holdStaging(transferId: string): Promise<() => void> {
  return await new Promise((resolve) => {
    void navigator.locks.request(`${RECEIVE_DIR}/${transferId}`, async () => {
      await new Promise<void>((release) => resolve(release));
    });
  });
}

/** Removes staging folders of transfers whose tab is gone (nobody holds their lock). */
async function collectStaged(): Promise<void> {
  try {
    const root = await navigator.storage.getDirectory();
    const base = await root.getDirectoryHandle(RECEIVE_DIR, { create: false });
    for await (const name of (base as unknown as { keys(): AsyncIterable<string> }).keys()) {
      await navigator.locks.request(`${RECEIVE_DIR}/${name}`, { ifAvailable: true }, async (lock) => {
        if (lock) await base.removeEntry(name, { recursive: true }).catch(() => {});
      });
    }
  } catch {
    // nothing staged
  }
}
