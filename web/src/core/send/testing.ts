import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { randomBytes } from "../../lib/bytes.ts";
import { raceSignal } from "../../lib/signals.ts";
import { TransferDeclinedError } from "../../p2p/protocols/common/errors.ts";
import {
  encodeTicket,
  type ReceiveOptions,
  type ReceiveResult,
  SECRET_BYTES,
  type ShareOptions,
  TRANSFER_ID_BYTES,
  type Transfer,
  type TransferFileMeta,
  type TransferShare,
  type TransferSink,
  type TransferSource,
} from "../../p2p/protocols/transfer/index.ts";
import type { FileWriter, StagedFiles, Staging } from "./sinks.ts";

/** A link's ticket, as text, from a sender with a fresh identity. */
export async function ticketText(): Promise<{ text: string; peer: string }> {
  const peer = peerIdFromPrivateKey(await generateKeyPair("Ed25519")).toString();
  const text = encodeTicket({ peer, transferId: randomBytes(TRANSFER_ID_BYTES), secret: randomBytes(SECRET_BYTES) });
  return { text, peer };
}

/** What the sender's side does in the next {@link FakeTransfer.receive}. */
export interface ReceiveScript {
  files: { meta: TransferFileMeta; content: Uint8Array }[];
  /** Connection drops before the first chunk. */
  interruptions?: number;
  /** Wait after the offer, before any chunk, until the receive is aborted. */
  hang?: boolean;
  chunkBytes?: number;
}

/** One share made on a {@link FakeTransfer}: what it was given and a way to have it acknowledged in full. */
export interface FakeShare {
  sources: readonly TransferSource[];
  options: ShareOptions;
  share: TransferShare & { closed: boolean };
  finish(): void;
}

/** The transfer protocol's two ends played in memory: shares wait for `finish()`, receives play a script. */
export class FakeTransfer implements Pick<Transfer, "share" | "receive"> {
  readonly shares: FakeShare[] = [];
  script: ReceiveScript = { files: [] };
  failShare: Error | undefined;

  async share(sources: readonly TransferSource[], options: ShareOptions = {}): Promise<TransferShare> {
    if (this.failShare) throw this.failShare;
    const { text } = await ticketText();
    const { promise, resolve } = Promise.withResolvers<void>();
    const share = {
      ticket: { peer: "", transferId: new Uint8Array(), secret: new Uint8Array() },
      link: text,
      files: sources.map(({ name, type, size }) => ({ name, type, size })),
      done: promise,
      closed: false,
      close() {
        share.closed = true;
      },
    };
    this.shares.push({ sources, options, share, finish: resolve });
    return share;
  }

  async receive(_link: unknown, sink: TransferSink, options: ReceiveOptions = {}): Promise<ReceiveResult> {
    const { files, interruptions = 0, hang = false, chunkBytes = 1_000 } = this.script;
    const signal = options.signal ?? new AbortController().signal;
    const metas = files.map((f) => f.meta);
    if (!(await (options.onOffer?.(metas, undefined) ?? true))) throw new TransferDeclinedError();
    for (let i = 0; i < interruptions; i++) options.onInterrupted?.(0, new Error("the connection dropped"));
    if (hang) await raceSignal(new Promise(() => {}), signal);
    const totalBytes = files.reduce((n, f) => n + f.content.byteLength, 0);
    let bytes = 0;
    for (const [index, file] of files.entries()) {
      for (let offset = 0; offset < file.content.byteLength; offset += chunkBytes) {
        signal.throwIfAborted();
        const chunk = file.content.subarray(offset, offset + chunkBytes);
        await sink.write(index, offset, chunk, { signal });
        bytes += chunk.byteLength;
        options.onProgress?.({ bytes, totalBytes, bytesPerSecond: 1e6 });
      }
    }
    return { files: metas, totalBytes, attempts: interruptions + 1 };
  }
}

/** A writer that keeps what it is given. */
export function memoryWriter(): FileWriter & { bytes(): Uint8Array; closed: boolean; aborted: boolean } {
  const chunks: Uint8Array[] = [];
  const writer = {
    closed: false,
    aborted: false,
    write: async (chunk: Uint8Array) => void chunks.push(chunk.slice()),
    close: async () => {
      writer.closed = true;
    },
    abort: async () => {
      writer.aborted = true;
    },
    bytes: () => new Uint8Array(chunks.flatMap((c) => [...c])),
  };
  return writer;
}

/** Staging in memory, recording what was held, released, removed and collected. */
export function memoryStaging(): Staging & {
  held: string[];
  released: string[];
  removed: string[];
  collected: number;
} {
  const staging = {
    held: [] as string[],
    released: [] as string[],
    removed: [] as string[],
    collected: 0,
    async open(transferId: string, files: readonly { name: string }[]): Promise<StagedFiles> {
      const writers = files.map(() => memoryWriter());
      return {
        writers,
        files: async () =>
          writers.map((w, i) => new File([w.bytes() as Uint8Array<ArrayBuffer>], files[i]?.name ?? `file-${i}`)),
        remove: async () => void staging.removed.push(transferId),
      };
    },
    async hold(transferId: string): Promise<() => void> {
      staging.held.push(transferId);
      return () => void staging.released.push(transferId);
    },
    async collect(): Promise<void> {
      staging.collected++;
    },
  };
  return staging;
}
