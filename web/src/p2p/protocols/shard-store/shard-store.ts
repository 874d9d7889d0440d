import type { Connection, DialTarget, PeerId } from "@libp2p/interface";
import { serviceCapabilities } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { abortReason, raceSignal } from "../../../lib/signals.ts";
import { firstLeaves, shardRootOf } from "../audit/merkle.ts";
import type { SigningComponents } from "../common/components.ts";
import {
  MalformedMessageError,
  PieceMismatchError,
  ReceiptInvalidError,
  RemoteRefusedError,
} from "../common/errors.ts";
import type { FramedStream } from "../common/framing.ts";
import type { HeldShard } from "../common/held-shard.ts";
import type { PaymentMessage } from "../common/messages.ts";
import { copyBytes, equalBytes, pieceMatches } from "../common/pieces.ts";
import { ProtocolService } from "../common/service.ts";
import { SendWindow } from "../common/window.ts";
import {
  type ClientMessage,
  decodeClientMessage,
  decodeHostMessage,
  encodeClientMessage,
  encodeHostMessage,
  type HostMessage,
  type OfferMessage,
  type StoreErrorCode,
} from "./codec.ts";
import {
  HOST_PIPELINE_PIECES,
  MAX_INBOUND_STREAMS,
  MAX_MESSAGE_BYTES,
  MAX_OUTBOUND_STREAMS,
  MAX_PIECE_BYTES,
  MAX_PIECES_PER_SHARD,
  MESSAGE_TIMEOUT_MS,
  RECEIPT_VERSION,
  SHARD_STORE_PROTOCOL,
  WINDOW_BYTES,
  WINDOW_PIECES,
} from "./constants.ts";
import type {
  Admission,
  HostPush,
  RefusalCode,
  ShardStore,
  ShardStoreHost,
  ShardStoreInit,
  ShardUpload,
  StoreShardOptions,
  StoreShardResult,
} from "./index.ts";
import { piecesDigest, type StoreReceipt, signReceipt, verifyReceipt } from "./receipt.ts";

export class ShardStoreService extends ProtocolService<SigningComponents> implements ShardStore {
  readonly protocol = SHARD_STORE_PROTOCOL;
  readonly #init: ShardStoreInit;

  constructor(components: SigningComponents, init: ShardStoreInit = {}) {
    super(components, {
      maxMessageBytes: MAX_MESSAGE_BYTES,
      timeoutMs: init.timeoutMs ?? MESSAGE_TIMEOUT_MS,
      maxInboundStreams: init.maxInboundStreams ?? MAX_INBOUND_STREAMS,
      maxOutboundStreams: MAX_OUTBOUND_STREAMS,
    });
    this.#init = init;
  }

  readonly [Symbol.toStringTag] = "@tabula/shard-store";
  readonly [serviceCapabilities]: string[] = ["@tabula/shard-store"];

  protected get serving(): boolean {
    return this.#init.host !== undefined;
  }

  /** A host first has its role undo what pushes cut short by a crash or a closed tab left, then takes new pushes. */
  override async start(): Promise<void> {
    if (!this.isStarted()) {
      try {
        await this.#init.host?.recover?.();
      } catch {
        // The store could not be read or written: the next start tries again.
      }
    }
    await super.start();
  }

