/**
 * The payer's side of a paid transfer over a bandwidth channel: it opens the channel with one permit (the deposit
 * covers the whole transfer at the link's price), then signs a unit for the bytes it has received and written,
 * and keeps each unit the payee countersigned: the evidence that closes the channel. It never signs for a byte it
 * has not received. A transfer of known length has up to {@link PAYER_UNITS_IN_FLIGHT} units out at once, so that
 * the payee's countersignature, which comes back behind the bytes the payee sent meanwhile, holds up no payment.
 */
import { type Account, type Address, type Hash, type Hex, isAddressEqual, type LocalAccount } from "viem";
import { getBlock } from "viem/actions";
import { ChannelStatus, getChannel } from "../../chain/bandwidth/channel.ts";
import {
  MAX_BATCH_OPENINGS,
  openChannel,
  openChannels,
  openedChannelId,
  openedChannelIds,
} from "../../chain/bandwidth/open-channel.ts";
import { getRoute, openRoute, routeLock } from "../../chain/bandwidth/route.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { type AgreedUsage, BandwidthMeter, emptyUsage, usageCost } from "../../lib/payments/bandwidth.ts";
import type { ContractRef } from "../../lib/payments/types.ts";
import { PaymentRefusedError } from "../../p2p/protocols/common/errors.ts";
import { decodeBandwidthMessage, encodeBandwidthMessage, type PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import type { PayerGate, Payment } from "../../p2p/protocols/transfer/index.ts";
import { chainClock } from "./chain-clock.ts";
import { assertCanPay, assertHolds, OPEN_PERMIT_SECONDS, transferCost } from "./cost.ts";
import { signRoute } from "./route-proof.ts";
import type { PayerView, SchemePayer } from "./types.ts";

/** Bytes the payer lets the payee's count run ahead of its own: the payee's credit, and the most it can lose. */
export const PAYER_TOLERANCE_BYTES = 4n * 1024n * 1024n;

/**
 * Bytes a unit covers at least, but for the last of a transfer of known length: each unit costs a signature and a
 * check on each side, which a transfer at full speed feels when it comes every chunk.
 */
export const PAYER_UNIT_BYTES = 1024n * 1024n;

/**
 * Units a transfer of known length has out before the payee's countersignatures come back. A transfer that only
 * bounds its length has one out, and its next unit pays whatever came meanwhile.
 */
export const PAYER_UNITS_IN_FLIGHT = 4;

/** One channel as the payer sees it, live: the bytes paid are those the payee countersigned. */
export interface PayerChannel extends PayerView {
  scheme: "bandwidth";
  agreed: AgreedUsage;
}

export interface OpenBandwidthParts {
  reader: TabulaClient;
  /** The owner's client: its tokens fund the deposit. */
  owner: TabulaClient<Account>;
  /** The tab's key, authorized for the Payer role: it signs the units. */
  operator: LocalAccount;
  terms: PaymentTerms;
  totalBytes: bigint;
  /**
   * The transfer is exactly `totalBytes` long: units then cover at least {@link PAYER_UNIT_BYTES} but for the
   * last. Otherwise (`totalBytes` only bounds it) each unit pays for whatever was received.
   */
  exact?: boolean;
  onChange?: (channel: PayerChannel) => void;
}

/** A channel that is the upstream leg of a route: the payee it must reach through the proxy. */
interface RouteCheck {
  /** The link's payee: the route's downstream leg must pay it. */
  payee: Address;
  /** The payer key's proof that it presents its own route (carried in the opening). */
  proof: Hex;
}

export class BandwidthPayer implements SchemePayer {
  readonly channelId: bigint;
  readonly openTx: Hash;
  readonly #parts: OpenBandwidthParts;
  readonly #contract: ContractRef;
  readonly #deposit: bigint;
  readonly #route: RouteCheck | undefined;
  #meter: BandwidthMeter | undefined;
  #received = 0n;
  /**
   * A session resumed with units out: the oldest goes again, as its answer (or the unit itself) was lost. The
   * payee answers it with the last unit it countersigned; the units after that one are withdrawn, and the next unit
   * pays for their bytes.
   */
  #resend: "due" | "sent" | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(parts: OpenBandwidthParts, channelId: bigint, openTx: Hash, deposit: bigint, route?: RouteCheck) {
    this.#parts = parts;
    this.channelId = channelId;
    this.openTx = openTx;
    this.#deposit = deposit;
    this.#route = route;
    this.#contract = contractRef(parts.reader);
  }

  /**
   * Opens a route to the terms' payee through `proxy` (whose owner carries the bytes): the upstream leg locks 110 %
   * of what `totalBytes` cost at the payee's price, at 110 % of that price, and pays the proxy, which pays the
   * payee on a leg of its own. One permit signature, one transaction. Bytes are paid for only once the chain
   * shows the proxy's leg paying the link's payee.
   */
  static async openRoute(parts: OpenBandwidthParts & { proxy: Address }): Promise<BandwidthPayer> {
    const { reader, owner, terms, proxy } = parts;
    contractRef(reader);
    const upstreamTerms: PaymentTerms = { ...terms, payee: proxy, pricePerMB: routeLock(terms.pricePerMB) };
    const amount = transferCost(terms, parts.totalBytes, "bandwidth");
    await assertCanPay(reader, owner.account.address, upstreamTerms, parts.totalBytes);
    const now = (await getBlock(reader)).timestamp;
    const hash = await openRoute(owner, {
      proxy,
      payerSigner: parts.operator.address,
      amount,
      pricePerMB: terms.pricePerMB,
      lossToleranceBytes: PAYER_TOLERANCE_BYTES,
      deadline: now + OPEN_PERMIT_SECONDS,
    });
    const receipt = await waitForSuccess(reader, { hash, what: "Opening the proxy route" });
    const channelId = openedChannelId(reader, receipt);
    const { chainId, address: contract } = contractRef(reader);
    const proof = await signRoute(parts.operator, { chainId, contract, channelId });
    return new BandwidthPayer({ ...parts, terms: upstreamTerms }, channelId, hash, routeLock(amount), {
      payee: terms.payee,
      proof,
    });
  }

  /** The payer of a channel opened already (a route's downstream leg, opened by the proxy). */
  static of(parts: OpenBandwidthParts, channel: { channelId: bigint; openTx: Hash; deposit: bigint }): BandwidthPayer {
    return new BandwidthPayer(parts, channel.channelId, channel.openTx, channel.deposit);
  }

  /**
   * Opens a channel to the terms' payee whose deposit covers `totalBytes`: one permit signature, one transaction.
   * {@link InsufficientFundsError} (and nothing sent) when the owner holds too little.
   */
  static async open(parts: OpenBandwidthParts): Promise<BandwidthPayer> {
    const { reader, owner, terms } = parts;
    contractRef(reader);
    const deposit = await assertCanPay(reader, owner.account.address, terms, parts.totalBytes);
    const now = (await getBlock(reader)).timestamp;
    const hash = await openChannel(owner, {
      payee: terms.payee,
      payerSigner: parts.operator.address,
      deposit,
      pricePerMB: terms.pricePerMB,
      lossToleranceBytes: PAYER_TOLERANCE_BYTES,
      deadline: now + OPEN_PERMIT_SECONDS,
    });
    const receipt = await waitForSuccess(reader, { hash, what: "Opening the payment channel" });
    return new BandwidthPayer(parts, openedChannelId(reader, receipt), hash, deposit);
  }

  /**
   * Opens a channel for each of `payments` (its payee, price and bytes; at most {@link MAX_BATCH_OPENINGS}) in one
   * transaction, funded by one permit for the sum of the deposits: a download pays all its hosts with one signature.
   * {@link InsufficientFundsError} (and nothing sent) when the owner holds less than the sum.
   */
  static async openMany(
    parts: Omit<OpenBandwidthParts, "terms" | "totalBytes" | "onChange">,
    payments: readonly Pick<OpenBandwidthParts, "terms" | "totalBytes" | "onChange">[],
  ): Promise<BandwidthPayer[]> {
    const { reader, owner } = parts;
    contractRef(reader);
    if (payments.length === 0) return [];
    if (payments.length > MAX_BATCH_OPENINGS) {
      throw new RangeError(`one transaction opens at most ${MAX_BATCH_OPENINGS} channels`);
    }
    const deposits = payments.map((payment) => transferCost(payment.terms, payment.totalBytes));
    const sum = deposits.reduce((total, deposit) => total + deposit, 0n);
    await assertHolds(reader, owner.account.address, sum);
    const now = (await getBlock(reader)).timestamp;
    const hash = await openChannels(owner, {
      openings: payments.map((payment, i) => ({
        payee: payment.terms.payee,
        payerSigner: parts.operator.address,
        deposit: deposits[i] as bigint,
        pricePerMB: payment.terms.pricePerMB,
        lossToleranceBytes: PAYER_TOLERANCE_BYTES,
      })),
      deadline: now + OPEN_PERMIT_SECONDS,
    });
    const receipt = await waitForSuccess(reader, { hash, what: "Opening the payment channels" });
    const ids = openedChannelIds(reader, receipt);
    return payments.map(
      (payment, i) => new BandwidthPayer({ ...parts, ...payment }, ids[i] as bigint, hash, deposits[i] as bigint),
    );
  }

  /** The gate of one session of the transfer; the channel (and what it paid) carries over between sessions. */
  gate(): PayerGate {
    this.#resend = this.#meter && this.#meter.pending.length > 0 ? "due" : undefined;
    return {
      opening: {
        scheme: "bandwidth",
        data: encodeBandwidthMessage({
          type: "open",
          channelId: this.channelId,
          ...(this.#route ? { proof: this.#route.proof } : {}),
        }),
      },
      received: (position) => this.#serial(() => this.#receivedUpTo(BigInt(position))),
      answer: (payment) => this.#serial(() => this.#answer(payment)),
    };
  }

  /** The last unit both sides signed (the empty unit before any). */
  get agreed(): AgreedUsage | undefined {
    return this.#meter?.agreed;
  }

  get view(): PayerChannel {
    const agreed = this.#meter?.agreed ?? emptyUsage(this.channelId);
    return {
      scheme: "bandwidth",
      channelId: this.channelId,
      payee: this.#parts.terms.payee,
      deposit: this.#deposit,
      pricePerMB: this.#parts.terms.pricePerMB,
      receivedBytes: this.#received,
      paidBytes: agreed.usage.totalBytes,
      agreed,
      paid: usageCost(
        { deposit: this.#deposit, pricePerMB: this.#parts.terms.pricePerMB, lossToleranceBytes: PAYER_TOLERANCE_BYTES },
        agreed.usage.totalBytes,
      ),
      openTx: this.openTx,
    };
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(work);
    this.#queue = next.catch(() => {});
    return next;
  }

  async #receivedUpTo(position: bigint): Promise<Payment | undefined> {
    const meter = await this.#meterReady();
    if (position > this.#received) {
      meter.record(position - this.#received);
      this.#received = position;
      this.#parts.onChange?.(this.view);
    }
    const oldest = meter.pending[0];
    if (this.#resend === "due" && oldest) {
      this.#resend = "sent";
      return { scheme: "bandwidth", data: encodeBandwidthMessage({ type: "unit", unit: oldest }) };
    }
    return await this.#due(meter);
  }

  async #answer(payment: Payment): Promise<Payment | undefined> {
    const meter = await this.#meterReady();
    let message: ReturnType<typeof decodeBandwidthMessage>;
    try {
      if (payment.scheme !== "bandwidth") throw new Error(`scheme ${payment.scheme}`);
      message = decodeBandwidthMessage(payment.data);
      if (message.type !== "sign") throw new Error(`expected a countersignature, got "${message.type}"`);
    } catch (error) {
      throw new PaymentRefusedError("the payee's answer is malformed", { cause: error });
    }
    const unit = meter.pending.find((pending) => pending.usage.sequence === message.sequence);
    if (!unit) {
      throw new PaymentRefusedError(`countersignature of unit ${message.sequence}, which is not one in flight`);
    }
    try {
      await meter.acceptCountersignature({
        usage: unit.usage,
        payerSignature: unit.signature,
        payeeSignature: message.signature,
      });
    } catch (error) {
      throw new PaymentRefusedError("the payee's countersignature does not verify", { cause: error });
    }
    if (this.#resend === "sent") {
      // The payee's last unit is this one: those after it never reached it.
      this.#resend = undefined;
      meter.withdrawPending();
    }
    this.#parts.onChange?.(this.view);
    return await this.#due(meter);
  }

  /**
   * The next unit, when bytes were received beyond the last one proposed and fewer than the units allowed are in
   * flight: for a transfer of known length, once they make {@link PAYER_UNIT_BYTES} or reach its end.
   */
  async #due(meter: BandwidthMeter): Promise<Payment | undefined> {
    const unpaid = this.#received - meter.proposedBytes;
    const inFlight = this.#parts.exact ? PAYER_UNITS_IN_FLIGHT : 1;
    if (this.#resend || meter.pending.length >= inFlight || unpaid <= 0n) return undefined;
    if (this.#parts.exact && unpaid < PAYER_UNIT_BYTES && this.#received < this.#parts.totalBytes) return undefined;
    const unit = await meter.propose();
    return { scheme: "bandwidth", data: encodeBandwidthMessage({ type: "unit", unit }) };
  }

  /** The meter, once the payee confirmed the channel and bound its key. */
  async #meterReady(): Promise<BandwidthMeter> {
    if (this.#meter) return this.#meter;
    const { reader, operator } = this.#parts;
    const info = await getChannel(reader, { channelId: this.channelId });
    if (info.status !== ChannelStatus.Active) {
      throw new PaymentRefusedError(`channel ${this.channelId} was not confirmed by the payee`);
    }
    if (this.#route) {
      // A proxy that carries the bytes is paid only once its own leg pays the link's payee.
      const { downstreamId } = await getRoute(reader, { upstreamId: this.channelId });
      const leg = downstreamId === 0n ? undefined : await getChannel(reader, { channelId: downstreamId });
      if (!leg || !isAddressEqual(leg.payee, this.#route.payee)) {
        throw new PaymentRefusedError(`the proxy of route ${this.channelId} opened no leg to ${this.#route.payee}`);
      }
    }
    this.#meter = new BandwidthMeter({
      role: "payer",
      contract: this.#contract,
      channelId: this.channelId,
      self: operator,
      counterpartySigner: info.payeeSigner,
      lossToleranceBytes: info.lossToleranceBytes,
      now: await chainClock(reader, info.openedAt),
    });
    return this.#meter;
  }
}

function contractRef(reader: TabulaClient): ContractRef {
  const address = reader.chain.contracts.BandwidthChannel?.address;
  if (!address) throw new Error("this chain has no BandwidthChannel");
  return { chainId: reader.chain.id, address };
}
