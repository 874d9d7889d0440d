/**
 * Transfer proxy (`/tabula/transfer-proxy/1.0.0`): a third peer carries a paid transfer between a receiver and a
 * sender that cannot reach each other directly (Tachyon's proxy hop). The receiver asks for a `route` {to, pay}
 * (the sender's peer id and the link's payment terms); the proxy dials the sender, opens a transfer stream to it
 * and answers `ready` {proxy} (the address it is paid at), or `error`. From then on the stream speaks the transfer
 * protocol, and the proxy passes every message through unchanged except the payments: it takes the receiver's
 * (the upstream leg of a route through it, admitted by its {@link TransferCarrier}) and pays the sender on a leg of
 * its own. It passes a chunk to the receiver only once the receiver's payments allow it, and it cannot read a
 * chunk: the transfer stays end-to-end encrypted, and the receiver's proof of the link is bound to the proxy's
 * peer id, so it proves nothing anywhere else. A link that drops leaves the route to the receiver's resume: it asks
 * for the route again, accepts from where its bytes end, and pays on the same legs.
 */
import type { AbortOptions, Connection, DialTarget } from "@libp2p/interface";
import { peerIdFromString } from "@libp2p/peer-id";
import { type Address, bytesToHex, getAddress, hexToBytes } from "viem";
import { abortReason, sleep } from "../../../lib/signals.ts";
import { decodeFields, encodeMessage } from "../common/codec.ts";
import type { ProtocolComponents } from "../common/components.ts";
import {
  MalformedMessageError,
  PaymentRefusedError,
  PaymentStoppedError,
  RemoteRefusedError,
} from "../common/errors.ts";
import type { FramedStream } from "../common/framing.ts";
import { type ErrorMessage, errorFields, readError } from "../common/messages.ts";
import { ProtocolService } from "../common/service.ts";
import { decodeTerms, encodeTerms, MAX_TERMS_BYTES, type PaymentTerms } from "../pay/index.ts";
import { decodeReceiverMessage, decodeSenderMessage, encodeReceiverMessage, encodeSenderMessage } from "./codec.ts";
import {
  MAX_INBOUND_STREAMS,
  MAX_MESSAGE_BYTES,
  MAX_OUTBOUND_STREAMS,
  MESSAGE_TIMEOUT_MS,
  NONCE_BYTES,
  TAG_BYTES,
  TRANSFER_PROTOCOL,
} from "./constants.ts";
import type { PayeeGate, PayerGate, Payment } from "./index.ts";

export const TRANSFER_PROXY_PROTOCOL = "/tabula/transfer-proxy/1.0.0";
const MAX_PEER_ID_BYTES = 128;
/** How long the proxy waits, once the sender closed, for the receiver's last units (it checks this often). */
const FINAL_PAYMENTS_MS = 5_000;
const FINAL_PAYMENTS_POLL_MS = 50;

/** The receiver asks the proxy to carry a transfer from `to` (a peer id) paid on `terms`. */
export interface RouteMessage {
  type: "route";
  to: string;
  terms: PaymentTerms;
}

/** The proxy reached the sender: the receiver opens its route's upstream leg to `proxy`. */
export interface ReadyMessage {
  type: "ready";
  proxy: Address;
}

export function encodeRouteMessage(message: RouteMessage): Uint8Array {
  return encodeMessage({ t: "route", to: message.to, pay: encodeTerms(message.terms) });
}

export function decodeRouteMessage(bytes: Uint8Array): RouteMessage {
  const fields = decodeFields(TRANSFER_PROXY_PROTOCOL, bytes, "route");
  if (fields.string("t", 16) !== "route") throw new MalformedMessageError(TRANSFER_PROXY_PROTOCOL, "expected a route");
  const message: RouteMessage = {
    type: "route",
    to: fields.string("to", MAX_PEER_ID_BYTES),
    terms: decodeTerms(fields.bytes("pay", { max: MAX_TERMS_BYTES })),
  };
  fields.end();
  return message;
}

export function encodeReadyMessage(message: ReadyMessage | ErrorMessage): Uint8Array {
  if (message.type === "error") return encodeMessage(errorFields(message.code, message.message));
  return encodeMessage({ t: "ready", proxy: hexToBytes(message.proxy) });
}