  async storeShard(peer: DialTarget, shard: ShardUpload, options: StoreShardOptions = {}): Promise<StoreShardResult> {
    checkUpload(shard);
    const { connection, framed } = await this.open(peer, options.signal);
    // Aborts the sending half when the reading half fails (or the caller aborts), and vice versa.
    const exchange = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, exchange.signal]) : exchange.signal;
    try {
      const offer: OfferMessage = {
        type: "offer",
        dealId: shard.dealId ?? null,
        manifest: shard.manifest,
        shardIndex: shard.shardIndex,
        root: shard.root,
        pieces: shard.pieces,
        sizes: shard.sizes,
      };
      await framed.write(encodeClientMessage(offer), { signal });
      if (options.payment) await framed.write(encodeClientMessage({ type: "payment", ...options.payment }), { signal });
      const first = await readHostMessage(framed, signal);
      if (first.type !== "accept") throw unexpected(first, "accept");
      const need = first.need;
      if (need.some((index) => index >= shard.pieces.length)) {
        throw new MalformedMessageError(this.protocol, "accept names a piece the offer does not have");
      }
      const totalBytes = sum(shard.sizes);
      const progress = { storedBytes: totalBytes - sum(need.map((i) => shard.sizes[i] as number)), totalBytes };
      options.onProgress?.({ ...progress, storedPieces: shard.pieces.length - need.length });

      const window = new SendWindow(options.windowBytes ?? WINDOW_BYTES, WINDOW_PIECES);
      const receiving = this.#readAcks(framed, need, shard, window, progress, options, signal).catch(
        (error: unknown) => {
          exchange.abort(error);
          throw error;
        },
      );
      // When sending fails first, nobody awaits the reading half: its rejection is expected, not unhandled.
      receiving.catch(() => {});
      let sentBytes = 0;
      try {
        for (const index of need) {
          const size = shard.sizes[index] as number;
          await window.reserve(size, signal);
          const bytes = await shard.readPiece(index, { signal });
          if (bytes.byteLength !== size)
            throw new PieceMismatchError(shard.pieces[index]?.toString() ?? "", "its size differs from the offer");
          await framed.write(encodeClientMessage({ type: "piece", index, bytes }), { signal });
          sentBytes += size;
        }
      } catch (error) {
        exchange.abort(error);
        throw signal.aborted ? abortReason(signal) : error;
      }
      const { receipt, signature, sigma } = await receiving;
      await this.#checkReceipt(receipt, signature, connection.remotePeer, shard, totalBytes);
      await framed.close({ signal });
      return { receipt, signature, sigma, host: connection.remotePeer, sentBytes };
    } catch (error) {
      const reason = error instanceof Error ? error : abortReason(signal);
      framed.abort(reason);
      throw reason;
    }
  }

  async #readAcks(
    framed: FramedStream,
    need: number[],
    shard: ShardUpload,
    window: SendWindow,
    progress: { storedBytes: number; totalBytes: number },
    options: StoreShardOptions,
    signal: AbortSignal,
  ): Promise<{ receipt: StoreReceipt; signature: Uint8Array; sigma: Uint8Array | null }> {
    let storedPieces = shard.pieces.length - need.length;
    for (const index of need) {
      const message = await readHostMessage(framed, signal);
      if (message.type !== "ack") throw unexpected(message, "ack");
      if (message.index !== index) throw new MalformedMessageError(this.protocol, "ack out of order");
      const size = shard.sizes[index] as number;
      window.release(size);
      progress.storedBytes += size;
      storedPieces += 1;
      options.onProgress?.({ ...progress, storedPieces });
    }
    const last = await readHostMessage(framed, signal);
    if (last.type !== "receipt") throw unexpected(last, "receipt");
    return last;
  }

  async #checkReceipt(
    receipt: StoreReceipt,
    signature: Uint8Array,
    host: PeerId,
    shard: ShardUpload,
    totalBytes: number,
  ): Promise<void> {
    const mismatch = (what: string) => new ReceiptInvalidError(`its ${what} differs from what was stored`);
    if (receipt.version !== RECEIPT_VERSION) throw new ReceiptInvalidError(`unknown version ${receipt.version}`);
    if (receipt.host !== host.toString()) throw mismatch("host");
    if (receipt.client !== this.components.peerId.toString()) throw mismatch("client");
    if (!sameDeal(receipt.dealId, shard.dealId ?? null)) throw mismatch("deal id");
    if (!receipt.manifest.equals(shard.manifest)) throw mismatch("manifest");
    if (receipt.shardIndex !== shard.shardIndex) throw mismatch("shard index");
    if (!equalBytes(receipt.root, shard.root)) throw mismatch("Merkle root");
    if (!equalBytes(receipt.piecesDigest, piecesDigest(shard.pieces))) throw mismatch("piece list");
    if (receipt.pieceCount !== shard.pieces.length) throw mismatch("piece count");
    if (receipt.totalBytes !== totalBytes) throw mismatch("size");
    if (!(await verifyReceipt(receipt, signature))) throw new ReceiptInvalidError("its signature does not verify");
  }

  protected async serve(framed: FramedStream, connection: Connection, shutdown: AbortSignal): Promise<void> {
    const host = this.#init.host;
    if (!host) return;
    const from = connection.remotePeer;
    const signal = shutdown;
    const offer = await readClientMessage(framed, signal);
    if (offer.type !== "offer") {
      await refuse(framed, "bad-request", "the first message must be an offer", signal);
      throw unexpected(offer, "offer");
    }
    const totalBytes = sum(offer.sizes);
    const admission = admissionOf(host.admit ? await host.admit({ offer, totalBytes, from }, { signal }) : true);
    if (!admission.ok) {
      await refuse(framed, admission.code, admission.message ?? refusalMessage(admission.code), signal);
      return;
    }
    // Once: as soon as the shard is held (it counts as used from then on), or when the push ends short of that.
    let reserved = true;
    const release = () => {
      if (reserved) admission.release?.();
      reserved = false;
    };
    let push: HostPush | undefined;
    try {
      // Pieces already held (this shard again, or the same bytes elsewhere) are not sent twice.
      push = await host.begin(offer, { signal });
      const held = await this.#receive(framed, host, offer, push, from, signal);
      if (!held) return;
      await push.commit(held);
      release();
      host.onStored?.(held);
      const receipt: StoreReceipt = {
        version: RECEIPT_VERSION,
        host: this.components.peerId.toString(),
        client: from.toString(),
        dealId: offer.dealId,
        manifest: offer.manifest,
        shardIndex: offer.shardIndex,
        root: offer.root,
        piecesDigest: piecesDigest(offer.pieces),
        pieceCount: offer.pieces.length,
        totalBytes,
        storedAtMs: held.storedAtMs,
      };
      const signature = await signReceipt(this.components.privateKey, receipt);
      const sigma = offer.dealId && host.attest ? await host.attest(held, { signal }) : null;
      await framed.write(encodeHostMessage({ type: "receipt", receipt, signature, sigma }), { signal });
      await framed.close({ signal });
    } finally {
      // Whatever ended the push short of a held shard, what it wrote goes (unless another shard or push needs it).
      await push?.abort().catch(() => 0);
      release();
    }
  }

  /**
   * Takes the needed pieces in order, checks each against its CID and writes it, then checks the offer's Merkle
   * root; returns the shard to record, or `undefined` after refusing it. Up to {@link HOST_PIPELINE_PIECES} pieces
   * are checked, written and hashed while the next ones arrive; acknowledgements still go out in order, each once
   * its piece is written.
   */
  async #receive(
    framed: FramedStream,
    host: ShardStoreHost,
    offer: OfferMessage,
    push: HostPush,
    from: PeerId,
    signal: AbortSignal,
  ): Promise<HeldShard | undefined> {
    await framed.write(encodeHostMessage({ type: "accept", need: [...push.need] }), { signal });
    const firstLeaf = firstLeaves(offer.sizes);
    const pieceRoots: (Uint8Array | undefined)[] = new Array(offer.pieces.length);
    // The first piece that fails (or the ack that cannot be written) stops the loop without waiting for a read.
    const failure = new AbortController();
    /** Acknowledgements not sent yet, oldest first: at most HOST_PIPELINE_PIECES pieces are under way. */
    const unacked: Promise<void>[] = [];
    /** Every piece's work and acknowledgement, to let them all settle before the push is undone. */
    const started: Promise<void>[] = [];
    let acked: Promise<void> = Promise.resolve();
    let mismatched: number | undefined;
    try {
      for (const index of push.need) {
        if (unacked.length >= HOST_PIPELINE_PIECES) await raceSignal(unacked.shift() as Promise<void>, failure.signal);
        let message = await raceSignal(readClientMessage(framed, signal), failure.signal);
        while (message.type === "payment") {
          await host.onPayment?.(message, from);
          message = await raceSignal(readClientMessage(framed, signal), failure.signal);
        }
        if (message.type !== "piece" || message.index !== index) {
          await refuse(framed, "bad-request", `expected piece ${index}`, signal);
          throw new MalformedMessageError(this.protocol, `expected piece ${index}`);
        }
        const cid = offer.pieces[index];
        if (!cid) throw new MalformedMessageError(this.protocol, "piece index out of range");
        const bytes = copyBytes(message.bytes);
        const stored = storePiece(push, host, cid, bytes, offer.sizes[index] as number, firstLeaf[index] as number, {
          signal,
        }).then(
          (root) => {
            pieceRoots[index] = root;
          },
          (error: unknown) => {
            mismatched ??= error instanceof PieceMismatchError ? index : undefined;
            throw error;
          },
        );
        acked = Promise.all([acked, stored]).then(() =>
          framed.write(encodeHostMessage({ type: "ack", index }), { signal }),
        );
        acked.catch((error: unknown) => failure.abort(error));
        unacked.push(acked);
        started.push(stored, acked);
      }
      await raceSignal(acked, failure.signal);
    } catch (error) {
      // Nothing is left writing when the push is undone: every piece under way settles first.
      await Promise.allSettled(started);
      const reason: unknown = failure.signal.aborted ? failure.signal.reason : error;
      if (mismatched !== undefined) {
        await refuse(framed, "piece-mismatch", `piece ${mismatched} does not match its CID`, signal);
      }
      throw reason;
    }

    if (host.pieceRoot) {
      for (const [index, cid] of offer.pieces.entries()) {
        if (pieceRoots[index]) continue;
        const bytes = await host.readPiece(cid, { signal });
        if (!bytes) throw new PieceMismatchError(cid.toString(), "it vanished from the store");
        pieceRoots[index] = await host.pieceRoot(bytes, firstLeaf[index] as number);
      }
      if (!equalBytes(shardRootOf(pieceRoots as Uint8Array[]), offer.root)) {
        await refuse(framed, "bad-root", "the Merkle root does not match the pieces", signal);
        return undefined;
      }
    }
    return {
      manifest: offer.manifest,
      shardIndex: offer.shardIndex,
      root: offer.root,
      pieces: offer.pieces,
      sizes: offer.sizes,
      ...(host.pieceRoot ? { pieceRoots: pieceRoots as Uint8Array[] } : {}),
      owner: from.toString(),
      dealId: offer.dealId,
      storedAtMs: Date.now(),
    };
  }
}

