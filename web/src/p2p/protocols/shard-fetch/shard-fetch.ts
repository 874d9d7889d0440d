import type { AbortOptions, Connection, DialTarget, PeerId } from "@libp2p/interface";
import { serviceCapabilities } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import type { BaseError } from "../../../lib/errors.ts";
import { abortReason } from "../../../lib/signals.ts";
import type { ProtocolComponents } from "../common/components.ts";
import {
  MalformedMessageError,
  PaymentRefusedError,
  PaymentRequiredError,
  PaymentStoppedError,
  PieceMismatchError,
  RemoteRefusedError,
} from "../common/errors.ts";
import type { FramedStream } from "../common/framing.ts";
import { pieceMatches } from "../common/pieces.ts";
import { ProtocolService } from "../common/service.ts";
import type { PayeeGate, PayerGate } from "../transfer/index.ts";
import { decodeHostMessage, decodeRequesterMessage, encodeHostMessage, encodeRequesterMessage } from "./codec.ts";
import {
  FINAL_PAYMENTS_MS,
  MAX_INBOUND_STREAMS,
  MAX_MESSAGE_BYTES,
  MAX_OUTBOUND_STREAMS,
  MAX_WANT_CIDS,
  MESSAGE_TIMEOUT_MS,
  SHARD_FETCH_PROTOCOL,
  WINDOW_PIECES,
} from "./constants.ts";
import type { FetchedPiece, FetchPiecesOptions, ShardFetch, ShardFetchHost, ShardFetchInit } from "./index.ts";

export class ShardFetchService extends ProtocolService implements ShardFetch {
  readonly protocol = SHARD_FETCH_PROTOCOL;
  readonly #init: ShardFetchInit;

  constructor(components: ProtocolComponents, init: ShardFetchInit = {}) {
    super(components, {
      maxMessageBytes: MAX_MESSAGE_BYTES,
      timeoutMs: init.timeoutMs ?? MESSAGE_TIMEOUT_MS,
      maxInboundStreams: init.maxInboundStreams ?? MAX_INBOUND_STREAMS,
      maxOutboundStreams: MAX_OUTBOUND_STREAMS,
    });
    this.#init = init;
  }

  readonly [Symbol.toStringTag] = "@tabula/shard-fetch";
  readonly [serviceCapabilities]: string[] = ["@tabula/shard-fetch"];

  protected get serving(): boolean {
    return this.#init.host !== undefined;
  }

  async *fetchPieces(
    peer: DialTarget,
    cids: readonly CID[],
    options: FetchPiecesOptions = {},
  ): AsyncGenerator<FetchedPiece> {
    const { signal } = options;
    if (cids.length === 0) return;
    const { framed } = await this.open(peer, signal);
    const window = Math.max(1, Math.min(options.windowPieces ?? WINDOW_PIECES, MAX_WANT_CIDS));
    const gate = options.payer?.gate;
    let requested = 0;
    let received = 0;
    const request = async (count: number) => {
      const batch = cids.slice(requested, requested + count);
      if (batch.length === 0) return;
      requested += batch.length;
      await framed.write(encodeRequesterMessage({ type: "want", cids: batch }), { signal });
    };
    const pay = async (payment: Awaited<ReturnType<PayerGate["received"]>>) => {
      if (payment) await framed.write(encodeRequesterMessage({ type: "payment", ...payment }), { signal });
    };
    /** The host's next message, its payment answers taken on the way. */
    const next = async () => {
      while (true) {
        const message = decodeHostMessage(await framed.readRequired({ signal }));
        if (message.type === "error") throw new RemoteRefusedError(this.protocol, message.code, message.message);
        if (message.type === "held") throw new MalformedMessageError(this.protocol, "a held answer to a want");
        if (message.type !== "payment") return message;
        if (!gate) throw new MalformedMessageError(this.protocol, "a payment answer on a free fetch");
        await pay(await gate.answer(message));
      }
    };
    let finished = false;
    try {
      if (options.payer) {
        const { opening } = options.payer.gate;
        const total = options.payer.totalBytes;
        await framed.write(encodeRequesterMessage({ type: "paid", total, ...opening }), { signal });
      }
      await request(window);
      for (const expected of cids) {
        const message = await next();
        if (!message.cid.equals(expected)) throw new MalformedMessageError(this.protocol, "pieces out of order");
        // Ask for the next one before handing this one over, so the host keeps a window's worth in flight.
        await request(1);
        if (message.type === "missing") {
          yield { cid: expected, bytes: undefined };
          continue;
        }
        if (!(await pieceMatches(expected, message.bytes))) throw new PieceMismatchError(expected.toString());
        received += message.bytes.byteLength;
        // Paid once verified, and before it is handed over.
        if (gate) await pay(await gate.received(received));
        yield { cid: expected, bytes: message.bytes };
      }
      if (gate) {
        // The last payment is in: the host takes it, answers it, and closes.
        await framed.write(encodeRequesterMessage({ type: "done" }), { signal });
        while (true) {
          const bytes = await framed.read({ signal });
          if (bytes === undefined) break;
          const message = decodeHostMessage(bytes);
          if (message.type === "error") throw new RemoteRefusedError(this.protocol, message.code, message.message);
          if (message.type !== "payment") throw new MalformedMessageError(this.protocol, `unexpected ${message.type}`);
          await pay(await gate.answer(message));
        }
      }
      await framed.close({ signal });
      finished = true;
    } catch (error) {
      const reason = signal?.aborted ? abortReason(signal) : error instanceof Error ? error : new Error(String(error));
      framed.abort(reason);
      finished = true;
      throw reason;
    } finally {
      // The consumer stopped early (break, return): nothing more is wanted.
      if (!finished) framed.abort(new DOMException("The fetch was cancelled.", "AbortError"));
    }
  }