export function decodeReadyMessage(bytes: Uint8Array): ReadyMessage | ErrorMessage {
  const fields = decodeFields(TRANSFER_PROXY_PROTOCOL, bytes, "ready");
  const type = fields.string("t", 16);
  if (type === "error") return readError(fields);
  if (type !== "ready") throw new MalformedMessageError(TRANSFER_PROXY_PROTOCOL, `expected ready, got ${type}`);
  const message: ReadyMessage = {
    type: "ready",
    proxy: getAddress(bytesToHex(fields.bytes("proxy", { min: 20, max: 20 }))),
  };
  fields.end();
  return message;
}

/** One carried transfer's payments: the receiver's leg (as its payee) and the sender's (as its payer). */
export interface CarriedPayments {
  /** What the receiver paid lets bytes through to it. */
  upstream: PayeeGate;
  /** What this tab pays the sender, for bytes the receiver both acknowledged and paid for. */
  downstream: PayerGate;
  /** Bytes the receiver's payments on the upstream leg cover (both sides signed). */
  paidUpstream(): number;
  /**
   * The carried session is over: `complete`, the transfer ended (done, declined or refused) and both legs may be
   * settled; otherwise the link dropped, and the receiver may come back to resume on the same route.
   */
  end(complete: boolean): void;
}

/** What makes a tab a proxy: the address it is paid at, and the admission of each receiver's route. */
export interface TransferCarrier {
  readonly address: Address;
  /**
   * Admits `opening`, the receiver's upstream leg of a route to `terms`, and opens the leg to the sender; a route
   * carried before for the same receiver goes on from `position` (a resumed transfer) on the legs it has.
   */
  admit(
    opening: Payment,
    terms: PaymentTerms,
    session: { receiver: string; position: number; signal: AbortSignal },
  ): Promise<CarriedPayments>;
}

export interface TransferProxyInit {
  /** What this tab carries transfers with; without one it carries none (read at every route). */
  carrier?: () => TransferCarrier | undefined;
  /** A direct link to a sender (a tab: WebRTC, upgraded from the relay). */
  directTarget?: (peer: string, options?: AbortOptions) => Promise<DialTarget>;
  timeoutMs?: number;
}

export interface TransferProxy {
  readonly protocol: string;
}

/** libp2p service factory: `services: { transferProxy: transferProxy({ carrier }) }`. */
export function transferProxy(init: TransferProxyInit = {}): (components: ProtocolComponents) => TransferProxy {
  return (components) => new TransferProxyService(components, init);
}

export class TransferProxyService extends ProtocolService implements TransferProxy {
  readonly protocol = TRANSFER_PROXY_PROTOCOL;
  readonly #init: TransferProxyInit;

  constructor(components: ProtocolComponents, init: TransferProxyInit = {}) {
    super(components, {
      maxMessageBytes: MAX_MESSAGE_BYTES,
      timeoutMs: init.timeoutMs ?? MESSAGE_TIMEOUT_MS,
      maxInboundStreams: MAX_INBOUND_STREAMS,
      maxOutboundStreams: MAX_OUTBOUND_STREAMS,
    });
    this.#init = init;
  }

  readonly [Symbol.toStringTag] = "@tabula/transfer-proxy";

  protected get serving(): boolean {
    return this.#init.carrier !== undefined;
  }