/**
 * Checks one piece against its CID (the only path into the store: bytes whose sha2-256 is the digest in the CID),
 * writes it and returns its Merkle subtree root when the host checks roots.
 */
async function storePiece(
  push: HostPush,
  host: ShardStoreHost,
  cid: CID,
  bytes: Uint8Array,
  size: number,
  firstLeaf: number,
  options: { signal: AbortSignal },
): Promise<Uint8Array | undefined> {
  if (bytes.byteLength !== size || !(await pieceMatches(cid, bytes))) throw new PieceMismatchError(cid.toString());
  await push.put(cid, bytes, options);
  return host.pieceRoot ? await host.pieceRoot(bytes, firstLeaf) : undefined;
}

/** A policy's answer as an {@link Admission}. */
function admissionOf(decision: boolean | Admission): Admission {
  if (decision === true) return { ok: true };
  if (decision === false) return { ok: false, code: "no-space" };
  return decision;
}

function refusalMessage(code: RefusalCode): string {
  if (code === "not-hosting") return "this peer does not share storage now";
  if (code === "bad-deal") return "the deal id names no deal this host would sign";
  return "the host does not take this shard";
}

async function readHostMessage(framed: FramedStream, signal: AbortSignal): Promise<HostMessage> {
  const message = decodeHostMessage(await framed.readRequired({ signal }));
  if (message.type === "error") throw new RemoteRefusedError(SHARD_STORE_PROTOCOL, message.code, message.message);
  return message;
}

