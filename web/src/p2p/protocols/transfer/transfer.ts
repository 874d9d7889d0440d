import type { Connection, DialTarget } from "@libp2p/interface";
import { serviceCapabilities } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import type { Address } from "viem";
import { toHex } from "../../../lib/bytes.ts";
import { abortReason, sleep } from "../../../lib/signals.ts";
import type { SigningComponents } from "../common/components.ts";
import {
  MalformedMessageError,
  PaymentRefusedError,
  PaymentStoppedError,
  PeerDisconnectedError,
  ProtocolTimeoutError,
  RemoteRefusedError,
  TransferDeclinedError,
  TransferIntegrityError,
  TransferInterruptedError,
  TransferLinkError,
} from "../common/errors.ts";
import type { FramedStream } from "../common/framing.ts";
import { ProtocolService } from "../common/service.ts";
import { SendWindow } from "../common/window.ts";
import { decodeTerms, encodeTerms, type PaymentTerms } from "../pay/index.ts";
import {
  decodeFileList,
  decodeReceiverMessage,
  decodeSenderMessage,
  encodeFileList,
  encodeReceiverMessage,
  encodeSenderMessage,
  type TransferFileMeta,
} from "./codec.ts";
import {
  CHUNK_BYTES,
  MAX_CHUNK_BYTES,
  MAX_FILES,
  MAX_INBOUND_STREAMS,
  MAX_MESSAGE_BYTES,
  MAX_NAME_BYTES,
  MAX_OUTBOUND_STREAMS,
  MAX_TYPE_BYTES,
  MESSAGE_TIMEOUT_MS,
  MIN_CHUNK_BYTES,
  PAID_CHUNK_BYTES,
  RECEIVE_AHEAD_CHUNKS,
  REFUSAL_DRAIN_MS,
  RESUME_ATTEMPTS,
  RESUME_BACKOFF_MAX_MS,
  RESUME_BACKOFF_MS,
  SECRET_BYTES,
  SEND_AHEAD_CHUNKS,
  SPEED_WINDOW_MS,
  TRANSFER_ID_BYTES,
  TRANSFER_PROTOCOL,
  WINDOW_BYTES,
} from "./constants.ts";
import {
  checkHelloTag,
  deriveKeys,
  helloTag,
  openChunk,
  openMeta,
  sealChunk,
  sealMeta,
  type TransferKeys,
} from "./crypto.ts";
import type {
  PayeeGate,
  PayerGate,
  ReceiveOptions,
  ReceiveResult,
  ShareOptions,
  Transfer,
  TransferInit,
  TransferProgress,
  TransferShare,
  TransferSink,
  TransferSource,
} from "./index.ts";
import { decodeReadyMessage, encodeRouteMessage, TRANSFER_PROXY_PROTOCOL } from "./proxy.ts";
import { decodeTicket, encodeTicket, type TransferTicket } from "./ticket.ts";

interface ShareState {
  keys: TransferKeys;
  sources: TransferSource[];
  sealedMeta: Uint8Array;
  chunkBytes: number;
  layout: Layout;
  controller: AbortController;
  acked: number;
  meter: SpeedMeter;
  options: ShareOptions;
  completed: () => void;
}

export class TransferService extends ProtocolService<SigningComponents> implements Transfer {
  readonly protocol = TRANSFER_PROTOCOL;
  readonly #shares = new Map<string, ShareState>();
  readonly #init: TransferInit;

  constructor(components: SigningComponents, init: TransferInit = {}) {
    super(components, {
      maxMessageBytes: MAX_MESSAGE_BYTES,
      timeoutMs: init.timeoutMs ?? MESSAGE_TIMEOUT_MS,
      maxInboundStreams: MAX_INBOUND_STREAMS,
      maxOutboundStreams: MAX_OUTBOUND_STREAMS,
    });
    this.#init = init;
  }

  readonly [Symbol.toStringTag] = "@tabula/transfer";
  readonly [serviceCapabilities]: string[] = ["@tabula/transfer"];

  protected get serving(): boolean {
    return true;
  }