  protected async serve(receiver: FramedStream, connection: Connection, outer: AbortSignal): Promise<void> {
    const route = decodeRouteMessage(await receiver.readRequired({ signal: outer }));
    const carrier = this.#init.carrier?.();
    if (!carrier) return await this.#refuse(receiver, "not-carrying", "this peer carries no transfers now", outer);
    let sender: FramedStream;
    try {
      const target = this.#init.directTarget
        ? await this.#init.directTarget(route.to, { signal: outer })
        : peerIdFromString(route.to);
      const link = await this.components.connectionManager.openConnection(target, { signal: outer });
      sender = this.frame(await link.newStream(TRANSFER_PROTOCOL, { signal: outer }));
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      return await this.#refuse(
        receiver,
        "unreachable",
        `the sender cannot be reached: ${reason}`.slice(0, 200),
        outer,
      );
    }
    try {
      await receiver.write(encodeReadyMessage({ type: "ready", proxy: carrier.address }), { signal: outer });
    } catch (error) {
      sender.abort(error instanceof Error ? error : new Error(String(error)));
      throw error;
    }
    const exchange = new AbortController();
    const signal = AbortSignal.any([outer, exchange.signal]);
    const carry = new Carry(carrier, route.terms, connection.remotePeer.toString(), signal);
    const fail = (error: unknown) => {
      exchange.abort(error);
      throw error;
    };
    const legs = [
      this.#upstream(receiver, sender, carry, signal, outer).catch(fail),
      this.#downstream(sender, receiver, carry, signal).catch(fail),
    ];
    // The first failure is the one reported; the other direction ends with the streams.
    for (const leg of legs) leg.catch(() => {});
    let complete = false;
    try {
      await Promise.all(legs);
      complete = true;
    } catch (caught) {
      const error: unknown = exchange.signal.reason ?? caught;
      if (error instanceof PaymentStoppedError || error instanceof PaymentRefusedError) {
        const code = error instanceof PaymentStoppedError ? "payment-stopped" : "payment-refused";
        await receiver
          .write(encodeSenderMessage({ type: "error", code, message: error.shortMessage }), { signal: outer })
          .catch(() => {});
        await receiver.close({ signal: outer }).catch(() => {});
      }
      sender.abort(error instanceof Error ? error : new Error(String(error)));
      // A refusal ends the route; a dropped link leaves it to the receiver's resume.
      if (error instanceof PaymentStoppedError || error instanceof PaymentRefusedError) complete = true;
      throw signal.aborted && !(error instanceof Error) ? abortReason(signal) : error;
    } finally {
      carry.end(complete);
    }
  }

  /**
   * Receiver → sender: everything passes but the payments, which are the upstream leg's. The receiver is read until
   * the service stops (`outer`), not until the exchange fails: a refusal is written and the stream closed before it
   * is reset.
   */
  async #upstream(
    receiver: FramedStream,
    sender: FramedStream,
    carry: Carry,
    signal: AbortSignal,
    outer: AbortSignal,
  ): Promise<void> {
    while (true) {
      const bytes = await receiver.read({ signal: outer });
      signal.throwIfAborted();
      if (bytes === undefined) return await sender.close({ signal });
      const message = decodeReceiverMessage(bytes);
      if (message.type === "payment") {
        const { type: _, ...payment } = message;
        const { answer, due } = await carry.fromReceiver(payment, async (opening) =>
          sender.write(encodeReceiverMessage({ type: "payment", ...opening }), { signal }),
        );
        if (answer) await receiver.write(encodeSenderMessage({ type: "payment", ...answer }), { signal });
        if (due) await sender.write(encodeReceiverMessage({ type: "payment", ...due }), { signal });
        continue;
      }
      // A resumed transfer goes on from where the receiver's bytes end.
      if (message.type === "accept") carry.startAt(message.position);
      await sender.write(bytes, { signal });
      if (message.type === "ack") {
        // The receiver has the bytes: the sender is paid for them once the receiver paid for them too.
        const due = await carry.acknowledged(message.position);
        if (due) await sender.write(encodeReceiverMessage({ type: "payment", ...due }), { signal });
      }
    }
  }

  /** Sender → receiver: every chunk waits for the receiver's payments; the sender's answers are the downstream leg's. */
  async #downstream(sender: FramedStream, receiver: FramedStream, carry: Carry, signal: AbortSignal): Promise<void> {
    while (true) {
      const bytes = await sender.read({ signal });
      if (bytes === undefined) {
        // The sender was paid in full; the receiver's last units follow the last bytes.
        await carry.paidUp(signal);
        return await receiver.close({ signal });
      }
      const message = decodeSenderMessage(bytes);
      if (message.type === "payment") {
        const { type: _, ...payment } = message;
        const due = await carry.fromSender(payment);
        if (due) await sender.write(encodeReceiverMessage({ type: "payment", ...due }), { signal });
        continue;
      }
      if (message.type === "chunk") await carry.allow(message.sealed.byteLength - NONCE_BYTES - TAG_BYTES, signal);
      await receiver.write(bytes, { signal });
      if (message.type === "error") throw new RemoteRefusedError(TRANSFER_PROTOCOL, message.code, message.message);
    }
  }

  async #refuse(framed: FramedStream, code: string, message: string, signal: AbortSignal): Promise<void> {
    await framed.write(encodeReadyMessage({ type: "error", code, message }), { signal });
    await framed.close({ signal });
  }
}