async function readClientMessage(framed: FramedStream, signal: AbortSignal): Promise<ClientMessage> {
  return decodeClientMessage(await framed.readRequired({ signal }));
}

/** Tells the client why, then closes; failures to say so are ignored (the stream is reset by the caller). */
async function refuse(framed: FramedStream, code: StoreErrorCode, message: string, signal: AbortSignal): Promise<void> {
  try {
    await framed.write(encodeHostMessage({ type: "error", code, message }), { signal });
    await framed.close({ signal });
  } catch {
    // the client is gone already
  }
}

function unexpected(message: HostMessage | ClientMessage, expected: string): MalformedMessageError {
  return new MalformedMessageError(SHARD_STORE_PROTOCOL, `expected ${expected}, got ${message.type}`);
}

function checkUpload(shard: ShardUpload): void {
  const reason =
    shard.pieces.length === 0 || shard.pieces.length > MAX_PIECES_PER_SHARD
      ? `a shard has 1 to ${MAX_PIECES_PER_SHARD} pieces`
      : shard.pieces.length !== shard.sizes.length
        ? "pieces and sizes differ in length"
        : shard.sizes.some((size) => !Number.isSafeInteger(size) || size < 1 || size > MAX_PIECE_BYTES)
          ? `piece sizes are 1 to ${MAX_PIECE_BYTES} bytes`
          : undefined;
  if (reason) throw new MalformedMessageError(SHARD_STORE_PROTOCOL, `upload rejected locally: ${reason}`);
}

function sameDeal(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : equalBytes(a, b);
}

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

export type { PaymentMessage };
