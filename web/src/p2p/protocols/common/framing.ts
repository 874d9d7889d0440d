import type { Stream } from "@libp2p/interface";
import * as lp from "it-length-prefixed";
import type { Uint8ArrayList } from "uint8arraylist";
import { BaseError } from "../../../lib/errors.ts";
import { abortReason, deadline, raceSignal } from "../../../lib/signals.ts";
import { MalformedMessageError, MessageTooLargeError, PeerDisconnectedError, ProtocolTimeoutError } from "./errors.ts";

export interface FramedStreamInit {
  /** The protocol id, for error messages. */
  protocol: string;
  /** Largest message accepted or sent; a longer length prefix aborts the stream before its body is read. */
  maxMessageBytes: number;
  /** How long one read (waiting for the next message) or one write (waiting for the buffer to drain) may take. */
  timeoutMs: number;
}

export interface IoOptions {
  signal?: AbortSignal;
}

/**
 * Length-prefixed messages over a libp2p stream: reads pull one message at a time from the stream's async
 * iterator (so nothing is read ahead of the protocol), writes respect `send()` returning false by waiting for
 * the stream to drain. Every call has a timeout and an abort signal; any failure aborts the stream and throws a
 * named error.
 */
export class FramedStream {
  readonly stream: Stream;
  readonly #init: FramedStreamInit;
  readonly #messages: AsyncGenerator<Uint8ArrayList, void, unknown>;

  constructor(stream: Stream, init: FramedStreamInit) {
    this.stream = stream;
    this.#init = init;
    this.#messages = lp.decode(stream, { maxDataLength: init.maxMessageBytes });
  }

  /** The next message, or `undefined` once the remote closed its side of the stream cleanly. */
  async read(options: IoOptions = {}): Promise<Uint8Array | undefined> {
    const { protocol, timeoutMs } = this.#init;
    const limit = deadline(
      timeoutMs,
      () => new ProtocolTimeoutError(protocol, "send a message", timeoutMs),
      options.signal,
    );
    try {
      const result = await raceSignal(this.#messages.next(), limit.signal);
      return result.done ? undefined : result.value.subarray();
    } catch (error) {
      throw this.#fail(error, limit.signal);
    } finally {
      limit.clear();
    }
  }

  /** The next message; the stream ending first is a {@link PeerDisconnectedError}. */
  async readRequired(options: IoOptions = {}): Promise<Uint8Array> {
    const message = await this.read(options);
    if (message === undefined) throw this.#fail(new PeerDisconnectedError(this.#init.protocol));
    return message;
  }

  /** Sends one message, waiting for the stream to drain when its buffer is full. */
  async write(message: Uint8Array, options: IoOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    if (this.queue(message)) return;
    const { protocol, timeoutMs } = this.#init;
    const limit = deadline(
      timeoutMs,
      () => new ProtocolTimeoutError(protocol, "accept more data", timeoutMs),
      options.signal,
    );
    try {
      await this.stream.onDrain({ signal: limit.signal });
    } catch (error) {
      throw this.#fail(error, limit.signal);
    } finally {
      limit.clear();
    }
  }

  /**
   * Queues one message behind what is queued already, without waiting for the buffer to drain; whether the buffer
   * still has room. For a short answer that must not wait for the bulk data this side writes (whose writes wait
   * for the drain, and so bound the buffer).
   */
  queue(message: Uint8Array): boolean {
    const { protocol, maxMessageBytes } = this.#init;
    if (message.byteLength > maxMessageBytes) {
      throw new MessageTooLargeError(protocol, maxMessageBytes, { bytes: message.byteLength });
    }
    try {
      return this.stream.send(lp.encode.single(message));
    } catch (error) {
      throw this.#fail(error);
    }
  }

  /** Closes our writable side once everything queued is sent; the remote can still answer. */
  async close(options: IoOptions = {}): Promise<void> {
    const { protocol, timeoutMs } = this.#init;
    if (this.stream.writeStatus !== "writable") return;
    const limit = deadline(
      timeoutMs,
      () => new ProtocolTimeoutError(protocol, "take the last data", timeoutMs),
      options.signal,
    );
    try {
      await this.stream.close({ signal: limit.signal });
    } catch (error) {
      throw this.#fail(error, limit.signal);
    } finally {
      limit.clear();
    }
  }

  /** Resets the stream; the remote sees the stream fail. */
  abort(error: Error): void {
    this.stream.abort(error);
  }

  /** Names the failure, aborts the stream with it and returns it for throwing. */
  #fail(error: unknown, signal?: AbortSignal): Error {
    const named = this.#name(error, signal);
    this.stream.abort(named);
    return named;
  }

  #name(error: unknown, signal?: AbortSignal): Error {
    const { protocol, maxMessageBytes } = this.#init;
    if (signal?.aborted) return abortReason(signal);
    if (error instanceof BaseError) return error;
    const name = error instanceof Error ? error.name : "";
    switch (name) {
      case "InvalidDataLengthError":
      case "InvalidDataLengthLengthError":
        return new MessageTooLargeError(protocol, maxMessageBytes, { cause: error });
      case "InvalidMessageLengthError":
        return new MalformedMessageError(protocol, "bad length prefix", { cause: error });
      case "AbortError":
        return error as Error;
      default:
        return new PeerDisconnectedError(protocol, { cause: error });
    }
  }
}
