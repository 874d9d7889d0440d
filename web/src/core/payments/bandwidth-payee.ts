/**
 * The payee's side of a paid transfer over a bandwidth channel: it admits a receiver's channel once the chain shows
 * it pays this owner at the asked price with a deposit that covers the bytes, confirms it with the tab's key, and
 * then lets bytes go only up to what the payer countersigned plus the credit (at most the channel's loss tolerance,
 * so a payer that stops paying gains at most that). Each unit the payer signs is countersigned and kept.
 */
import { type Address, isAddressEqual, type LocalAccount } from "viem";
import { type ChannelInfo, ChannelStatus, getChannel } from "../../chain/bandwidth/channel.ts";
import { confirmChannel } from "../../chain/bandwidth/channel-actions.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { type AgreedUsage, BandwidthMeter, BYTES_PER_MB, usageCost } from "../../lib/payments/bandwidth.ts";
import type { ContractRef } from "../../lib/payments/types.ts";
import { PaymentRefusedError, PaymentStoppedError } from "../../p2p/protocols/common/errors.ts";
import { decodeBandwidthMessage, encodeBandwidthMessage, type PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import type { PaidShare, PayeeGate, Payment } from "../../p2p/protocols/transfer/index.ts";
import { PAID_CHUNK_BYTES, PAYMENT_TIMEOUT_MS } from "../../p2p/protocols/transfer/index.ts";
import { chainClock } from "./chain-clock.ts";
import { paymentMessage } from "./payment-message.ts";
import { PaymentSignal } from "./payment-signal.ts";
import type { PayeeView } from "./types.ts";

/** Most bytes the payee sends beyond the last countersigned unit (less when the channel's tolerance is lower). */
export const MAX_CREDIT_BYTES = 4n * 1024n * 1024n;

/** One channel as the payee sees it, live: the bytes paid are those of the last unit both sides signed. */
export interface PayeeChannel extends PayeeView {
  scheme: "bandwidth";
  agreed: AgreedUsage;
  /** The payee's confirmation, when this tab sent it. */
  confirmTx?: `0x${string}`;
}

export interface BandwidthPayeeParts {
  reader: TabulaClient;
  /** The tab's key, authorized for the Payee role: it confirms and countersigns. */
  operator: TabulaClient<LocalAccount>;
  /** The owner the channel must pay. */
  owner: Address;
  terms: PaymentTerms;
  /** Whether this tab may take payments on channel `id` (no other transfer of it was paid on it). */
  claim: (id: bigint) => boolean;
  timeoutMs?: number;
  onChange?: (channel: PayeeChannel) => void;
  onStopped?: (error: PaymentStoppedError, channelId: bigint) => void;
}

interface Held {
  /** The peer whose sessions the channel pays for. */
  peer: string;
  meter: BandwidthMeter;
  info: ChannelInfo;
  sent: bigint;
  confirmTx?: `0x${string}`;
  /** Wakes the sending side waiting for a payment. */
  payments: PaymentSignal;
}

export class BandwidthPayee implements PaidShare {
  readonly terms: PaymentTerms;
  readonly #parts: BandwidthPayeeParts;
  readonly #contract: ContractRef;
  readonly #channels = new Map<bigint, Held>();

  constructor(parts: BandwidthPayeeParts) {
    this.#parts = parts;
    this.terms = parts.terms;
    const address = parts.reader.chain.contracts.BandwidthChannel?.address;
    if (!address) throw new Error("this chain has no BandwidthChannel");
    this.#contract = { chainId: parts.reader.chain.id, address };
  }

  /** The channels receivers opened to this share, with what they paid. */
  get channels(): PayeeChannel[] {
    return [...this.#channels.entries()].map(([id, held]) => this.#view(id, held));
  }

  /** Lets go of channel `channelId` once it is settled for: its records keep what a challenge needs. */
  forget(channelId: bigint): void {
    this.#channels.delete(channelId);
  }

  async admit(
    payment: Payment,
    session: { receiver: string; totalBytes: number; position: number; signal: AbortSignal },
  ): Promise<PayeeGate> {
    if (payment.scheme !== "bandwidth" || !this.terms.schemes.includes("bandwidth")) {
      throw new PaymentRefusedError(`this link takes ${this.terms.schemes.join(", ")}, not ${payment.scheme}`);
    }
    const message = paymentMessage(payment, "bandwidth", decodeBandwidthMessage, "open");
    const held = await this.#hold(message.channelId, session.receiver, BigInt(session.totalBytes));
    return this.#gate(message.channelId, held);
  }

  async #hold(channelId: bigint, peer: string, totalBytes: bigint): Promise<Held> {
    const refuse = (reason: string) => new PaymentRefusedError(`channel ${channelId} ${reason}`);
    const existing = this.#channels.get(channelId);
    // A resumed session goes on from what was paid; another peer naming the channel would be served on its payer.
    if (existing && existing.peer !== peer) throw refuse("already pays for another peer's transfer");
    if (existing) return existing;
    const { reader, operator, owner, terms } = this.#parts;
    const info = await getChannel(reader, { channelId });
    if (info.status !== ChannelStatus.Opened && info.status !== ChannelStatus.Active) throw refuse("is not open");
    if (!isAddressEqual(info.payee, owner)) throw refuse(`pays ${info.payee}, not ${owner}`);
    if (info.pricePerMB !== terms.pricePerMB) throw refuse(`pays ${info.pricePerMB} per MB, not ${terms.pricePerMB}`);
    if ((info.deposit * BYTES_PER_MB) / info.pricePerMB < totalBytes) {
      throw refuse(`holds ${info.deposit} token units, less than the ${totalBytes} bytes cost`);
    }
    if (info.lossToleranceBytes < BigInt(PAID_CHUNK_BYTES)) {
      throw refuse(`tolerates ${info.lossToleranceBytes} bytes, less than one chunk of ${PAID_CHUNK_BYTES}`);
    }
    if (!this.#parts.claim(channelId)) throw refuse("already paid for another transfer");
    let confirmTx: `0x${string}` | undefined;
    if (info.status === ChannelStatus.Opened) {
      confirmTx = await confirmChannel(operator, { channelId, payeeSigner: operator.account.address });
      await waitForSuccess(reader, { hash: confirmTx, what: `Confirming payment channel ${channelId}` });
    } else if (!isAddressEqual(info.payeeSigner, operator.account.address)) {
      throw refuse("was confirmed with another key");
    }
    const credit = info.lossToleranceBytes < MAX_CREDIT_BYTES ? info.lossToleranceBytes : MAX_CREDIT_BYTES;
    const meter = new BandwidthMeter({
      role: "payee",
      contract: this.#contract,
      channelId,
      self: operator.account,
      counterpartySigner: info.payerSigner,
      lossToleranceBytes: info.lossToleranceBytes,
      creditBytes: credit,
      now: await chainClock(reader, info.openedAt),
    });
    const held: Held = { peer, meter, info, sent: 0n, payments: new PaymentSignal() };
    if (confirmTx) held.confirmTx = confirmTx;
    this.#channels.set(channelId, held);
    this.#parts.onChange?.(this.#view(channelId, held));
    return held;
  }

  #gate(channelId: bigint, held: Held): PayeeGate {
    const timeoutMs = this.#parts.timeoutMs ?? PAYMENT_TIMEOUT_MS;
    /** Whether this session had its one unit sent again (a payer resends once, at the start of a session). */
    let resent = false;
    return {
      allow: async (end, signal) => {
        const needed = BigInt(end) - held.sent;
        if (needed <= 0n) return;
        await held.payments.until(() => held.meter.canServe(needed), {
          timeoutMs,
          signal,
          stopped: () => {
            const error = new PaymentStoppedError({
              paidBytes: held.meter.agreed.usage.totalBytes,
              waitedMs: timeoutMs,
            });
            this.#parts.onStopped?.(error, channelId);
            return error;
          },
        });
        held.meter.record(needed);
        held.sent += needed;
        this.#parts.onChange?.(this.#view(channelId, held));
      },
      receive: async (payment) => {
        const message = paymentMessage(payment, "bandwidth", decodeBandwidthMessage, "unit");
        let agreed: AgreedUsage = held.meter.agreed;
        // A unit at or below the one countersigned last, sent again after a drop that lost the answers: the last
        // answer goes back, which tells the payer where this side stands. It signs nothing new.
        const again = message.unit.usage.sequence <= agreed.usage.sequence && agreed.usage.sequence > 0n;
        if (again && resent) throw new PaymentRefusedError("the payer sent an old unit again, twice in one session");
        resent ||= again;
        if (!again) {
          try {
            agreed = await held.meter.countersign(message.unit);
          } catch (error) {
            throw new PaymentRefusedError("the payer's unit breaks the channel's rules", { cause: error });
          }
        }
        held.payments.notify();
        this.#parts.onChange?.(this.#view(channelId, held));
        return {
          scheme: "bandwidth",
          data: encodeBandwidthMessage({
            type: "sign",
            sequence: agreed.usage.sequence,
            signature: agreed.payeeSignature,
          }),
        };
      },
      paid: (end) => held.meter.agreed.usage.totalBytes >= BigInt(end),
    };
  }

  /** The last unit both sides signed on `channelId`: what closes it. */
  agreed(channelId: bigint): AgreedUsage | undefined {
    return this.#channels.get(channelId)?.meter.agreed;
  }

  #view(channelId: bigint, held: Held): PayeeChannel {
    const agreed = held.meter.agreed;
    return {
      scheme: "bandwidth",
      channelId,
      payer: held.info.payer,
      sentBytes: held.sent,
      paidBytes: agreed.usage.totalBytes,
      agreed,
      earned: usageCost(held.info, agreed.usage.totalBytes),
      pricePerMB: held.info.pricePerMB,
      deposit: held.info.deposit,
      ...(held.confirmTx ? { confirmTx: held.confirmTx } : {}),
    };
  }
}