  override async stop(): Promise<void> {
    for (const share of this.#shares.values())
      share.controller.abort(new DOMException("Sharing stopped.", "AbortError"));
    this.#shares.clear();
    await super.stop();
  }

  async share(sources: readonly TransferSource[], options: ShareOptions = {}): Promise<TransferShare> {
    checkSources(sources);
    const chunkBytes =
      options.chunkBytes ?? (options.payment ? PAID_CHUNK_BYTES : (this.#init.chunkBytes ?? CHUNK_BYTES));
    if (!Number.isSafeInteger(chunkBytes) || chunkBytes < MIN_CHUNK_BYTES || chunkBytes > MAX_CHUNK_BYTES) {
      throw new RangeError(`chunks are ${MIN_CHUNK_BYTES} to ${MAX_CHUNK_BYTES} bytes`);
    }
    const transferId = crypto.getRandomValues(new Uint8Array(TRANSFER_ID_BYTES));
    const secret = crypto.getRandomValues(new Uint8Array(SECRET_BYTES));
    const keys = await deriveKeys(secret, transferId);
    const files = sources.map((s) => ({ name: s.name, size: s.size, type: s.type }));
    const sealedMeta = await sealMeta(keys, encodeFileList(files));
    const key = toHex(transferId);
    let completed = () => {};
    const done = new Promise<void>((resolve) => {
      completed = resolve;
    });
    const state: ShareState = {
      keys,
      sources: [...sources],
      sealedMeta,
      chunkBytes,
      layout: layoutOf(files),
      controller: new AbortController(),
      acked: 0,
      meter: new SpeedMeter(),
      options,
      completed,
    };
    this.#shares.set(key, state);
    const ticket: TransferTicket = {
      peer: this.components.peerId.toString(),
      transferId,
      secret,
      ...(options.payment ? { terms: options.payment.terms } : {}),
    };
    return {
      ticket,
      link: encodeTicket(ticket),
      files,
      done,
      close: () => {
        state.controller.abort(new DOMException("The sender closed the share.", "AbortError"));
        this.#shares.delete(key);
      },
    };
  }

  protected async serve(framed: FramedStream, connection: Connection, shutdown: AbortSignal): Promise<void> {
    const hello = decodeReceiverMessage(await framed.readRequired({ signal: shutdown }));
    if (hello.type !== "hello") throw new MalformedMessageError(this.protocol, `expected hello, got ${hello.type}`);
    const state = this.#shares.get(toHex(hello.transferId));
    if (!state || !checkHelloTag(state.keys, connection.remotePeer.toString(), hello.auth)) {
      // One answer for "no such transfer" and "wrong key": nothing to learn by guessing.
      await framed.write(encodeSenderMessage({ type: "error", code: "unknown-transfer", message: "" }), {
        signal: shutdown,
      });
      await framed.close({ signal: shutdown });
      return;
    }
    const signal = AbortSignal.any([shutdown, state.controller.signal]);
    const terms = state.options.payment ? encodeTerms(state.options.payment.terms) : undefined;
    await framed.write(
      encodeSenderMessage({
        type: "offer",
        meta: state.sealedMeta,
        chunkBytes: state.chunkBytes,
        ...(terms ? { terms } : {}),
      }),
      { signal },
    );
    const answer = decodeReceiverMessage(await framed.readRequired({ signal }));
    if (answer.type === "decline") {
      state.options.onDeclined?.();
      await framed.close({ signal });
      return;
    }
    if (answer.type !== "accept") throw new MalformedMessageError(this.protocol, `expected accept, got ${answer.type}`);
    if (!isChunkBoundary(state.layout, state.chunkBytes, answer.position)) {
      throw new MalformedMessageError(this.protocol, "resume position is not a chunk boundary");
    }
    let gate: PayeeGate | undefined;
    const paid = state.options.payment;
    if (paid) {
      const first = decodeReceiverMessage(await framed.readRequired({ signal }));
      try {
        if (first.type !== "payment") throw new PaymentRefusedError("the link is paid and no payment came");
        gate = await paid.admit(first, {
          receiver: connection.remotePeer.toString(),
          totalBytes: state.layout.total,
          position: answer.position,
          signal,
        });
      } catch (error) {
        if (error instanceof PaymentRefusedError) {
          await framed.write(
            encodeSenderMessage({ type: "error", code: "payment-refused", message: error.shortMessage }),
            {
              signal,
            },
          );
          await framed.close({ signal });
        }
        throw error;
      }
    }
    await this.#send(framed, state, answer.position, signal, gate);
  }

  async #send(
    framed: FramedStream,
    state: ShareState,
    start: number,
    outer: AbortSignal,
    gate: PayeeGate | undefined,
  ): Promise<void> {
    const exchange = new AbortController();
    const signal = AbortSignal.any([outer, exchange.signal]);
    const window = new SendWindow(WINDOW_BYTES);
    const { layout } = state;
    // End positions of chunks sent and not yet acknowledged, oldest first.
    const unacked: number[] = [];
    let sent = start;
    let acked = start;
    const acks = (async () => {
      while (acked < layout.total || (gate && !gate.paid(layout.total))) {
        const message = decodeReceiverMessage(await framed.readRequired({ signal }));
        if (message.type === "payment" && gate) {
          const answer = await gate.receive(message);
          // Queued behind the chunks, not waiting for them to drain: the payer's next payments are read meanwhile.
          if (answer) framed.queue(encodeSenderMessage({ type: "payment", ...answer }));
          continue;
        }
        if (message.type !== "ack" || message.position <= acked || message.position > sent) {
          throw new MalformedMessageError(this.protocol, "acknowledgement out of order");
        }
        while (unacked.length > 0 && (unacked[0] as number) <= message.position) {
          const end = unacked.shift() as number;
          window.release(end - acked);
          acked = end;
        }
        acked = message.position;
        if (acked > state.acked) {
          state.acked = acked;
          state.options.onProgress?.(progressOf(state.meter, acked, layout.total));
        }
      }
    })().catch((error: unknown) => {
      exchange.abort(error);
      throw error;
    });
    // Its failure reaches the sending loop through `exchange`; this keeps it from being reported as unhandled.
    acks.catch(() => {});
    try {
      let { file, offset } = locate(layout, start);
      /** The next chunk to send, or undefined at the end. */
      const nextChunk = (): { file: number; offset: number; length: number } | undefined => {
        while (file < layout.sizes.length && offset >= (layout.sizes[file] as number)) {
          file += 1;
          offset = 0;
        }
        if (file >= layout.sizes.length) return undefined;
        const chunk = { file, offset, length: Math.min(state.chunkBytes, (layout.sizes[file] as number) - offset) };
        offset += chunk.length;
        return chunk;
      };
      const seal = async (chunk: { file: number; offset: number; length: number }): Promise<Uint8Array> => {
        const source = state.sources[chunk.file] as TransferSource;
        const plain = await source.read(chunk.offset, chunk.length, { signal });
        if (plain.byteLength !== chunk.length)
          throw new RangeError(`file ${chunk.file} changed while it was being sent`);
        return await sealChunk(state.keys, chunk.file, chunk.offset, plain);
      };
      // The next chunks are read and sealed while the current one is written.
      const ahead: { file: number; offset: number; length: number; sealed: Promise<Uint8Array> }[] = [];
      let chunk = nextChunk();
      while (chunk || ahead.length > 0) {
        while (chunk && ahead.length < SEND_AHEAD_CHUNKS) {
          await window.reserve(chunk.length, signal);
          const sealed = seal(chunk);
          sealed.catch(() => {});
          ahead.push({ ...chunk, sealed });
          chunk = nextChunk();
        }
        const current = ahead.shift() as (typeof ahead)[number];
        const sealed = await current.sealed;
        await gate?.allow((layout.starts[current.file] as number) + current.offset + current.length, signal);
        await framed.write(encodeSenderMessage({ type: "chunk", file: current.file, offset: current.offset, sealed }), {
          signal,
        });
        sent += current.length;
        unacked.push(sent);
      }
      await framed.write(encodeSenderMessage({ type: "done" }), { signal });
      await acks;
    } catch (caught) {
      exchange.abort(caught);
      // The first failure is the cause: a payment the acknowledging side refused aborts whatever this side awaited.
      const error: unknown = exchange.signal.reason;
      const payment = error instanceof PaymentStoppedError || error instanceof PaymentRefusedError;
      if (payment) {
        // The receiver is told why, so that it does not reconnect to a sender that will not take its payments.
        const code = error instanceof PaymentStoppedError ? "payment-stopped" : "payment-refused";
        await framed
          .write(encodeSenderMessage({ type: "error", code, message: error.shortMessage }), { signal: outer })
          .catch(() => {});
        // Closed rather than reset, so the message reaches the receiver before the stream ends; what the receiver
        // still sends until it reads it is taken and dropped, so that its writes do not fail first.
        await framed.close({ signal: outer }).catch(() => {});
        const drained = AbortSignal.any([outer, AbortSignal.timeout(REFUSAL_DRAIN_MS)]);
        while ((await framed.read({ signal: drained }).catch(() => undefined)) !== undefined);
      }
      throw signal.aborted && !payment ? abortReason(signal) : error;
    }
    if (acked === layout.total) state.completed();
    await framed.close({ signal: outer });
  }

  async receive(
    link: string | TransferTicket,
    sink: TransferSink,
    options: ReceiveOptions = {},
  ): Promise<ReceiveResult> {
    const { signal } = options;
    const ticket = typeof link === "string" ? decodeTicket(link) : link;
    let target: DialTarget;
    try {
      target = options.peer ?? peerIdFromString(ticket.peer);
    } catch {
      throw new TransferLinkError("the sender's peer id is malformed");
    }
    const keys = await deriveKeys(ticket.secret, ticket.transferId);
    const session: ReceiveState = { position: options.startPosition ?? 0, meter: new SpeedMeter() };
    let attempts = 0;
    let failures = 0;
    while (true) {
      attempts += 1;
      const before = session.position;
      try {
        await this.#receiveOnce(target, keys, sink, session, options, ticket.terms, ticket.peer);
        const layout = session.layout as Layout;
        return { files: session.files ?? [], totalBytes: layout.total, attempts };
      } catch (error) {
        if (signal?.aborted) throw abortReason(signal);
        if (!isTransient(error)) throw error;
        failures = session.position > before ? 1 : failures + 1;
        if (failures > (options.maxAttempts ?? RESUME_ATTEMPTS)) {
          throw new TransferInterruptedError(session.position, attempts, { cause: error });
        }
        options.onInterrupted?.(session.position, error);
        const pause = Math.min(RESUME_BACKOFF_MS * 2 ** (failures - 1), RESUME_BACKOFF_MAX_MS);
        await sleep(pause, signal);
      }
    }
  }

  /**
   * A transfer stream to `to` carried by the proxy at `via`: asks for the route and waits for the proxy's answer.
   * Only a paid link is carried (the proxy is paid on the route).
   */
  async #openRoute(
    via: DialTarget,
    to: string,
    terms: PaymentTerms | undefined,
    signal: AbortSignal | undefined,
  ): Promise<{ framed: FramedStream; proxy: Address }> {
    if (!terms) throw new TransferLinkError("only a paid link can be carried by a proxy");
    const options = signal ? { signal } : {};
    const connection = await this.components.connectionManager.openConnection(via, options);
    const framed = this.frame(await connection.newStream(TRANSFER_PROXY_PROTOCOL, options));
    try {
      await framed.write(encodeRouteMessage({ type: "route", to, terms }), options);
      const ready = decodeReadyMessage(await framed.readRequired(options));
      if (ready.type === "error") throw new RemoteRefusedError(TRANSFER_PROXY_PROTOCOL, ready.code, ready.message);
      return { framed, proxy: ready.proxy };
    } catch (error) {
      framed.abort(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  async #receiveOnce(
    target: DialTarget,
    keys: TransferKeys,
    sink: TransferSink,
    session: ReceiveState,
    options: ReceiveOptions,
    linkTerms: PaymentTerms | undefined,
    senderPeer: string,
  ): Promise<void> {
    const { signal } = options;
    const { framed, proxy } = options.via
      ? await this.#openRoute(options.via.target, senderPeer, linkTerms, signal)
      : { ...(await this.open(target, signal)), proxy: undefined };
    if (proxy) options.onRoute?.(proxy);
    try {
      // The proof of the link is bound to the peer it is shown to: the sender, or the proxy that carries it.
      const auth = helloTag(keys, options.via?.peer ?? this.components.peerId.toString());
      await framed.write(encodeReceiverMessage({ type: "hello", transferId: keys.transferId, auth }), { signal });
      const offer = decodeSenderMessage(await framed.readRequired({ signal }));
      if (offer.type === "error") throw new RemoteRefusedError(this.protocol, offer.code, offer.message);
      if (offer.type !== "offer") throw new MalformedMessageError(this.protocol, `expected offer, got ${offer.type}`);
      if (offer.chunkBytes < MIN_CHUNK_BYTES) throw new MalformedMessageError(this.protocol, "chunk size too small");
      const files = decodeFileList(await openMeta(keys, offer.meta));
      // A paid share says so in its offer too, so that a link stripped of its terms cannot take the bytes unpaid.
      const terms = offer.terms ? decodeTerms(offer.terms) : undefined;
      if (linkTerms && (!terms || !sameTerms(terms, linkTerms))) {
        throw new TransferIntegrityError("the sender's payment terms differ from its link's");
      }
      const paid = terms !== undefined;
      if (!session.files) {
        const layout = layoutOf(files);
        if (!Number.isSafeInteger(layout.total)) throw new MalformedMessageError(this.protocol, "files too large");
        if (!isChunkBoundary(layout, offer.chunkBytes, session.position)) {
          throw new RangeError("the start position is not a chunk boundary of this transfer");
        }
        if (options.onOffer && !(await options.onOffer(files, terms))) {
          await framed.write(encodeReceiverMessage({ type: "decline" }), { signal });
          await framed.close({ signal });
          throw new TransferDeclinedError();
        }
        session.files = files;
        session.layout = layout;
        session.chunkBytes = offer.chunkBytes;
      } else if (!sameFiles(files, session.files) || offer.chunkBytes !== session.chunkBytes) {
        throw new TransferIntegrityError("the sender's files changed since the transfer started");
      }
      const layout = session.layout as Layout;
      const chunkBytes = session.chunkBytes as number;
      await framed.write(encodeReceiverMessage({ type: "accept", position: session.position }), { signal });
      let gate: PayerGate | undefined;
      if (paid) {
        if (!options.payer) throw new TransferLinkError("it asks for payment and this tab has no way to pay");
        gate = await options.payer({
          totalBytes: layout.total,
          position: session.position,
          ...(proxy ? { via: proxy } : {}),
        });
        await framed.write(encodeReceiverMessage({ type: "payment", ...gate.opening }), { signal });
      }
      const pay = async (payment: Awaited<ReturnType<PayerGate["received"]>>) => {
        if (payment) await framed.write(encodeReceiverMessage({ type: "payment", ...payment }), { signal });
      };
      // A resumed session pays for what was written at once: payments in flight at the drop were lost, and no
      // chunk may come to carry them (every byte may be in already).
      if (gate && session.position > 0) await pay(await gate.received(session.position));
      // Chunks are decrypted as they arrive and written to the sink in order behind them, so decryption, the
      // sink's writes and the network overlap; at most RECEIVE_AHEAD_CHUNKS wait, whatever the sender sends.
      let queued = session.position;
      let written: Promise<void> = Promise.resolve();
      const waiting: Promise<void>[] = [];
      try {
        while (true) {
          if (waiting.length >= RECEIVE_AHEAD_CHUNKS) await waiting.shift();
          const message = decodeSenderMessage(await framed.readRequired({ signal }));
          if (message.type === "error") throw new RemoteRefusedError(this.protocol, message.code, message.message);
          if (message.type === "payment" && gate) {
            await pay(await gate.answer(message));
            continue;
          }
          if (message.type === "done") {
            if (queued !== layout.total) throw new MalformedMessageError(this.protocol, "done before the end");
            break;
          }
          if (message.type !== "chunk") throw new MalformedMessageError(this.protocol, `unexpected ${message.type}`);
          const at = locate(layout, queued);
          if (message.file !== at.file || message.offset !== at.offset) {
            throw new MalformedMessageError(this.protocol, "chunk out of order");
          }
          const expected = Math.min(chunkBytes, (layout.sizes[at.file] as number) - at.offset);
          queued += expected;
          const opened = openChunk(keys, message.file, message.offset, message.sealed);
          opened.catch(() => {});
          written = written.then(async () => {
            const plain = await opened;
            if (plain.byteLength !== expected) throw new TransferIntegrityError("a chunk has the wrong length");
            await sink.write(message.file, message.offset, plain, signal ? { signal } : {});
            session.position += plain.byteLength;
            await framed.write(encodeReceiverMessage({ type: "ack", position: session.position }), { signal });
            await pay(await gate?.received(session.position));
            options.onProgress?.(progressOf(session.meter, session.position, layout.total));
          });
          written.catch(() => {});
          waiting.push(written);
        }
        await written;
        // The payee countersigns the last payments after its `done`; it closes once they are in.
        while (gate) {
          const message = await framed.read({ signal });
          if (message === undefined) break;
          const decoded = decodeSenderMessage(message);
          if (decoded.type === "error") throw new RemoteRefusedError(this.protocol, decoded.code, decoded.message);
          if (decoded.type !== "payment") throw new MalformedMessageError(this.protocol, `unexpected ${decoded.type}`);
          await pay(await gate.answer(decoded));
        }
      } catch (error) {
        // What was received and opened is written before the session ends, so a resume starts after it.
        await written.catch(() => {});
        throw error;
      }
      await framed.close({ signal });
    } catch (error) {
      const reason = signal?.aborted ? abortReason(signal) : error instanceof Error ? error : new Error(String(error));
      framed.abort(reason);
      throw reason;
    }
  }
}

interface ReceiveState {
  position: number;
  files?: TransferFileMeta[];
  layout?: Layout;
  chunkBytes?: number;
  meter: SpeedMeter;
}

/** Files laid end to end: sizes, start positions, total. */
interface Layout {
  sizes: number[];
  starts: number[];
  total: number;
}

function layoutOf(files: readonly TransferFileMeta[]): Layout {
  const starts: number[] = [];
  let total = 0;
  for (const file of files) {
    starts.push(total);
    total += file.size;
  }
  return { sizes: files.map((f) => f.size), starts, total };
}

/** File and offset of a position; past the end it is (file count, 0). Empty files are skipped. */
function locate(layout: Layout, position: number): { file: number; offset: number } {
  for (const [file, size] of layout.sizes.entries()) {
    const start = layout.starts[file] as number;
    if (position < start + size) return { file, offset: position - start };
  }
  return { file: layout.sizes.length, offset: 0 };
}

function isChunkBoundary(layout: Layout, chunkBytes: number, position: number): boolean {
  if (!Number.isSafeInteger(position) || position < 0 || position > layout.total) return false;
  if (position === layout.total) return true;
  return locate(layout, position).offset % chunkBytes === 0;
}

function sameTerms(a: PaymentTerms, b: PaymentTerms): boolean {
  return (
    a.chainId === b.chainId &&
    a.payee === b.payee &&
    a.pricePerMB === b.pricePerMB &&
    a.schemes.length === b.schemes.length &&
    a.schemes.every((scheme, i) => scheme === b.schemes[i])
  );
}

function sameFiles(a: readonly TransferFileMeta[], b: readonly TransferFileMeta[]): boolean {
  return (
    a.length === b.length && a.every((f, i) => f.name === b[i]?.name && f.size === b[i]?.size && f.type === b[i]?.type)
  );
}

function checkSources(sources: readonly TransferSource[]): void {
  const encoder = new TextEncoder();
  if (sources.length > MAX_FILES) throw new RangeError(`at most ${MAX_FILES} files per transfer`);
  let total = 0;
  for (const source of sources) {
    if (!Number.isSafeInteger(source.size) || source.size < 0) throw new RangeError(`bad size for ${source.name}`);
    if (encoder.encode(source.name).byteLength > MAX_NAME_BYTES) throw new RangeError("a file name is too long");
    if (encoder.encode(source.type).byteLength > MAX_TYPE_BYTES) throw new RangeError("a file type is too long");
    total += source.size;
  }
  if (!Number.isSafeInteger(total)) throw new RangeError("the files are too large together");
}

/** Dropped connections, timeouts and failed dials are worth a reconnection; wrong keys and bad peers are not. */
function isTransient(error: unknown): boolean {
  if (error instanceof PeerDisconnectedError || error instanceof ProtocolTimeoutError) return true;
  if (
    error instanceof RemoteRefusedError ||
    error instanceof MalformedMessageError ||
    error instanceof TransferIntegrityError ||
    error instanceof TransferDeclinedError ||
    error instanceof TransferLinkError ||
    error instanceof PaymentRefusedError ||
    error instanceof RangeError
  ) {
    return false;
  }
  return true;
}

/** Bytes per second over the last {@link SPEED_WINDOW_MS}. */
class SpeedMeter {
  readonly #samples: { at: number; bytes: number }[] = [];

  rate(bytes: number): number {
    const now = performance.now();
    this.#samples.push({ at: now, bytes });
    while (this.#samples.length > 2 && now - (this.#samples[0]?.at as number) > SPEED_WINDOW_MS) this.#samples.shift();
    const first = this.#samples[0] as { at: number; bytes: number };
    const seconds = (now - first.at) / 1000;
    return seconds > 0 ? (bytes - first.bytes) / seconds : 0;
  }
}

function progressOf(meter: SpeedMeter, bytes: number, totalBytes: number): TransferProgress {
  return { bytes, totalBytes, bytesPerSecond: meter.rate(bytes) };
}
