import type { Connection, DialTarget } from "@libp2p/interface";
import { serviceCapabilities } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { abortReason } from "../../../lib/signals.ts";
import type { ProtocolComponents } from "../common/components.ts";
import { MalformedMessageError, PieceMismatchError, RemoteRefusedError } from "../common/errors.ts";
import type { FramedStream } from "../common/framing.ts";
import { pieceMatches } from "../common/pieces.ts";
import { ProtocolService } from "../common/service.ts";
import { decodeHostMessage, decodeRequesterMessage, encodeHostMessage, encodeRequesterMessage } from "./codec.ts";
import {
  MAX_INBOUND_STREAMS,
  MAX_MESSAGE_BYTES,
  MAX_OUTBOUND_STREAMS,
  MAX_WANT_CIDS,
  MESSAGE_TIMEOUT_MS,
  SHARD_FETCH_PROTOCOL,
  WINDOW_PIECES,
} from "./constants.ts";
import type { FetchedPiece, FetchPiecesOptions, ShardFetch, ShardFetchInit } from "./index.ts";

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
    let requested = 0;
    const request = async (count: number) => {
      const batch = cids.slice(requested, requested + count);
      if (batch.length === 0) return;
      requested += batch.length;
      await framed.write(encodeRequesterMessage({ type: "want", cids: batch }), { signal });
    };
    let finished = false;
    try {
      if (options.payment)
        await framed.write(encodeRequesterMessage({ type: "payment", ...options.payment }), { signal });
      await request(window);
      for (const expected of cids) {
        const message = decodeHostMessage(await framed.readRequired({ signal }));
        if (message.type === "error") throw new RemoteRefusedError(this.protocol, message.code, message.message);
        if (!message.cid.equals(expected)) throw new MalformedMessageError(this.protocol, "pieces out of order");
        // Ask for the next one before handing this one over, so the host keeps a window's worth in flight.
        await request(1);
        if (message.type === "missing") {
          yield { cid: expected, bytes: undefined };
          continue;
        }
        if (!(await pieceMatches(expected, message.bytes))) throw new PieceMismatchError(expected.toString());
        yield { cid: expected, bytes: message.bytes };
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

  protected async serve(framed: FramedStream, connection: Connection, signal: AbortSignal): Promise<void> {
    const host = this.#init.host;
    if (!host) return;
    const from = connection.remotePeer;
    while (true) {
      const bytes = await framed.read({ signal });
      if (bytes === undefined) break;
      const message = decodeRequesterMessage(bytes);
      if (message.type === "payment") {
        await host.onPayment?.(message, from);
        continue;
      }
      for (const cid of message.cids) {
        const allowed = host.canServe ? await host.canServe(cid, from) : true;
        const piece = allowed ? await host.readPiece(cid, { signal }) : undefined;
        const reply = piece ? { type: "block" as const, cid, bytes: piece } : { type: "missing" as const, cid };
        await framed.write(encodeHostMessage(reply), { signal });
        if (piece) host.onServed?.(cid, piece.byteLength, from);
      }
    }
    await framed.close({ signal });
  }
}
