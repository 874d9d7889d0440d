import type { Connection, DialTarget, Startable, Stream } from "@libp2p/interface";
import type { ProtocolComponents } from "./components.ts";
import { FramedStream } from "./framing.ts";

export interface ServiceLimits {
  maxMessageBytes: number;
  timeoutMs: number;
  maxInboundStreams: number;
  maxOutboundStreams: number;
}

/**
 * What every Tabula protocol service shares: registering its handler while started (when it serves at all),
 * opening framed streams to peers, and aborting in-flight inbound exchanges on stop.
 */
export abstract class ProtocolService<C extends ProtocolComponents = ProtocolComponents> implements Startable {
  abstract readonly protocol: string;
  protected readonly components: C;
  protected readonly limits: ServiceLimits;
  #started = false;
  #shutdown = new AbortController();

  constructor(components: C, limits: ServiceLimits) {
    this.components = components;
    this.limits = limits;
  }

  /** Whether this node answers the protocol (a host) or only speaks it as a client. */
  protected abstract get serving(): boolean;

  /** Runs one inbound exchange; `signal` aborts when the service stops. Thrown errors reset the stream. */
  protected abstract serve(framed: FramedStream, connection: Connection, signal: AbortSignal): Promise<void>;

  async start(): Promise<void> {
    if (this.#started) return;
    this.#shutdown = new AbortController();
    if (this.serving) {
      await this.components.registrar.handle(this.protocol, (stream, connection) => this.#handle(stream, connection), {
        maxInboundStreams: this.limits.maxInboundStreams,
        maxOutboundStreams: this.limits.maxOutboundStreams,
      });
    }
    this.#started = true;
  }

  async stop(): Promise<void> {
    if (!this.#started) return;
    this.#shutdown.abort(new DOMException("The service stopped.", "AbortError"));
    if (this.serving) await this.components.registrar.unhandle(this.protocol);
    this.#started = false;
  }

  isStarted(): boolean {
    return this.#started;
  }

  /** Wraps a stream of this protocol in framing with the service's limits. */
  protected frame(stream: Stream): FramedStream {
    return new FramedStream(stream, {
      protocol: this.protocol,
      maxMessageBytes: this.limits.maxMessageBytes,
      timeoutMs: this.limits.timeoutMs,
    });
  }

  /** Dials `peer` (or reuses a connection) and opens a framed stream of this protocol. */
  protected async open(
    peer: DialTarget,
    signal?: AbortSignal,
  ): Promise<{ connection: Connection; framed: FramedStream }> {
    const options = signal ? { signal } : {};
    const connection = await this.components.connectionManager.openConnection(peer, options);
    const stream = await connection.newStream(this.protocol, options);
    return { connection, framed: this.frame(stream) };
  }

  async #handle(stream: Stream, connection: Connection): Promise<void> {
    const framed = this.frame(stream);
    try {
      await this.serve(framed, connection, this.#shutdown.signal);
    } catch (error) {
      stream.log.error("%s exchange with %p failed - %e", this.protocol, connection.remotePeer, error);
      framed.abort(error instanceof Error ? error : new Error(String(error)));
    }
  }
}