  async holds(peer: DialTarget, cids: readonly CID[], options: AbortOptions = {}): Promise<CID[]> {
    const { signal } = options;
    if (cids.length === 0) return [];
    if (cids.length > MAX_WANT_CIDS) throw new RangeError(`ask about at most ${MAX_WANT_CIDS} pieces at once`);
    const { framed } = await this.open(peer, signal);
    try {
      await framed.write(encodeRequesterMessage({ type: "have", cids: [...cids] }), { signal });
      const message = decodeHostMessage(await framed.readRequired({ signal }));
      if (message.type === "error") throw new RemoteRefusedError(this.protocol, message.code, message.message);
      if (message.type !== "held") throw new MalformedMessageError(this.protocol, `unexpected ${message.type}`);
      await framed.close({ signal });
      // Only what was asked counts.
      return cids.filter((cid) => message.cids.some((held) => held.equals(cid)));
    } catch (error) {
      framed.abort(signal?.aborted ? abortReason(signal) : error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
  }

  protected async serve(framed: FramedStream, connection: Connection, outer: AbortSignal): Promise<void> {
    const host = this.#init.host;
    if (!host) return;
    const from = connection.remotePeer;
    const exchange = new AbortController();
    const signal = AbortSignal.any([outer, exchange.signal]);
    const first = decodeRequesterMessage(await framed.readRequired({ signal }));
    if (first.type === "have") return await this.#answerHave(framed, host, first.cids, from, outer);
    const paid = host.payment?.();
    let gate: PayeeGate | undefined;
    if (first.type === "paid") {
      try {
        if (!paid) throw new PaymentRefusedError("this host serves its pieces free: fetch them without a payment");
        gate = await paid.admit(
          { scheme: first.scheme, data: first.data },
          { receiver: from.toString(), totalBytes: first.total, position: 0, signal },
        );
      } catch (error) {
        if (error instanceof PaymentRefusedError) await this.#refuse(framed, error, outer);
        throw error;
      }
      try {
        return await this.#serve(framed, host, from, { signal, exchange, outer, gate });
      } finally {
        paid.end?.({ scheme: first.scheme, data: first.data });
      }
    }
    if (first.type === "payment") throw new MalformedMessageError(this.protocol, "a payment on a free fetch");
    const wanted = first.type === "want" ? first.cids : [];
    return await this.#serve(framed, host, from, {
      signal,
      exchange,
      outer,
      first: wanted,
      ended: first.type === "done",
      // A paid host serves a fetch without a payment only the blocks it gives free.
      ...(paid ? { charged: (cid: CID) => !(host.free?.(cid) ?? false) } : {}),
    });
  }