/** The payments of one carried transfer, as its messages pass. */
class Carry {
  readonly #carrier: TransferCarrier;
  readonly #terms: PaymentTerms;
  readonly #receiver: string;
  readonly #signal: AbortSignal;
  #payments: CarriedPayments | undefined;
  /** Where this session of the transfer starts (a resumed one: after the bytes the receiver has). */
  #start = 0;
  /** Position up to which bytes were passed to the receiver. */
  #passed = 0;
  /** Position the receiver acknowledged, never beyond what was passed to it. */
  #acked = 0;
  #ended: boolean | undefined;

  constructor(carrier: TransferCarrier, terms: PaymentTerms, receiver: string, signal: AbortSignal) {
    this.#carrier = carrier;
    this.#terms = terms;
    this.#receiver = receiver;
    this.#signal = signal;
  }

  /**
   * A payment of the receiver: its first opens the route (and the leg to the sender, whose opening `open` sends
   * on); the others are the upstream leg's units, answered.
   */
  async fromReceiver(
    payment: Payment,
    open: (opening: Payment) => Promise<void>,
  ): Promise<{ answer?: Payment | undefined; due?: Payment | undefined }> {
    if (!this.#payments) {
      const payments = await this.#carrier.admit(payment, this.#terms, {
        receiver: this.#receiver,
        position: this.#start,
        signal: this.#signal,
      });
      this.#payments = payments;
      // The session ended while the route was being admitted: the route ends as the session did.
      if (this.#ended !== undefined) payments.end(this.#ended);
      this.#signal.throwIfAborted();
      await open(payments.downstream.opening);
      return {};
    }
    const answer = await this.#payments.upstream.receive(payment);
    return { answer, due: await this.#due() };
  }

  /**
   * The receiver accepted the offer from `position` on: bytes before it are its already. What the sender is paid
   * still never exceeds what the receiver paid for, whatever position it names.
   */
  startAt(position: number): void {
    if (this.#payments) throw new MalformedMessageError(TRANSFER_PROXY_PROTOCOL, "an accept after the route opened");
    this.#start = position;
    this.#passed = position;
    this.#acked = position;
  }

  /** The sender's answer on the downstream leg; returns the next payment due, if any. */
  async fromSender(payment: Payment): Promise<Payment | undefined> {
    if (!this.#payments) throw new MalformedMessageError(TRANSFER_PROXY_PROTOCOL, "a payment before the route");
    return await this.#payments.downstream.answer(payment);
  }

  /**
   * The receiver acknowledged bytes up to `position` (taken only up to what was passed to it): the sender's payment
   * due now, if any.
   */
  async acknowledged(position: number): Promise<Payment | undefined> {
    this.#acked = Math.max(this.#acked, Math.min(position, this.#passed));
    return await this.#due();
  }

  /**
   * What the sender is owed now: the bytes the receiver both acknowledged and paid for. This tab never pays for a
   * byte before the receiver paid it for that byte, so carrying costs it nothing whatever the two ends do.
   */
  async #due(): Promise<Payment | undefined> {
    if (!this.#payments) return undefined;
    return await this.#payments.downstream.received(Math.min(this.#acked, this.#payments.paidUpstream()));
  }

  /** Waits until the receiver's payments let `bytes` more through. */
  async allow(bytes: number, signal: AbortSignal): Promise<void> {
    if (!this.#payments) throw new MalformedMessageError(TRANSFER_PROXY_PROTOCOL, "a chunk before the route");
    this.#passed += bytes;
    await this.#payments.upstream.allow(this.#passed, signal);
  }

  /** Resolves once the receiver paid for every byte passed, or after {@link FINAL_PAYMENTS_MS} at the latest. */
  async paidUp(signal: AbortSignal): Promise<void> {
    const until = Date.now() + FINAL_PAYMENTS_MS;
    while (this.#payments && !this.#payments.upstream.paid(this.#passed) && Date.now() < until) {
      await sleep(FINAL_PAYMENTS_POLL_MS, signal);
    }
  }

  end(complete: boolean): void {
    if (this.#ended !== undefined) return;
    this.#ended = complete;
    this.#payments?.end(complete);
  }
}
