/**
 * Payments for tab-to-tab transfers: the sender's side makes a share paid (a bandwidth channel payee for each
 * receiver), the receiver's side opens the channel that pays for an offer. Both run on the tab's operator key,
 * which the owner authorizes for the role once, so no wallet prompt comes per payment. Every channel this tab is
 * party to is listed with what it moved and paid, and kept (with the last unit both sides signed) so that a reload
 * loses nothing. The payee closes its channels once their transfer is over; either side can close a channel with
 * that unit, and a payer takes back a deposit the payee never confirmed. The tab watches its closing channels: one
 * closed with an older unit than the one it holds is challenged with it, and one whose challenge window has passed
 * is settled, with no click.
 */
import { type Account, type Address, type Hash, isAddressEqual, type LocalAccount } from "viem";
import { getBlock } from "viem/actions";
import { type ChannelInfo, ChannelStatus, channelStatusName, getChannel } from "../../chain/bandwidth/channel.ts";
import {
  challengeChannel,
  closeChannel,
  reclaimChannel,
  settleChannel,
} from "../../chain/bandwidth/channel-actions.ts";
import { channelsOf } from "../../chain/bandwidth/channels-of.ts";
import { createTabulaClient, type TabulaClient } from "../../chain/client.ts";
import { OperatorRole } from "../../chain/operators/roles.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { userMessage } from "../../lib/errors.ts";
import { type AgreedUsage, emptyUsage } from "../../lib/payments/bandwidth.ts";
import { ProgressThrottle } from "../../lib/progress.ts";
import type { PaymentStoppedError } from "../../p2p/protocols/common/errors.ts";
import type { PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import { enableKeyRoles } from "../wallet/key-roles.ts";
import { BandwidthPayee, type PayeeChannel } from "./bandwidth-payee.ts";
import { assertCanPay, BandwidthPayer, type PayerChannel } from "./bandwidth-payer.ts";
import { NoPaymentWalletError, PaymentChainMismatchError } from "./errors.ts";

/** How often the tab looks for closing channels whose window has passed. */
export const SETTLE_CHECK_MS = 10_000;

/** A channel this tab is party to, as the money screen shows it. */
export interface ChannelRecord {
  channelId: bigint;
  role: "payer" | "payee";
  counterparty: Address;
  status: ReturnType<typeof channelStatusName>;
  deposit: bigint;
  pricePerMB: bigint;
  /** Bytes both sides signed, and what they cost. */
  agreedBytes: bigint;
  amount: bigint;
  /** Transactions that moved it: open or confirm, close, settle. */
  txs: { what: string; hash: Hash }[];
  /** End of the challenge window while closing (unix s). */
  closesAt?: bigint;
  /** The payee's confirmation deadline while the channel waits for it (unix s): after it the payer reclaims. */
  confirmBy?: bigint;
  /** The last unit both sides signed: what closes (or challenges) the channel. */
  agreed?: AgreedUsage;
  error?: string;
}

/** Where the records are kept across reloads (storage/channels-db.ts). */
export interface ChannelStore {
  all(): Promise<({ key: string } & Record<string, unknown>)[]>;
  put(record: { key: string } & Record<string, unknown>): Promise<void>;
}

export interface TransferPaymentsParts {
  reader: TabulaClient;
  /** The owner's client while a wallet is connected on this chain. */
  owner(): Promise<TabulaClient<Account> | undefined>;
  /** The tab's operator key (derived by the key vault). */
  operatorKey(): Promise<LocalAccount>;
  settleCheckMs?: number;
  /** How long a paid sender waits for the payment that lets it go on (default: the transfer's). */
  paymentTimeoutMs?: number;
  store?: ChannelStore;
}

/** How long changes gather before the records are written. */
const PERSIST_DELAY_MS = 300;

export class TransferPayments extends EventTarget {
  readonly #parts: TransferPaymentsParts;
  readonly #records = new Map<string, ChannelRecord>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #settling = false;
  readonly #dirty = new Set<string>();
  /** A unit moves a channel several times a second: the UI hears of it at most every 100 ms. */
  readonly #changed = new ProgressThrottle(() => this.dispatchEvent(new Event("change")));
  #flushTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(parts: TransferPaymentsParts) {
    super();
    this.#parts = parts;
  }

  /**
   * Reads the channels kept by earlier visits, and those the chain shows for the owner that were not kept (a tab
   * closed right after a transaction), brings them up to date and starts watching them.
   */
  async load(): Promise<void> {
    const prefix = `${this.#contractAddress()}:`;
    for (const stored of (await this.#parts.store?.all()) ?? []) {
      if (!stored.key.startsWith(prefix)) continue;
      const { key: _key, ...record } = stored;
      const channel = record as unknown as ChannelRecord;
      this.#records.set(keyOf(channel.channelId), channel);
    }
    const owner = await this.#parts.owner();
    if (owner) {
      const { reader } = this.#parts;
      for (const { channelId, role } of await channelsOf(reader, { account: owner.account.address })) {
        if (this.#records.has(keyOf(channelId))) continue;
        const info = await getChannel(reader, { channelId });
        this.#note(channelId, role, {
          counterparty: role === "payer" ? info.payee : info.payer,
          deposit: info.deposit,
          pricePerMB: info.pricePerMB,
          agreedBytes: info.agreedBytes,
          ...fromInfo(info),
        });
      }
    }
    this.#changed.now();
    await this.refresh();
    this.start();
  }

  /** Every channel of this tab, newest first. */
  get channels(): ChannelRecord[] {
    return [...this.#records.values()].reverse();
  }

  /** The sender's side of a paid share at `pricePerMB` (token base units per MB). */
  async payee(
    pricePerMB: bigint,
    hooks: {
      onChange?: (channel: PayeeChannel) => void;
      onStopped?: (error: PaymentStoppedError, channelId: bigint) => void;
    } = {},
  ): Promise<BandwidthPayee> {
    const { reader } = this.#parts;
    const owner = await this.#owner("Sending for pay");
    const key = await this.#parts.operatorKey();
    await enableKeyRoles({ reader, owner, key }, OperatorRole.Payee, "being paid for transfers");
    const terms: PaymentTerms = {
      chainId: reader.chain.id,
      payee: owner.account.address,
      pricePerMB,
      schemes: ["bandwidth"],
    };
    return new BandwidthPayee({
      reader,
      operator: createTabulaClient({ chain: reader.chain, account: key }),
      owner: owner.account.address,
      terms,
      ...(this.#parts.paymentTimeoutMs ? { timeoutMs: this.#parts.paymentTimeoutMs } : {}),
      onChange: (channel) => {
        this.#note(channel.channelId, "payee", {
          counterparty: channel.payer,
          status: "Active",
          deposit: channel.deposit,
          pricePerMB: channel.pricePerMB,
          agreedBytes: channel.agreed.usage.totalBytes,
          agreed: channel.agreed,
          amount: channel.earned,
          ...(channel.confirmTx ? { tx: { what: "confirm", hash: channel.confirmTx } } : {}),
        });
        hooks.onChange?.(channel);
      },
      ...(hooks.onStopped ? { onStopped: hooks.onStopped } : {}),
    });
  }

  /** The receiver's side: opens a channel that pays `terms` for `totalBytes` (one permit, one transaction). */
  async payer(
    terms: PaymentTerms,
    totalBytes: bigint,
    hooks: { onChange?: (channel: PayerChannel) => void } = {},
  ): Promise<BandwidthPayer> {
    const { reader } = this.#parts;
    if (terms.chainId !== reader.chain.id) {
      throw new PaymentChainMismatchError({ linkChainId: terms.chainId, tabChainId: reader.chain.id });
    }
    const owner = await this.#owner("Receiving a paid transfer");
    // Nothing is signed or sent for a deposit the owner cannot make.
    await assertCanPay(reader, owner.account.address, terms, totalBytes);
    const key = await this.#parts.operatorKey();
    await enableKeyRoles({ reader, owner, key }, OperatorRole.Payer, "paying for transfers");
    const payer = await BandwidthPayer.open({
      reader,
      owner,
      operator: key,
      terms,
      totalBytes,
      onChange: (channel) => {
        this.#notePayer(channel);
        hooks.onChange?.(channel);
      },
    });
    this.#notePayer(payer.view);
    return payer;
  }

  /**
   * The payee closes its channels on `payee` (or only `channelId`) with the last unit both signed (the empty unit
   * if none).
   */
  async close(payee: BandwidthPayee, channelId?: bigint): Promise<void> {
    const key = await this.#parts.operatorKey();
    const operator = createTabulaClient({ chain: this.#parts.reader.chain, account: key });
    for (const channel of payee.channels) {
      if (channelId !== undefined && channel.channelId !== channelId) continue;
      this.#note(channel.channelId, "payee", {
        agreed: payee.agreed(channel.channelId) ?? emptyUsage(channel.channelId),
      });
      await this.#close(operator, channel.channelId);
    }
    await this.refresh();
    this.start();
  }

  /** Closes channel `channelId` with the last unit both sides signed (either side may). */
  async closeChannel(channelId: bigint): Promise<void> {
    await this.#close(await this.#operator(), channelId);
    await this.refresh();
    this.start();
  }

  /** The payer takes back the deposit of a channel the payee did not confirm in time. */
  async reclaim(channelId: bigint): Promise<void> {
    const record = this.#records.get(keyOf(channelId));
    if (!record) return;
    try {
      const hash = await reclaimChannel(await this.#operator(), { channelId });
      await waitForSuccess(this.#parts.reader, { hash, what: `Taking back the deposit of channel ${channelId}` });
      this.#note(channelId, record.role, { tx: { what: "reclaim", hash }, error: undefined });
    } catch (error) {
      this.#note(channelId, record.role, { error: userMessage(error) });
    }
    await this.refresh();
  }

  async #close(operator: TabulaClient<LocalAccount>, channelId: bigint): Promise<void> {
    const record = this.#records.get(keyOf(channelId));
    if (!record || record.txs.some((t) => t.what === "close")) return;
    try {
      const hash = await closeChannel(operator, { agreed: record.agreed ?? emptyUsage(channelId) });
      await waitForSuccess(this.#parts.reader, { hash, what: `Closing payment channel ${channelId}` });
      this.#note(channelId, record.role, { tx: { what: "close", hash }, error: undefined });
    } catch (error) {
      this.#note(channelId, record.role, { error: userMessage(error) });
    }
    await this.#flush();
  }

  async #operator(): Promise<TabulaClient<LocalAccount>> {
    return createTabulaClient({ chain: this.#parts.reader.chain, account: await this.#parts.operatorKey() });
  }

  /** Reads every channel's state; settles those whose challenge window has passed. */
  async refresh(): Promise<void> {
    if (this.#settling) return;
    this.#settling = true;
    try {
      const { reader } = this.#parts;
      const now = (await getBlock(reader)).timestamp;
      for (const record of [...this.#records.values()]) {
        if (record.status === "Settled" || record.status === "Reclaimed" || record.status === "None") continue;
        const info = await getChannel(reader, { channelId: record.channelId });
        const counterparty = record.role === "payer" ? info.payee : info.payer;
        if (info.status === ChannelStatus.None || !isAddressEqual(counterparty, record.counterparty)) {
          // A local chain started afresh: the channel this tab kept is not there any more.
          this.#note(record.channelId, record.role, { status: "None", error: "This channel is not on the chain." });
          continue;
        }
        this.#note(record.channelId, record.role, fromInfo(info));
        if (info.status !== ChannelStatus.Closing) continue;
        const held = record.agreed;
        if (now <= info.deadline && held && held.usage.sequence > info.agreedSequence) {
          // Closed with an older unit than the one both signed last: the newer one replaces it.
          await this.#challenge(record, held);
        } else if (now > info.deadline) {
          await this.#settle(record);
        }
      }
    } catch (error) {
      console.error(error);
    } finally {
      this.#settling = false;
    }
  }

  /** Starts looking for channels to settle (until {@link stop}). */
  start(): void {
    this.#timer ??= setInterval(() => void this.refresh(), this.#parts.settleCheckMs ?? SETTLE_CHECK_MS);
  }

  /** Stops watching; resolves once every change is written. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#flush();
  }

  async #challenge(record: ChannelRecord, agreed: AgreedUsage): Promise<void> {
    try {
      const hash = await challengeChannel(await this.#operator(), { agreed });
      await waitForSuccess(this.#parts.reader, {
        hash,
        what: `Answering channel ${record.channelId}'s close with the last unit both signed`,
      });
      this.#note(record.channelId, record.role, { tx: { what: "challenge", hash }, error: undefined });
    } catch (error) {
      this.#note(record.channelId, record.role, { error: userMessage(error) });
    }
  }

  async #settle(record: ChannelRecord): Promise<void> {
    try {
      const key = await this.#parts.operatorKey();
      const operator = createTabulaClient({ chain: this.#parts.reader.chain, account: key });
      const hash = await settleChannel(operator, { channelId: record.channelId });
      await waitForSuccess(this.#parts.reader, { hash, what: `Settling payment channel ${record.channelId}` });
      const info = await getChannel(this.#parts.reader, { channelId: record.channelId });
      this.#note(record.channelId, record.role, { ...fromInfo(info), tx: { what: "settle", hash }, error: undefined });
    } catch (error) {
      // The other side may have settled first: the next read shows it.
      this.#note(record.channelId, record.role, { error: userMessage(error) });
    }
  }

  async #owner(action: string): Promise<TabulaClient<Account>> {
    const owner = await this.#parts.owner();
    if (!owner) throw new NoPaymentWalletError(action);
    return owner;
  }

  #notePayer(channel: PayerChannel): void {
    this.#note(channel.channelId, "payer", {
      counterparty: channel.payee,
      deposit: channel.deposit,
      pricePerMB: channel.pricePerMB,
      agreedBytes: channel.agreed.usage.totalBytes,
      agreed: channel.agreed,
      amount: channel.paid,
      tx: { what: "open", hash: channel.openTx },
    });
  }

  #note(
    channelId: bigint,
    role: ChannelRecord["role"],
    patch: Partial<Omit<ChannelRecord, "txs">> & { tx?: ChannelRecord["txs"][number] },
  ): void {
    const key = keyOf(channelId);
    const { tx, ...rest } = patch;
    const before: ChannelRecord = this.#records.get(key) ?? {
      channelId,
      role,
      counterparty: "0x0000000000000000000000000000000000000000",
      status: "Opened",
      deposit: 0n,
      pricePerMB: 0n,
      agreedBytes: 0n,
      amount: 0n,
      txs: [],
    };
    const txs = tx && !before.txs.some((t) => t.hash === tx.hash) ? [...before.txs, tx] : before.txs;
    const next: ChannelRecord = { ...before, ...rest, txs };
    if (next.error === undefined) delete next.error;
    this.#records.set(key, next);
    if (tx || patch.status !== before.status || patch.error !== before.error) this.#changed.now();
    else this.#changed.soon();
    this.#dirty.add(key);
    // A transaction is written at once: a tab closed right after it must still find its channel.
    if (tx) void this.#flush();
    else this.#flushTimer ??= setTimeout(() => void this.#flush(), PERSIST_DELAY_MS);
  }

  /** Writes the records changed since the last write. */
  async #flush(): Promise<void> {
    clearTimeout(this.#flushTimer);
    this.#flushTimer = undefined;
    const store = this.#parts.store;
    const keys = [...this.#dirty];
    this.#dirty.clear();
    if (!store) return;
    const prefix = this.#contractAddress();
    for (const key of keys) {
      const record = this.#records.get(key);
      if (record) await store.put({ key: `${prefix}:${key}`, ...record }).catch((error) => console.error(error));
    }
  }

  #contractAddress(): string {
    return this.#parts.reader.chain.contracts.BandwidthChannel?.address.toLowerCase() ?? "none";
  }
}

function keyOf(channelId: bigint): string {
  return channelId.toString();
}

/** What the chain says of a channel, in the record's terms. */
function fromInfo(info: ChannelInfo): Partial<ChannelRecord> {
  const status = channelStatusName(info.status);
  return {
    status,
    ...(info.status === ChannelStatus.Closing ? { closesAt: info.deadline } : {}),
    ...(info.status === ChannelStatus.Opened ? { confirmBy: info.deadline } : {}),
  };
}