  /** Which of `cids` the host holds and would serve to `from`, and closes. */
  async #answerHave(
    framed: FramedStream,
    host: ShardFetchHost,
    cids: CID[],
    from: PeerId,
    signal: AbortSignal,
  ): Promise<void> {
    const held: CID[] = [];
    for (const cid of cids) {
      if (host.canServe && !(await host.canServe(cid, from))) continue;
      const has = host.hasPiece ? await host.hasPiece(cid) : (await host.readPiece(cid, { signal })) !== undefined;
      if (has) held.push(cid);
    }
    await framed.write(encodeHostMessage({ type: "held", cids: held }), { signal });
    await framed.close({ signal });
  }

  /** Serves the wanted pieces in order, through `gate` when the fetch is paid, until the requester is done. */
  async #serve(
    framed: FramedStream,
    host: ShardFetchHost,
    from: PeerId,
    session: {
      signal: AbortSignal;
      exchange: AbortController;
      outer: AbortSignal;
      gate?: PayeeGate;
      /** Pieces wanted in the opening message. */
      first?: CID[];
      /** The opening said the requester wants nothing. */
      ended?: boolean;
      /** Whether a piece needs a payment this fetch does not carry. */
      charged?: (cid: CID) => boolean;
    },
  ): Promise<void> {
    const { signal, exchange, outer, gate, charged } = session;
    // Wanted pieces, in order, and whether the requester said it wants no more.
    const wanted: CID[] = [...(session.first ?? [])];
    let ended = session.ended ?? false;
    const arrived = new Wakeup();
    const reading = (async () => {
      while (true) {
        // Not stopped by the exchange: a refusal is written and the stream closed before it is reset.
        const bytes = await framed.read({ signal: outer });
        const message = bytes === undefined ? ({ type: "done" } as const) : decodeRequesterMessage(bytes);
        if (message.type === "done") {
          ended = true;
          arrived.notify();
          return;
        }
        if (message.type === "paid") throw new MalformedMessageError(this.protocol, "a second paid opening");
        if (message.type === "payment") {
          if (!gate) throw new MalformedMessageError(this.protocol, "a payment on a free fetch");
          const answer = await gate.receive(message);
          // Queued behind the pieces, not waiting for them to drain: the next payments are read meanwhile.
          if (answer) framed.queue(encodeHostMessage({ type: "payment", ...answer }));
          continue;
        }
        wanted.push(...message.cids);
        if (wanted.length > MAX_WANT_CIDS * 2) throw new MalformedMessageError(this.protocol, "too many pieces wanted");
        arrived.notify();
      }
    })().catch((error: unknown) => {
      exchange.abort(error);
      throw error;
    });
    reading.catch(() => {});
    let served = 0;
    try {
      while (true) {
        while (wanted.length === 0 && !ended) await arrived.next(signal);
        const cid = wanted.shift();
        if (cid === undefined) break;
        if (charged?.(cid)) throw new PaymentRequiredError();
        const allowed = host.canServe ? await host.canServe(cid, from) : true;
        const piece = allowed ? await host.readPiece(cid, { signal }) : undefined;
        // No piece goes beyond what was paid for plus the credit.
        if (piece && gate) await gate.allow(served + piece.byteLength, signal);
        const reply = piece ? { type: "block" as const, cid, bytes: piece } : { type: "missing" as const, cid };
        await framed.write(encodeHostMessage(reply), { signal });
        if (piece) {
          served += piece.byteLength;
          host.onServed?.(cid, piece.byteLength, from);
        }
      }
      await reading;
      // The last payments follow the last pieces (a unit may wait for the answer to the one before): they are
      // taken until what was served is paid for, or for a little while; what stays unpaid is within the credit
      // (a requester that lacked a piece never pays the last part of a unit).
      const last = AbortSignal.any([signal, AbortSignal.timeout(FINAL_PAYMENTS_MS)]);
      while (gate && !gate.paid(served)) {
        const bytes = await framed.read({ signal: last }).catch(() => undefined);
        if (bytes === undefined) break;
        const message = decodeRequesterMessage(bytes);
        if (message.type !== "payment") throw new MalformedMessageError(this.protocol, `unexpected ${message.type}`);
        const answer = await gate.receive(message);
        if (answer) await framed.write(encodeHostMessage({ type: "payment", ...answer }), { signal });
      }
    } catch (caught) {
      exchange.abort(caught);
      const error: unknown = exchange.signal.reason;
      if (
        error instanceof PaymentStoppedError ||
        error instanceof PaymentRefusedError ||
        error instanceof PaymentRequiredError
      ) {
        await this.#refuse(framed, error, outer);
      }
      throw error;
    }
    await framed.close({ signal: outer });
  }

  /** Tells the requester why it is served no more, and closes, so that the reason reaches it. */
  async #refuse(framed: FramedStream, error: BaseError, signal: AbortSignal): Promise<void> {
    const code =
      error instanceof PaymentStoppedError
        ? "payment-stopped"
        : error instanceof PaymentRequiredError
          ? "payment-required"
          : "payment-refused";
    await framed
      .write(encodeHostMessage({ type: "error", code, message: error.shortMessage }), { signal })
      .catch(() => {});
    await framed.close({ signal }).catch(() => {});
  }
}

/** Wakes whoever waits for the requester's next message. */
class Wakeup {
  #wake: () => void = () => {};
  #next = this.#arm();

  notify(): void {
    const wake = this.#wake;
    this.#next = this.#arm();
    wake();
  }

  /** Resolves at the next {@link notify}; rejects when `signal` aborts. */
  async next(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    const next = this.#next;
    await new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(abortReason(signal));
      signal.addEventListener("abort", onAbort, { once: true });
      void next.then(() => {
        signal.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }

  #arm(): Promise<void> {
    return new Promise((resolve) => {
      this.#wake = resolve;
    });
  }
}
