/**
 * Payments for tab-to-tab transfers: the sender's side makes a share paid (in each scheme its link accepts: a
 * bandwidth channel or a hash chain per receiver), the receiver's side locks the payment for an offer in the scheme
 * it picks. Both run on the tab's operator key, which the owner authorizes for the role once, so no wallet prompt
 * comes per payment. Every channel this tab is party to is listed with what it moved and paid, and kept (with the
 * last unit both sides signed, or the latest preimage) so that a reload loses nothing.
 *
 * Bandwidth channels: the payee closes its channels once their transfer is over; either side can close a channel
 * with that unit, and a payer takes back a deposit the payee never confirmed. The tab watches its closing channels:
 * one closed with an older unit than the one it holds is challenged with it, and one whose challenge window has
 * passed is settled, with no click. Hash chains: the payee redeems the latest preimage once its transfer is over
 * (or when the tab comes back), and the payer takes back a chain that expired unredeemed.
 */
import { type Account, type Address, type Hash, type Hex, isAddressEqual, type LocalAccount, numberToHex } from "viem";
import { getBlock, getBlockNumber } from "viem/actions";
import { type ChannelInfo, ChannelStatus, channelStatusName, getChannel } from "../../chain/bandwidth/channel.ts";
import {
  challengeChannel,
  closeChannel,
  reclaimChannel,
  settleChannel,
} from "../../chain/bandwidth/channel-actions.ts";
import { channelClosingTxs } from "../../chain/bandwidth/closing-txs.ts";
import { MAX_BATCH_OPENINGS } from "../../chain/bandwidth/open-channel.ts";
import { createTabulaClient, type TabulaClient } from "../../chain/client.ts";
import { getHashChainChannel } from "../../chain/hashchain/channel.ts";
import { reclaimHashChain, redeemHashChain } from "../../chain/hashchain/channel-actions.ts";
import { hashChainOutcome } from "../../chain/hashchain/redemption-of.ts";
import { getLot, lotDeadlines, lotRegisteredBy } from "../../chain/lottery/lot.ts";
import {
  closeLot,
  finishLot,
  pinLotSeed,
  redeemLot,
  registerLotTickets,
  revealLot,
  withdrawLotShare,
} from "../../chain/lottery/lot-actions.ts";
import { type LotOutcome, lotOutcome, lotSeedPin } from "../../chain/lottery/outcome.ts";
import { getMerkleChannel } from "../../chain/merkle/channel.ts";
import { reclaimMerkle, redeemMerkle } from "../../chain/merkle/channel-actions.ts";
import { merkleOutcome } from "../../chain/merkle/outcome.ts";
import { OperatorRole } from "../../chain/operators/roles.ts";
import { channelsOf } from "../../chain/payments/channels-of.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { userMessage } from "../../lib/errors.ts";
import { type AgreedUsage, emptyUsage } from "../../lib/payments/bandwidth.ts";
import { type LotState, LotStatus, TicketBook, type TicketClaim } from "../../lib/payments/lottery.ts";
import { ProgressThrottle } from "../../lib/progress.ts";
import { PaymentRefusedError, type PaymentStoppedError } from "../../p2p/protocols/common/errors.ts";
import type { PaymentScheme, PaymentTerms, WireMerkleToken } from "../../p2p/protocols/pay/index.ts";
import type { CarriedPayments, PayeeGate, Payment, TransferCarrier } from "../../p2p/protocols/transfer/index.ts";
import { enableKeyRoles } from "../wallet/key-roles.ts";
import { BandwidthPayee, type PayeeChannel } from "./bandwidth-payee.ts";
import { BandwidthPayer } from "./bandwidth-payer.ts";
import {
  assertCanPay,
  assertFits,
  LOT_TICKETS,
  lotTicketsFor,
  OPEN_PERMIT_SECONDS,
  UNIT_BYTES,
  unitsFor,
} from "./cost.ts";
import { NoPaymentWalletError, PaymentChainMismatchError, PaymentSchemeError } from "./errors.ts";
import { HashChainPayee, type HashChainPayeeChannel, MIN_REDEEM_SECONDS } from "./hash-chain-payee.ts";
import { HashChainPayer } from "./hash-chain-payer.ts";
import { LotteryPayee, type LotteryPayeeChannel, MIN_ISSUE_SECONDS } from "./lottery-payee.ts";
import { type HeldLot, LotteryPayer, type LotteryPayerChannel, lotSecret } from "./lottery-payer.ts";
import { MerklePayee, type MerklePayeeChannel, merkleRedemptions } from "./merkle-payee.ts";
import { MerklePayer } from "./merkle-payer.ts";
import { openedChannel } from "./payment-message.ts";
import { RouteProxy } from "./route-proxy.ts";
import { type SchemePayees, TransferPayee } from "./transfer-payee.ts";
import type { PayerView, SchemePayer } from "./types.ts";

/** How often the tab looks for closing channels whose window has passed. */
export const SETTLE_CHECK_MS = 10_000;
/** A payee redeems a hash chain a transfer still pays into once this little of its life is left (seconds). */
export const REDEEM_MARGIN_SECONDS = MIN_REDEEM_SECONDS / 2n;

/** The schemes this tab pays and is paid in, in the order it prefers them. */
export const TRANSFER_SCHEMES = [
  "bandwidth",
  "hash-chain",
  "merkle",
  "lottery",
] as const satisfies readonly PaymentScheme[];
export type TransferScheme = (typeof TRANSFER_SCHEMES)[number];

/**
 * Where a hash chain or Merkle channel stands: open, redeemed by its payee, reclaimed by its payer, or past expiry
 * with something left unredeemed.
 */
export type TokenStatus = "Open" | "Redeemed" | "Reclaimed" | "Expired";

/**
 * Where a lottery lot stands: issuing tickets, drawing (closed, the payer's reveal awaited), drawn (the winner may
 * redeem), sharing (the reveal was withheld: holders register), redeemed (the winner was paid), finished (the
 * payer took back what nobody won).
 */
export type LotStage = "Open" | "Drawing" | "Drawn" | "Sharing" | "Redeemed" | "Finished";

/** Most tickets one registration for sharing carries (about 30,000 gas each, well inside a block). */
export const MAX_REGISTER_TICKETS = 200;

/** Blocks after a closed lot's seed block at which a holder keeps the seed (half of the 256 BLOCKHASH remembers). */
export const SEED_PIN_AFTER_BLOCKS = 128n;
/** Blocks whose hashes the EVM's BLOCKHASH still returns. */
const BLOCKHASH_HISTORY_BLOCKS = 256n;

/** A new transfer draws on an open lot only while the lot issues for this long yet (seconds). */
export const LOT_REUSE_SECONDS = 2n * MIN_ISSUE_SECONDS;

/** A channel (or hash chain) this tab is party to, as the money screen shows it. */
export interface ChannelRecord {
  scheme: TransferScheme;
  /** The channel's id (a hash chain's bytes32 id as its number). */
  channelId: bigint;
  role: "payer" | "payee";
  counterparty: Address;
  status: ReturnType<typeof channelStatusName> | TokenStatus | LotStage;
  deposit: bigint;
  pricePerMB: bigint;
  /** Bytes paid for (both sides signed, or the latest preimage proved), and what they cost. */
  agreedBytes: bigint;
  amount: bigint;
  /** Transactions that moved it: open or confirm, close, challenge, settle, redeem, reclaim. */
  txs: { what: string; hash: Hash }[];
  /** End of the challenge window while closing (unix s). */
  closesAt?: bigint;
  /** The payee's confirmation deadline while the channel waits for it (unix s): after it the payer reclaims. */
  confirmBy?: bigint;
  /** The last unit both sides signed: what closes (or challenges) the channel. */
  agreed?: AgreedUsage;
  /** A hash chain's or Merkle channel's expiry (unix s): the payee redeems before it, the payer reclaims after. */
  expiresAt?: bigint;
  /** The payee's latest preimage and its depth: what redeems the hash chain. */
  redemption?: { preimage: Hex; depth: number };
  /** The payee's Merkle tokens: what redeems its share of the channel. */
  tokens?: WireMerkleToken[];
  /** A lottery lot's size, the tickets issued from it (payer) or held (payee), and its close-by time (unix s). */
  lotSize?: number;
  issued?: number;
  closeBy?: bigint;
  /** What a lot's tickets are worth in expectation: one MB's price each. */
  expected?: bigint;
  /** The payee's lottery tickets: what redeems the lot if one wins, or registers for sharing. */
  lotTickets?: TicketClaim[];
  /** The lot's winning index, once drawn. */
  winningIndex?: number;
  /** The payer asked for the lot's draw (or a transfer needed more than it had left). */
  drawAsked?: boolean;
  /** A leg of a proxy route: the proxy that carries the bytes and the payee they come from. */
  route?: { proxy: Address; payee: Address };
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
  /** Tickets a new lottery lot holds at least (default {@link LOT_TICKETS}). */
  lotTickets?: number;
  /** How long a carried route whose link dropped waits for its receiver to resume (default {@link ROUTE_RESUME_MS}). */
  routeResumeMs?: number;
  store?: ChannelStore;
}

/**
 * How long a carried route whose link dropped stays open for its receiver to resume on it: longer than the
 * receiver's tries to reconnect take, after which both legs settle.
 */
export const ROUTE_RESUME_MS = 120_000;

/** How long changes gather before the records are written. */
const PERSIST_DELAY_MS = 300;

export class TransferPayments extends EventTarget {
  readonly #parts: TransferPaymentsParts;
  readonly #records = new Map<string, ChannelRecord>();
  /** Hash chains and Merkle channels a running transfer still pays into: redeemed only once it is over. */
  readonly #live = new Set<string>();
  /** The routes this tab carries, by upstream leg: a receiver whose link dropped resumes on the same legs. */
  readonly #carried = new Map<
    bigint,
    { carried: RouteProxy; receiver: string; terms: PaymentTerms; idle?: ReturnType<typeof setTimeout> | undefined }
  >();
  /** Routes whose admission is under way, by upstream leg. */
  readonly #admitting = new Map<bigint, Promise<RouteProxy>>();
  /** Channels a share of this tab took payments on: no other transfer is paid on them. */
  readonly #claimed = new Set<string>();
  /** The payee's ticket book of each lot it was paid from. */
  readonly #books = new Map<bigint, TicketBook>();
  /** What each lot's events showed when last read, with the lot's state then: read again only once it moved. */
  readonly #lotEvents = new Map<bigint, LotEvents>();
  #timer: ReturnType<typeof setInterval> | undefined;
  /** The look at the chain under way, and the one asked for while it runs. */
  #running: Promise<void> | undefined;
  #queued: Promise<void> | undefined;
  readonly #dirty = new Set<string>();
  /** A unit moves a channel several times a second: the UI hears of it at most every 100 ms. */
  readonly #changed = new ProgressThrottle(() => this.dispatchEvent(new Event("change")));
  #flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** The ended sessions being settled, in turn. */
  #settling: Promise<void> = Promise.resolve();

  constructor(parts: TransferPaymentsParts) {
    super();
    this.#parts = parts;
  }

  /** Tickets a new lottery lot holds at least. */
  get lotTickets(): number {
    return this.#parts.lotTickets ?? LOT_TICKETS;
  }

  /** The schemes this chain has contracts for, in the order the tab prefers them. */
  get schemes(): TransferScheme[] {
    const contracts = this.#parts.reader.chain.contracts;
    return TRANSFER_SCHEMES.filter((scheme) => contracts[CONTRACT_OF[scheme]] !== undefined);
  }

  /**
   * Reads the channels kept by earlier visits, and those the chain shows for the owner that were not kept (a tab
   * closed right after a transaction), brings them up to date and starts watching them.
   */
  async load(): Promise<void> {
    const prefixes = new Map(this.schemes.map((scheme) => [`${this.#contractAddress(scheme)}:`, scheme]));
    for (const stored of (await this.#parts.store?.all()) ?? []) {
      const scheme = [...prefixes].find(([prefix]) => stored.key.startsWith(prefix))?.[1];
      if (!scheme) continue;
      const { key: _key, ...record } = stored;
      const channel = { scheme, ...record } as unknown as ChannelRecord;
      this.#records.set(keyOf(channel.scheme, channel.channelId), channel);
    }
    const owner = await this.#parts.owner();
    if (owner) await this.#discover(owner.account.address);
    this.#changed.now();
    await this.refresh();
    this.start();
  }

  async #discover(account: Address): Promise<void> {
    const { reader } = this.#parts;
    const schemes = this.schemes;
    if (schemes.includes("bandwidth")) {
      for (const { channelId, role } of await channelsOf(reader, { contract: "BandwidthChannel", account })) {
        if (this.#records.has(keyOf("bandwidth", channelId))) continue;
        const info = await getChannel(reader, { channelId });
        this.#note("bandwidth", channelId, role, {
          counterparty: role === "payer" ? info.payee : info.payer,
          deposit: info.deposit,
          pricePerMB: info.pricePerMB,
          agreedBytes: info.agreedBytes,
          ...fromInfo(info),
        });
      }
    }
    if (schemes.includes("hash-chain")) {
      for (const { channelId, role } of await channelsOf(reader, { contract: "HashChainChannel", account })) {
        if (this.#records.has(keyOf("hash-chain", channelId))) continue;
        const info = await getHashChainChannel(reader, { channelId: chainIdHex(channelId) });
        this.#note("hash-chain", channelId, role, {
          counterparty: role === "payer" ? info.payee : info.payer,
          status: "Open",
          deposit: BigInt(info.units) * info.unitValue,
          pricePerMB: info.unitValue,
          expiresAt: info.expiresAt,
        });
      }
    }
    if (schemes.includes("merkle")) {
      for (const { channelId, role } of await channelsOf(reader, { contract: "MerkleChannel", account })) {
        if (this.#records.has(keyOf("merkle", channelId))) continue;
        const info = await getMerkleChannel(reader, { channelId: chainIdHex(channelId) });
        this.#note("merkle", channelId, role, {
          ...(role === "payee" ? { counterparty: info.payer } : {}),
          status: "Open",
          deposit: info.remaining,
          expiresAt: info.expiresAt,
        });
      }
    }
    if (schemes.includes("lottery")) {
      for (const { channelId, role } of await channelsOf(reader, { contract: "Lottery", account })) {
        if (this.#records.has(keyOf("lottery", channelId))) continue;
        const lot = await getLot(reader, { lotId: channelId });
        this.#note("lottery", channelId, role, {
          ...(role === "payee" ? { counterparty: lot.payer } : {}),
          deposit: lotValue(lot) * (role === "payer" ? 3n : 1n),
          pricePerMB: lot.ticketValue,
          lotSize: lot.lotSize,
          // How many tickets went out is not on the chain: a lot found there is drawn, never drawn on again.
          ...(role === "payer" ? { issued: lot.lotSize, drawAsked: true } : {}),
          closeBy: BigInt(lot.closeBy),
        });
      }
    }
  }

  /** Every channel of this tab, newest first. */
  get channels(): ChannelRecord[] {
    return [...this.#records.values()].reverse();
  }

  /**
   * The sender's side of a paid share at `pricePerMB` (token base units per MB), in `schemes` (by default every
   * scheme this chain has).
   */
  async payee(
    pricePerMB: bigint,
    hooks: {
      schemes?: readonly TransferScheme[];
      onChange?: () => void;
      onStopped?: (error: PaymentStoppedError, channelId: bigint) => void;
      /** A receiver's payment was refused (it was told why, and the transfer stopped). */
      onRefused?: (error: PaymentRefusedError) => void;
      /**
       * Each session is settled once it ends (a host's fetches, each paid on its own), rather than when the caller
       * closes the payee: its channel closes, its chain or tokens are redeemed.
       */
      settleEach?: boolean;
    } = {},
  ): Promise<TransferPayee> {
    const { reader } = this.#parts;
    const schemes = hooks.schemes ?? this.schemes;
    if (schemes.length === 0) throw new PaymentSchemeError({ asked: "none", offered: this.schemes });
    for (const scheme of schemes) {
      if (!this.schemes.includes(scheme)) throw new PaymentSchemeError({ asked: scheme, offered: this.schemes });
    }
    const owner = await this.#owner("Sending for pay");
    const key = await this.#parts.operatorKey();
    await enableKeyRoles({ reader, owner, key }, OperatorRole.Payee, "being paid for transfers");
    const terms: PaymentTerms = {
      chainId: reader.chain.id,
      payee: owner.account.address,
      pricePerMB,
      schemes: [...schemes],
    };
    // What every scheme's payee shares: the chain, who is paid, the terms, and how long it waits for a payment.
    const common = {
      reader,
      owner: owner.account.address,
      terms,
      ...(this.#parts.paymentTimeoutMs ? { timeoutMs: this.#parts.paymentTimeoutMs } : {}),
      ...(hooks.onStopped ? { onStopped: hooks.onStopped } : {}),
    };
    const changed =
      <T>(note: (channel: T) => void) =>
      (channel: T) => {
        note(channel);
        hooks.onChange?.();
      };
    const payees: SchemePayees = {};
    if (schemes.includes("bandwidth")) {
      payees.bandwidth = new BandwidthPayee({
        ...common,
        operator: createTabulaClient({ chain: reader.chain, account: key }),
        claim: (id) => this.#claim("bandwidth", id),
        onChange: changed((channel) => this.#noteBandwidthPayee(channel)),
      });
    }
    if (schemes.includes("hash-chain")) {
      payees["hash-chain"] = new HashChainPayee({
        ...common,
        claim: (id) => this.#claim("hash-chain", id),
        onChange: changed((channel) => {
          this.#live.add(keyOf("hash-chain", channel.channelId));
          this.#noteHashChainPayee(channel);
        }),
      });
    }
    if (schemes.includes("merkle")) {
      payees.merkle = new MerklePayee({
        ...common,
        claim: (id) => this.#claim("merkle", id),
        onChange: changed((channel) => {
          this.#live.add(keyOf("merkle", channel.channelId));
          this.#noteMerklePayee(channel);
        }),
      });
    }
    if (schemes.includes("lottery")) {
      payees.lottery = new LotteryPayee({
        ...common,
        book: (lotId) => this.#book(lotId, owner.account.address),
        onChange: changed((channel) => this.#noteLotteryPayee(channel)),
      });
    }
    const payee: TransferPayee = new TransferPayee(terms, payees, {
      ...(hooks.onRefused ? { onRefused: hooks.onRefused } : {}),
      ...(hooks.settleEach ? { onEnd: (scheme, channelId) => this.#settleSession(payee, scheme, channelId) } : {}),
    });
    return payee;
  }

  /**
   * Settles one ended session's channel, one after another (they are sent by one key), then lets the payee forget
   * it: what the channel still needs is in its record.
   */
  #settleSession(payee: TransferPayee, scheme: PaymentScheme, channelId: bigint): void {
    this.#settling = this.#settling
      .then(() => this.close(payee, channelId))
      .catch((error: unknown) => console.error(error))
      .finally(() => payee.forget(scheme, channelId));
  }

  /**
   * The receiver's side: locks what pays `terms` for `totalBytes` in `scheme` (by default the first of the link's
   * schemes this tab pays in): one permit, one transaction.
   */
  async payer(
    terms: PaymentTerms,
    totalBytes: bigint,
    hooks: {
      scheme?: PaymentScheme;
      onChange?: (payment: PayerView) => void;
      /** Pay through a route carried by the proxy at this address (a bandwidth channel to it, 110 % locked). */
      via?: Address;
      /** The transfer is exactly `totalBytes` long (not just at most): a bandwidth channel pays in fewer units. */
      exact?: boolean;
    } = {},
  ): Promise<SchemePayer> {
    const { reader } = this.#parts;
    if (terms.chainId !== reader.chain.id) {
      throw new PaymentChainMismatchError({ linkChainId: terms.chainId, tabChainId: reader.chain.id });
    }
    if (hooks.via) return await this.#routePayer(terms, totalBytes, hooks.via, hooks.onChange);
    const scheme = hooks.scheme ?? this.schemeFor(terms);
    if (!scheme || !terms.schemes.includes(scheme) || !this.schemes.includes(scheme as TransferScheme)) {
      throw new PaymentSchemeError({ asked: scheme ?? "none of them", offered: terms.schemes });
    }
    assertFits(scheme, totalBytes);
    const owner = await this.#owner("Receiving a paid transfer");
    const onChange = (payment: PayerView) => {
      this.#notePayer(payment);
      hooks.onChange?.(payment);
    };
    if (scheme === "lottery") return await this.#lotteryPayer(owner, terms, totalBytes, onChange);
    // Nothing is signed or sent for a deposit the owner cannot make.
    await assertCanPay(reader, owner.account.address, terms, totalBytes, scheme);
    const key = await this.#parts.operatorKey();
    await enableKeyRoles({ reader, owner, key }, OperatorRole.Payer, "paying for transfers");
    const payer: SchemePayer =
      scheme === "bandwidth"
        ? await BandwidthPayer.open({
            reader,
            owner,
            operator: key,
            terms,
            totalBytes,
            onChange,
            ...(hooks.exact ? { exact: true } : {}),
          })
        : scheme === "hash-chain"
          ? await HashChainPayer.open({ reader, owner, terms, totalBytes, onChange })
          : await MerklePayer.open({ reader, owner, terms, totalBytes, onChange });
    this.#notePayer(payer.view);
    return payer;
  }

  /**
   * Locks what pays each of `requests` (a download's hosts, each in the first scheme both take). Those paid by
   * bandwidth channel open together: one permit and one transaction for all of them. Any other lock is made on its
   * own, as {@link payer} makes it. The payers come back in the order of `requests`.
   */
  async payers(requests: readonly { terms: PaymentTerms; totalBytes: bigint }[]): Promise<SchemePayer[]> {
    const { reader } = this.#parts;
    const together = requests.flatMap((request, i) =>
      request.terms.chainId === reader.chain.id && this.schemeFor(request.terms) === "bandwidth" ? [i] : [],
    );
    const payers: SchemePayer[] = new Array(requests.length);
    if (together.length > 1) {
      const owner = await this.#owner("Paying hosts for a download");
      const key = await this.#parts.operatorKey();
      await enableKeyRoles({ reader, owner, key }, OperatorRole.Payer, "paying for transfers");
      for (let from = 0; from < together.length; from += MAX_BATCH_OPENINGS) {
        const batch = together.slice(from, from + MAX_BATCH_OPENINGS);
        const opened = await BandwidthPayer.openMany(
          { reader, owner, operator: key },
          batch.map((i) => ({ ...(requests[i] as (typeof requests)[number]), onChange: (p) => this.#notePayer(p) })),
        );
        batch.forEach((i, k) => {
          const payer = opened[k] as BandwidthPayer;
          payers[i] = payer;
          this.#notePayer(payer.view);
        });
      }
    }
    // One after another: each lock of the owner's is a permit of its own.
    for (const [i, request] of requests.entries()) {
      payers[i] ??= await this.payer(request.terms, request.totalBytes);
    }
    return payers;
  }

  /** The payer of a route to `terms` through the proxy at `via`: the upstream leg, opened by the owner. */
  async #routePayer(
    terms: PaymentTerms,
    totalBytes: bigint,
    via: Address,
    onChange: ((payment: PayerView) => void) | undefined,
  ): Promise<SchemePayer> {
    const { reader } = this.#parts;
    if (!terms.schemes.includes("bandwidth") || !this.schemes.includes("bandwidth")) {
      throw new PaymentSchemeError({
        asked: "bandwidth (a proxy route is a bandwidth channel)",
        offered: terms.schemes,
      });
    }
    const owner = await this.#owner("Receiving a paid transfer through a proxy");
    const key = await this.#parts.operatorKey();
    await enableKeyRoles({ reader, owner, key }, OperatorRole.Payer, "paying for transfers");
    const route = { proxy: via, payee: terms.payee };
    const payer = await BandwidthPayer.openRoute({
      reader,
      owner,
      operator: key,
      terms,
      totalBytes,
      proxy: via,
      onChange: (payment) => {
        this.#notePayer(payment, route);
        onChange?.(payment);
      },
    });
    this.#notePayer(payer.view, route);
    return payer;
  }

  /**
   * What makes this tab a proxy for paid transfers between peers that cannot reach each other: each receiver's
   * route is admitted (its upstream leg confirmed, the owner's leg to the sender opened), and once the carried
   * transfer is over the upstream leg closes with the last unit both signed; the sender closes the other.
   */
  async carrier(): Promise<TransferCarrier> {
    const { reader } = this.#parts;
    if (!this.schemes.includes("bandwidth")) throw new PaymentSchemeError({ asked: "bandwidth", offered: [] });
    const owner = await this.#owner("Carrying paid transfers");
    const key = await this.#parts.operatorKey();
    await enableKeyRoles({ reader, owner, key }, OperatorRole.Payer | OperatorRole.Payee, "carrying paid transfers");
    return {
      address: owner.account.address,
      admit: async (opening, terms, session) => {
        if (terms.chainId !== reader.chain.id) {
          throw new PaymentRefusedError(`the link is paid on chain ${terms.chainId}, this proxy on ${reader.chain.id}`);
        }
        const upstreamId = openedChannel(opening);
        // An admission of this route still under way (its session ended on a slow chain) finishes first: the
        // resumed session goes on on what it opened.
        const admitting = upstreamId === undefined ? undefined : this.#admitting.get(upstreamId);
        if (admitting) await admitting.catch(() => {});
        const resumed = await this.#resumeCarried(opening, terms, session);
        if (resumed) return resumed;
        const route = { proxy: owner.account.address, payee: terms.payee };
        let carried: RouteProxy;
        try {
          const admission = RouteProxy.open(
            {
              reader,
              owner,
              operator: key,
              claim: (id) => this.#claim("bandwidth", id),
              ...(this.#parts.paymentTimeoutMs ? { timeoutMs: this.#parts.paymentTimeoutMs } : {}),
              onUpstream: (channel) => this.#noteBandwidthPayee(channel, route),
              onDownstream: (payment) => this.#notePayer(payment, route),
            },
            opening,
            { payee: terms.payee, pricePerMB: terms.pricePerMB },
            session,
          ).then((opened) => {
            this.#notePayer(opened.downstream.view, route);
            this.#carried.set(opened.upstreamId, { carried: opened, receiver: session.receiver, terms });
            return opened;
          });
          if (upstreamId !== undefined) this.#admitting.set(upstreamId, admission);
          carried = await admission;
        } catch (error) {
          // The receiver's leg may be confirmed already (the leg to the sender failed): it closes with what both
          // signed, nothing, so the receiver takes its lock back after the window.
          if (upstreamId !== undefined && this.#records.get(keyOf("bandwidth", upstreamId))?.role === "payee") {
            void this.#closeLeg(upstreamId).catch((failure: unknown) => console.error(failure));
          }
          throw error;
        } finally {
          if (upstreamId !== undefined) this.#admitting.delete(upstreamId);
        }
        return this.#carriedSession(carried, carried.upstream);
      },
    };
  }

  /** One session of a carried route: the receiver's leg as its payments allow, and a session of the leg to the sender. */
  #carriedSession(carried: RouteProxy, upstream: PayeeGate): CarriedPayments {
    return {
      upstream,
      downstream: carried.downstream.gate(),
      paidUpstream: () => Number(carried.upstreamPayee.agreed(carried.upstreamId)?.usage.totalBytes ?? 0n),
      end: (complete: boolean) => this.#carriedEnded(carried, complete),
    };
  }

  /**
   * A route carried before for the same receiver, asked again after its link dropped: it goes on on the same legs
   * (nothing is sent on the chain). `undefined` for a route this tab does not carry now.
   */
  async #resumeCarried(
    opening: Payment,
    terms: PaymentTerms,
    session: { receiver: string; position: number; signal: AbortSignal },
  ): Promise<CarriedPayments | undefined> {
    const upstreamId = openedChannel(opening);
    const live = upstreamId === undefined ? undefined : this.#carried.get(upstreamId);
    if (!live) return undefined;
    if (live.receiver !== session.receiver) {
      throw new PaymentRefusedError(`route ${upstreamId} is carried for another peer`);
    }
    if (!isAddressEqual(live.terms.payee, terms.payee) || live.terms.pricePerMB !== terms.pricePerMB) {
      throw new PaymentRefusedError(`route ${upstreamId} was opened for another payee or price`);
    }
    clearTimeout(live.idle);
    live.idle = undefined;
    const { carried } = live;
    const upstream = await carried.upstreamPayee.admit(opening, {
      receiver: session.receiver,
      totalBytes: Number(carried.totalBytes),
      position: session.position,
      signal: session.signal,
    });
    return this.#carriedSession(carried, upstream);
  }

  /**
   * A session of a carried route is over. A transfer that ended settles both legs now; a dropped link waits
   * {@link ROUTE_RESUME_MS} for the receiver to resume before it does.
   */
  #carriedEnded(carried: RouteProxy, complete: boolean): void {
    const live = this.#carried.get(carried.upstreamId);
    if (!live) return;
    clearTimeout(live.idle);
    const end = () => {
      this.#carried.delete(carried.upstreamId);
      void this.#endCarried(carried).catch((error: unknown) => console.error(error));
    };
    if (complete) end();
    else live.idle = setTimeout(end, this.#parts.routeResumeMs ?? ROUTE_RESUME_MS);
  }

  /**
   * A carried transfer is over: both legs close with the last unit both signed (the sender may still answer the
   * close of its leg with a newer one). A leg the sender never confirmed is taken back after its deadline.
   */
  async #endCarried(carried: RouteProxy): Promise<void> {
    const upstreamId = carried.upstreamId;
    this.#note("bandwidth", upstreamId, "payee", {
      agreed: carried.upstreamPayee.agreed(upstreamId) ?? emptyUsage(upstreamId),
    });
    const downstreamId = carried.downstream.channelId;
    this.#note("bandwidth", downstreamId, "payer", {
      agreed: carried.downstream.agreed ?? emptyUsage(downstreamId),
    });
    await this.#closeLeg(upstreamId);
    await this.#closeLeg(downstreamId);
  }

  /** Closes route leg `channelId` with its last unit both signed, if it is still open on the chain. */
  async #closeLeg(channelId: bigint): Promise<void> {
    const { status } = await getChannel(this.#parts.reader, { channelId });
    if (status === ChannelStatus.Active) await this.#close(await this.#operator(), channelId);
    await this.refresh();
    this.start();
  }

  /**
   * Draws on the open lot this tab funded for the payee at this price if it has room for the whole transfer and
   * issues long enough yet, else funds a new one (and has the lots that could not serve drawn).
   */
  async #lotteryPayer(
    owner: TabulaClient<Account>,
    terms: PaymentTerms,
    totalBytes: bigint,
    onChange: (payment: PayerView) => void,
  ): Promise<SchemePayer> {
    const { reader } = this.#parts;
    const units = Number(unitsFor(totalBytes));
    const now = (await getBlock(reader)).timestamp;
    const open = [...this.#records.values()].filter(
      (r) =>
        r.scheme === "lottery" &&
        r.role === "payer" &&
        r.status === "Open" &&
        !r.drawAsked &&
        isAddressEqual(r.counterparty, terms.payee) &&
        r.pricePerMB === terms.pricePerMB,
    );
    const fits = open.find(
      (r) =>
        !this.#live.has(keyOf("lottery", r.channelId)) &&
        (r.lotSize ?? 0) - (r.issued ?? 0) >= units &&
        (r.closeBy ?? 0n) - now >= LOT_REUSE_SECONDS,
    );
    // Taken at once: another transfer accepted meanwhile does not draw on it too.
    if (fits) this.#live.add(keyOf("lottery", fits.channelId));
    let lot: HeldLot;
    let key: LocalAccount;
    try {
      ({ lot, key } = await this.#heldLot(owner, terms, totalBytes, fits, now));
    } catch (error) {
      if (fits) this.#live.delete(keyOf("lottery", fits.channelId));
      throw error;
    }
    // The lots that could not hold this transfer are drawn: what they did not issue comes back after the draw.
    for (const other of open) {
      if (other.channelId === lot.lotId || this.#live.has(keyOf("lottery", other.channelId))) continue;
      this.#note("lottery", other.channelId, "payer", { drawAsked: true });
    }
    const liveKey = keyOf("lottery", lot.lotId);
    this.#live.add(liveKey);
    const payer = new LotteryPayer({
      reader,
      key,
      terms,
      totalBytes,
      lot,
      onChange,
      onEnd: () => {
        this.#live.delete(liveKey);
        void this.refresh();
      },
    });
    this.#notePayer(payer.view);
    return payer;
  }

  /** The lot `fits` (derived again) or a new one funded for `terms`, and the key that signs its tickets. */
  async #heldLot(
    owner: TabulaClient<Account>,
    terms: PaymentTerms,
    totalBytes: bigint,
    fits: ChannelRecord | undefined,
    now: bigint,
  ): Promise<{ lot: HeldLot; key: LocalAccount }> {
    const { reader } = this.#parts;
    const lotTickets = this.lotTickets;
    // Nothing is signed or sent for a lot the owner cannot fund.
    if (!fits) await assertCanPay(reader, owner.account.address, terms, totalBytes, "lottery", lotTickets);
    const key = await this.#parts.operatorKey();
    await enableKeyRoles({ reader, owner, key }, OperatorRole.Payer, "paying for transfers");
    if (fits) {
      const lotSize = fits.lotSize ?? 0;
      const closeBy = fits.closeBy ?? 0n;
      const lottery = this.#contractAddress("lottery") as Address;
      const lotTerms = { chainId: reader.chain.id, lottery, payer: owner.account.address, closeBy };
      const lot = {
        lotId: fits.channelId,
        secret: await lotSecret(key, { ...lotTerms, lotSize, ticketValue: fits.pricePerMB }),
        lotSize,
        issued: fits.issued ?? 0,
        closeBy,
        openTx: fits.txs.find((t) => t.what === "open")?.hash ?? ZERO_HASH,
      };
      return { lot, key };
    }
    const lot = await LotteryPayer.fund({
      reader,
      owner,
      key,
      terms,
      lotSize: lotTicketsFor(totalBytes, lotTickets),
      now,
      permitSeconds: OPEN_PERMIT_SECONDS,
    });
    return { lot, key };
  }

  /** The scheme this tab pays `terms` in: the first the link takes that this chain has. */
  schemeFor(terms: Pick<PaymentTerms, "schemes">): TransferScheme | undefined {
    return this.schemes.find((scheme) => terms.schemes.includes(scheme));
  }

  /**
   * The payee ends what `payee` was paid by (or only `channelId`): bandwidth channels close with the last unit both
   * signed (the empty unit if none), hash chains are redeemed with the latest preimage.
   */
  async close(payee: TransferPayee, channelId?: bigint): Promise<void> {
    const operator = await this.#operator();
    const bandwidth = payee.schemes.bandwidth;
    for (const channel of bandwidth?.channels ?? []) {
      if (channelId !== undefined && channel.channelId !== channelId) continue;
      this.#note("bandwidth", channel.channelId, "payee", {
        agreed: bandwidth?.agreed(channel.channelId) ?? emptyUsage(channel.channelId),
      });
      await this.#close(operator, channel.channelId);
    }
    for (const channel of payee.schemes["hash-chain"]?.channels ?? []) {
      if (channelId !== undefined && channel.channelId !== channelId) continue;
      this.#noteHashChainPayee(channel);
      this.#live.delete(keyOf("hash-chain", channel.channelId));
      const record = this.#records.get(keyOf("hash-chain", channel.channelId));
      if (record) await this.#redeem(operator, record);
    }
    for (const channel of payee.schemes.merkle?.channels ?? []) {
      if (channelId !== undefined && channel.channelId !== channelId) continue;
      this.#noteMerklePayee(channel);
      this.#live.delete(keyOf("merkle", channel.channelId));
      const record = this.#records.get(keyOf("merkle", channel.channelId));
      if (record) await this.#redeem(operator, record);
    }
    await this.refresh();
    this.start();
  }

  /** Closes bandwidth channel `channelId` with the last unit both sides signed (either side may). */
  async closeChannel(channelId: bigint): Promise<void> {
    await this.#close(await this.#operator(), channelId);
    await this.refresh();
    this.start();
  }

  /** The payee redeems hash chain or Merkle channel `channelId` with the preimage or tokens it holds. */
  async redeem(channelId: bigint): Promise<void> {
    const record = this.#find(channelId);
    if (!record || record.scheme === "bandwidth") return;
    this.#live.delete(keyOf(record.scheme, channelId));
    await this.#redeem(await this.#operator(), record);
    await this.refresh();
  }

  /**
   * The payer takes back a deposit: of a bandwidth channel the payee did not confirm in time, or of a hash chain
   * that expired unredeemed.
   */
  async reclaim(channelId: bigint): Promise<void> {
    const record = this.#find(channelId);
    if (!record) return;
    await this.#reclaim(record);
    await this.refresh();
  }

  async #reclaim(record: ChannelRecord): Promise<void> {
    const { channelId, scheme } = record;
    try {
      const operator = await this.#operator();
      const hash =
        scheme === "bandwidth"
          ? await reclaimChannel(operator, { channelId })
          : scheme === "hash-chain"
            ? await reclaimHashChain(operator, { channelId: chainIdHex(channelId) })
            : await reclaimMerkle(operator, { channelId: chainIdHex(channelId) });
      await waitForSuccess(this.#parts.reader, { hash, what: `Taking back the deposit of ${describe(record)}` });
      this.#note(scheme, channelId, record.role, {
        ...(scheme === "hash-chain" ? { status: "Reclaimed" as const, amount: 0n } : {}),
        ...(scheme === "merkle" ? { status: "Reclaimed" as const } : {}),
        tx: { what: "reclaim", hash },
        error: undefined,
      });
    } catch (error) {
      this.#note(scheme, channelId, record.role, { error: userMessage(error) });
    }
  }

  async #close(operator: TabulaClient<LocalAccount>, channelId: bigint): Promise<void> {
    const record = this.#records.get(keyOf("bandwidth", channelId));
    if (!record || record.txs.some((t) => t.what === "close")) return;
    try {
      const hash = await closeChannel(operator, { agreed: record.agreed ?? emptyUsage(channelId) });
      await waitForSuccess(this.#parts.reader, { hash, what: `Closing payment channel ${channelId}` });
      this.#note("bandwidth", channelId, record.role, { tx: { what: "close", hash }, error: undefined });
    } catch (error) {
      this.#note("bandwidth", channelId, record.role, { error: userMessage(error) });
    }
    await this.#flush();
  }

  async #redeem(operator: TabulaClient<LocalAccount>, record: ChannelRecord): Promise<void> {
    if (record.scheme === "merkle") {
      await this.#redeemMerkle(operator, record);
      return;
    }
    const redemption = record.redemption;
    // Nothing was paid: the payer takes the deposit back after expiry.
    if (!redemption || record.txs.some((t) => t.what === "redeem")) return;
    try {
      const hash = await redeemHashChain(operator, {
        channelId: chainIdHex(record.channelId),
        preimage: redemption.preimage,
        depth: redemption.depth,
      });
      await waitForSuccess(this.#parts.reader, { hash, what: `Redeeming ${describe(record)}` });
      this.#note("hash-chain", record.channelId, record.role, {
        status: "Redeemed",
        amount: BigInt(redemption.depth) * record.pricePerMB,
        tx: { what: "redeem", hash },
        error: undefined,
      });
    } catch (error) {
      this.#note("hash-chain", record.channelId, record.role, { error: userMessage(error) });
    }
    await this.#flush();
  }

  async #redeemMerkle(operator: TabulaClient<LocalAccount>, record: ChannelRecord): Promise<void> {
    const tokens = record.tokens ?? [];
    // Nothing was paid: the payer takes what is left back after expiry.
    if (tokens.length === 0 || record.txs.some((t) => t.what === "redeem")) return;
    const channelId = chainIdHex(record.channelId);
    const { reader } = this.#parts;
    try {
      const payee = (await this.#owner("Redeeming Merkle tokens")).account.address;
      const batches = await merkleRedemptions(reader, { channelId, payee, value: record.pricePerMB, tokens });
      let amount = 0n;
      for (const redemption of batches) {
        const hash = await redeemMerkle(operator, { channelId, redemption });
        await waitForSuccess(reader, { hash, what: `Redeeming ${describe(record)}` });
        amount += redemption.total;
        this.#note("merkle", record.channelId, record.role, { amount, tx: { what: "redeem", hash } });
      }
      this.#note("merkle", record.channelId, record.role, { status: "Redeemed", amount, error: undefined });
    } catch (error) {
      this.#note("merkle", record.channelId, record.role, { error: userMessage(error) });
    }
    await this.#flush();
  }

  /**
   * Whether a share may take payments on channel `id` of `scheme`: not when another share of this tab took some,
   * nor when this tab was paid on it before (its tokens or units would pay twice for one deposit).
   */
  #claim(scheme: TransferScheme, id: bigint): boolean {
    const key = keyOf(scheme, id);
    if (this.#claimed.has(key) || this.#records.get(key)?.role === "payee") return false;
    this.#claimed.add(key);
    return true;
  }

  async #operator(): Promise<TabulaClient<LocalAccount>> {
    return createTabulaClient({ chain: this.#parts.reader.chain, account: await this.#parts.operatorKey() });
  }

  /**
   * Reads every channel's state: settles bandwidth channels whose challenge window has passed (challenging a close
   * made with an older unit first), redeems hash chains no transfer pays into any more, and takes back hash chains
   * that expired unredeemed.
   */
  refresh(): Promise<void> {
    // One look at a time; asked during one, the next starts when it ends and answers every caller that asked.
    this.#queued ??= (this.#running ?? Promise.resolve()).then(() => {
      this.#queued = undefined;
      this.#running = this.#refreshOnce().finally(() => {
        this.#running = undefined;
      });
      return this.#running;
    });
    return this.#queued;
  }

  async #refreshOnce(): Promise<void> {
    try {
      const { reader } = this.#parts;
      const now = (await getBlock(reader)).timestamp;
      for (const record of [...this.#records.values()]) {
        if (record.scheme === "lottery") {
          // A payee's share of a lot whose reveal was withheld is taken even after the payer finished it.
          const shareDue =
            record.role === "payee" &&
            record.txs.some((t) => t.what === "register") &&
            !record.txs.some((t) => t.what === "share");
          if (record.status !== "None" && (record.status !== "Finished" || shareDue)) {
            await this.#refreshLottery(record, now);
          }
          continue;
        }
        if (["Settled", "Reclaimed", "Redeemed", "None"].includes(record.status)) continue;
        if (record.scheme === "hash-chain") await this.#refreshHashChain(record, now);
        else if (record.scheme === "merkle") await this.#refreshMerkle(record, now);
        else await this.#refreshBandwidth(record, now);
      }
    } catch (error) {
      console.error(error);
    }
  }

  async #refreshBandwidth(record: ChannelRecord, now: bigint): Promise<void> {
    const info = await getChannel(this.#parts.reader, { channelId: record.channelId });
    const counterparty = record.role === "payer" ? info.payee : info.payer;
    if (info.status === ChannelStatus.None || !isAddressEqual(counterparty, record.counterparty)) {
      // A local chain started afresh: the channel this tab kept is not there any more.
      this.#note("bandwidth", record.channelId, record.role, {
        status: "None",
        error: "This channel is not on the chain.",
      });
      return;
    }
    this.#note("bandwidth", record.channelId, record.role, fromInfo(info));
    if (
      info.status === ChannelStatus.Closing ||
      (info.status === ChannelStatus.Settled && record.status !== "Settled")
    ) {
      // What either side sent while it closes (a close, a challenge, a one-sided claim, the settlement) shows too.
      for (const tx of await channelClosingTxs(this.#parts.reader, { channelId: record.channelId })) {
        this.#note("bandwidth", record.channelId, record.role, { tx });
      }
    }
    if (info.status !== ChannelStatus.Closing) return;
    const held = record.agreed;
    if (now <= info.deadline && held && held.usage.sequence > info.agreedSequence) {
      // Closed with an older unit than the one both signed last: the newer one replaces it.
      await this.#challenge(record, held);
    } else if (now > info.deadline) {
      await this.#settle(record);
    }
  }

  async #refreshHashChain(record: ChannelRecord, now: bigint): Promise<void> {
    const { reader } = this.#parts;
    const id = chainIdHex(record.channelId);
    const info = await getHashChainChannel(reader, { channelId: id });
    const counterparty = record.role === "payer" ? info.payee : info.payer;
    if (info.payer === ZERO_ADDRESS || !isAddressEqual(counterparty, record.counterparty)) {
      this.#note("hash-chain", record.channelId, record.role, {
        status: "None",
        error: "This hash chain is not on the chain.",
      });
      return;
    }
    if (info.closed) {
      const outcome = await hashChainOutcome(reader, { channelId: id });
      if (outcome?.how === "redeemed") {
        this.#note("hash-chain", record.channelId, record.role, {
          status: "Redeemed",
          amount: outcome.paid,
          tx: { what: "redeem", hash: outcome.hash },
          error: undefined,
        });
      } else if (outcome?.how === "reclaimed") {
        this.#note("hash-chain", record.channelId, record.role, {
          status: "Reclaimed",
          amount: 0n,
          tx: { what: "reclaim", hash: outcome.hash },
          error: undefined,
        });
      }
      return;
    }
    if (now >= info.expiresAt) {
      this.#note("hash-chain", record.channelId, record.role, { status: "Expired" });
      // Unredeemed and expired: the deposit goes back to the payer, with no click.
      if (record.role === "payer") await this.#reclaim(record);
      return;
    }
    this.#note("hash-chain", record.channelId, record.role, { status: "Open", expiresAt: info.expiresAt });
    // A chain no running transfer pays into (the tab was reloaded) is redeemed now, and one a stalled transfer
    // still holds is redeemed before it can expire.
    const live = this.#live.has(keyOf("hash-chain", record.channelId));
    if (record.role === "payee" && (!live || info.expiresAt - now < REDEEM_MARGIN_SECONDS)) {
      await this.#redeem(await this.#operator(), record);
    }
  }

  async #refreshMerkle(record: ChannelRecord, now: bigint): Promise<void> {
    const { reader } = this.#parts;
    const id = chainIdHex(record.channelId);
    const info = await getMerkleChannel(reader, { channelId: id });
    if (info.payer === ZERO_ADDRESS || (record.role === "payee" && !isAddressEqual(info.payer, record.counterparty))) {
      this.#note("merkle", record.channelId, record.role, {
        status: "None",
        error: "This Merkle channel is not on the chain.",
      });
      return;
    }
    const expired = now >= info.expiresAt;
    if (record.role === "payee") {
      this.#note("merkle", record.channelId, record.role, {
        status: expired ? "Expired" : "Open",
        expiresAt: info.expiresAt,
      });
      const live = this.#live.has(keyOf("merkle", record.channelId));
      // Tokens no running transfer adds to are redeemed now, and those of a stalled transfer before expiry.
      if (!expired && (!live || info.expiresAt - now < REDEEM_MARGIN_SECONDS)) {
        await this.#redeem(await this.#operator(), record);
      }
      return;
    }
    const outcome = await merkleOutcome(reader, { channelId: id });
    const paid = outcome.redeemed.reduce((sum, r) => sum + r.paid, 0n);
    const txs = outcome.redeemed.map((r) => ({ what: "redeem", hash: r.hash }));
    for (const tx of txs) this.#note("merkle", record.channelId, record.role, { tx });
    if (outcome.reclaimed) {
      this.#note("merkle", record.channelId, record.role, {
        status: "Reclaimed",
        amount: paid,
        tx: { what: "reclaim", hash: outcome.reclaimed.hash },
      });
    } else if (info.remaining === 0n) {
      this.#note("merkle", record.channelId, record.role, { status: "Redeemed", amount: paid, error: undefined });
    } else if (expired) {
      this.#note("merkle", record.channelId, record.role, { status: "Expired", amount: paid });
      // What no token was redeemed for goes back to the payer, with no click.
      await this.#reclaim(record);
    } else {
      this.#note("merkle", record.channelId, record.role, { status: "Open", expiresAt: info.expiresAt });
    }
  }

  /**
   * Follows a lottery lot to its end, with no click. The payer closes a lot that is full, asked to be drawn or
   * about to be closable by anyone (never while a transfer draws on it), reveals once the seed block is mined, and
   * takes back what nobody won after the last window. The payee closes a lot left open past its close-by time,
   * redeems a winning ticket, and registers its tickets for sharing when the reveal was withheld, then takes its
   * share.
   */
  async #refreshLottery(record: ChannelRecord, now: bigint, again = true): Promise<void> {
    const { reader } = this.#parts;
    const lotId = record.channelId;
    const lot = await getLot(reader, { lotId });
    if (lot.status === LotStatus.None || (record.role === "payee" && !isAddressEqual(lot.payer, record.counterparty))) {
      this.#note("lottery", lotId, record.role, { status: "None", error: "This lottery lot is not on the chain." });
      return;
    }
    const events = lot.status === LotStatus.Open ? undefined : await this.#lotEventsOf(lot, lotId);
    const outcome = events?.outcome;
    const deadlines = events?.deadlines;
    // The payer paid whatever left the lot to a holder; a payee earned what came to it.
    const ours = record.role === "payee" ? await this.#ownerAddress() : undefined;
    const counts = (payee: Address) => record.role === "payer" || (ours !== undefined && isAddressEqual(payee, ours));
    const won = outcome?.won && counts(outcome.won.payee) ? outcome.won.amount : 0n;
    const shared = (outcome?.shares ?? [])
      .filter((share) => counts(share.payee))
      .reduce((sum, share) => sum + share.amount, 0n);
    const stage: LotStage =
      lot.status === LotStatus.Open
        ? "Open"
        : lot.status === LotStatus.Closed
          ? deadlines && now > deadlines.reveal
            ? "Sharing"
            : "Drawing"
          : lot.status === LotStatus.Revealed
            ? "Drawn"
            : lot.status === LotStatus.Redeemed
              ? "Redeemed"
              : "Finished";
    this.#note("lottery", lotId, record.role, {
      status: stage,
      // What moved: the lot to its winner, or shares to the holders; nothing before the draw.
      amount: won + shared,
      ...(lot.revealed ? { winningIndex: lot.winningIndex } : {}),
      closeBy: BigInt(lot.closeBy),
    });
    for (const [what, tx] of [
      ["close", outcome?.closed],
      ["draw", outcome?.revealed],
      ["redeem", outcome?.won],
      ["finish", outcome?.finished],
      ...(outcome?.shares ?? []).map((share) => ["share", share] as const),
    ] as const) {
      if (tx) this.#note("lottery", lotId, record.role, { tx: { what, hash: tx.hash } });
    }
    const live = this.#live.has(keyOf("lottery", lotId));
    const act = async (what: string, send: (operator: TabulaClient<LocalAccount>) => Promise<Hash>) => {
      try {
        const hash = await send(await this.#operator());
        await waitForSuccess(reader, { hash, what: `${what} ${describe(record)}` });
        this.#note("lottery", lotId, record.role, { error: undefined });
        // What the step changed is read once more, and the next step taken if it is due.
        const next = this.#records.get(keyOf("lottery", lotId));
        if (again && next) await this.#refreshLottery(next, (await getBlock(reader)).timestamp, false);
        return true;
      } catch (error) {
        this.#note("lottery", lotId, record.role, { error: userMessage(error) });
        return false;
      }
    };
    if (lot.status === LotStatus.Open) {
      const full = (record.issued ?? 0) >= lot.lotSize;
      const closing = BigInt(lot.closeBy) - now < MIN_ISSUE_SECONDS;
      const payerCloses = record.role === "payer" && !live && (full || closing || record.drawAsked);
      // Past its close-by time anyone may close a lot; the payee does, so the draw can come.
      if (payerCloses || (record.role === "payee" && now > BigInt(lot.closeBy))) {
        await act("Closing", (operator) => closeLot(operator, { lotId }));
      }
      return;
    }
    if (!deadlines) return;
    if (record.role === "payer") {
      if (lot.status === LotStatus.Closed && now <= deadlines.reveal) {
        await this.#reveal(record, lot, act);
      } else if (lot.status !== LotStatus.Finished) {
        const last = lot.revealed ? deadlines.claim : deadlines.share;
        if (now > last) await act("Taking back what nobody won of", (operator) => finishLot(operator, { lotId }));
      }
      return;
    }
    const payee = await this.#ownerAddress();
    if (!payee) return;
    if (lot.status === LotStatus.Closed && !lot.revealed && now <= deadlines.reveal) {
      await this.#keepSeed(record, lot, act);
    }
    const book = this.#book(lotId, payee);
    if ((lot.status === LotStatus.Revealed || lot.status === LotStatus.Redeemed) && won === 0n) {
      const args = book.redemption(lot, lot.status === LotStatus.Redeemed);
      if (args && now <= deadlines.claim) await act("Redeeming the winning ticket of", (o) => redeemLot(o, { args }));
    } else if (!lot.revealed && now > deadlines.reveal && book.size > 0) {
      // The reveal was withheld: the tickets are registered for sharing in the sharing window (in batches that
      // fit a block), and the share is taken after it, even once the payer took back the rest.
      const registered = await lotRegisteredBy(reader, { lotId, payee });
      const withdrawn = record.txs.some((t) => t.what === "share");
      if (lot.status === LotStatus.Closed && now <= deadlines.share && registered < BigInt(book.size)) {
        const claims = book.registrations().slice(Number(registered));
        await act("Registering the tickets of", async (operator) => {
          let last: Hash = ZERO_HASH;
          for (let at = 0; at < claims.length; at += MAX_REGISTER_TICKETS) {
            const args = [lotId, payee, claims.slice(at, at + MAX_REGISTER_TICKETS)] as const;
            last = await registerLotTickets(operator, { args });
            await waitForSuccess(reader, { hash: last, what: `Registering the tickets of ${describe(record)}` });
            this.#note("lottery", lotId, record.role, { tx: { what: "register", hash: last } });
          }
          return last;
        });
      } else if (now > deadlines.share && registered > 0n && !withdrawn) {
        await act("Taking the share of", (operator) => withdrawLotShare(operator, { lotId, payee }));
      }
    }
  }

  /**
   * Lot `lotId`'s events and deadlines (`lot` is its state as just read). They are read again only when the lot
   * moved since the last read (it was closed, drawn, redeemed or finished, or a share was taken): a lot waiting out
   * its windows costs one call a look, not a query per event. A read whose events do not yet show what the state
   * says (a node whose logs lag its state) is not kept, so the next look reads again.
   */
  async #lotEventsOf(lot: LotState, lotId: bigint): Promise<Omit<LotEvents, "seen">> {
    const seen = lotMoves(lot);
    const kept = this.#lotEvents.get(lotId);
    if (kept?.seen === seen) return kept;
    const { reader } = this.#parts;
    const [outcome, deadlines] = await Promise.all([lotOutcome(reader, { lotId }), lotDeadlines(reader, { lotId })]);
    if (showsAll(outcome, lot)) this.#lotEvents.set(lotId, { seen, outcome, deadlines });
    return { outcome, deadlines };
  }

  /**
   * A holder keeps a closed lot's seed once half of the blocks that remember its hash have passed with no reveal:
   * the reveal window can outlast those blocks on a chain of fast blocks, and without the seed a payer back within
   * its window could not draw (its fine would be burned for a window it was promised). Once per lot, by whichever
   * holder comes first.
   */
  async #keepSeed(
    record: ChannelRecord,
    lot: LotState,
    act: (what: string, send: (operator: TabulaClient<LocalAccount>) => Promise<Hash>) => Promise<boolean>,
  ): Promise<void> {
    const { reader } = this.#parts;
    const lotId = record.channelId;
    if (record.txs.some((t) => t.what === "pin")) return;
    const since = (await getBlockNumber(reader)) - BigInt(lot.seedBlock);
    // Too early, or too late: the chain no longer knows the seed block's hash.
    if (since < SEED_PIN_AFTER_BLOCKS || since > BLOCKHASH_HISTORY_BLOCKS) return;
    const pinned = await lotSeedPin(reader, { lotId });
    if (pinned) return this.#note("lottery", lotId, record.role, { tx: { what: "pin", hash: pinned } });
    await act("Keeping the seed of", async (operator) => {
      const hash = await pinLotSeed(operator, { lotId });
      this.#note("lottery", lotId, record.role, { tx: { what: "pin", hash } });
      return hash;
    });
  }

  /** The payer reveals its lot's secret once the seed block is mined (on a local chain it mines one itself). */
  async #reveal(
    record: ChannelRecord,
    lot: LotState,
    act: (what: string, send: (operator: TabulaClient<LocalAccount>) => Promise<Hash>) => Promise<boolean>,
  ): Promise<void> {
    const { reader } = this.#parts;
    const owner = await this.#parts.owner();
    if (!owner || !isAddressEqual(owner.account.address, lot.payer)) return;
    let block = await getBlockNumber(reader);
    // Nothing else may mine the seed block, and one after it, on a quiet local chain.
    for (let tries = 0; block <= BigInt(lot.seedBlock) && reader.chain.local && tries < 2; tries++) {
      await reader.request({ method: "evm_mine" as never, params: [] as never }).catch(() => undefined);
      block = await getBlockNumber(reader);
    }
    if (block <= BigInt(lot.seedBlock)) return;
    const secret = await lotSecret(await this.#parts.operatorKey(), {
      chainId: reader.chain.id,
      lottery: this.#contractAddress("lottery") as Address,
      payer: lot.payer,
      lotSize: lot.lotSize,
      ticketValue: lot.ticketValue,
      closeBy: BigInt(lot.closeBy),
    });
    await act("Drawing", (operator) => revealLot(operator, { lotId: record.channelId, secret }));
  }

  /** The payer has lot `lotId` closed and drawn (once no transfer draws on it). */
  async draw(lotId: bigint): Promise<void> {
    const record = this.#records.get(keyOf("lottery", lotId));
    if (record?.role !== "payer") return;
    this.#note("lottery", lotId, "payer", { drawAsked: true });
    await this.refresh();
  }

  async #ownerAddress(): Promise<Address | undefined> {
    return (await this.#parts.owner())?.account.address;
  }

  /** Starts looking for channels to settle (until {@link stop}). */
  start(): void {
    this.#timer ??= setInterval(() => void this.refresh(), this.#parts.settleCheckMs ?? SETTLE_CHECK_MS);
  }

  /** Stops watching; resolves once every change is written. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    // Routes waiting for a resume stay as they are: their legs are on the Money page, to close by hand.
    for (const live of this.#carried.values()) clearTimeout(live.idle);
    await this.#flush();
  }

  async #challenge(record: ChannelRecord, agreed: AgreedUsage): Promise<void> {
    try {
      const hash = await challengeChannel(await this.#operator(), { agreed });
      await waitForSuccess(this.#parts.reader, {
        hash,
        what: `Answering channel ${record.channelId}'s close with the last unit both signed`,
      });
      this.#note("bandwidth", record.channelId, record.role, { tx: { what: "challenge", hash }, error: undefined });
    } catch (error) {
      this.#note("bandwidth", record.channelId, record.role, { error: userMessage(error) });
    }
  }

  async #settle(record: ChannelRecord): Promise<void> {
    try {
      const hash = await settleChannel(await this.#operator(), { channelId: record.channelId });
      await waitForSuccess(this.#parts.reader, { hash, what: `Settling payment channel ${record.channelId}` });
      const info = await getChannel(this.#parts.reader, { channelId: record.channelId });
      this.#note("bandwidth", record.channelId, record.role, {
        ...fromInfo(info),
        tx: { what: "settle", hash },
        error: undefined,
      });
    } catch (error) {
      // The other side may have settled first: the next read shows it.
      this.#note("bandwidth", record.channelId, record.role, { error: userMessage(error) });
    }
  }

  async #owner(action: string): Promise<TabulaClient<Account>> {
    const owner = await this.#parts.owner();
    if (!owner) throw new NoPaymentWalletError(action);
    return owner;
  }

  #find(channelId: bigint): ChannelRecord | undefined {
    return TRANSFER_SCHEMES.map((scheme) => this.#records.get(keyOf(scheme, channelId))).find(Boolean);
  }

  #noteBandwidthPayee(channel: PayeeChannel, route?: ChannelRecord["route"]): void {
    this.#note("bandwidth", channel.channelId, "payee", {
      counterparty: channel.payer,
      status: "Active",
      deposit: channel.deposit,
      pricePerMB: channel.pricePerMB,
      agreedBytes: channel.paidBytes,
      agreed: channel.agreed,
      amount: channel.earned,
      ...(channel.confirmTx ? { tx: { what: "confirm", hash: channel.confirmTx } } : {}),
      ...(route ? { route } : {}),
    });
  }

  #notePayer(payment: PayerView, route?: ChannelRecord["route"]): void {
    if (payment.scheme === "lottery") {
      const lot = payment as LotteryPayerChannel;
      this.#note("lottery", lot.channelId, "payer", {
        counterparty: lot.payee,
        deposit: lot.deposit,
        pricePerMB: lot.pricePerMB,
        lotSize: lot.lotSize,
        issued: lot.issued,
        closeBy: lot.closeBy,
        agreedBytes: BigInt(lot.issued) * UNIT_BYTES,
        expected: BigInt(lot.issued) * lot.pricePerMB,
        ...(lot.openTx !== ZERO_HASH ? { tx: { what: "open", hash: lot.openTx } } : {}),
      });
      return;
    }
    this.#note(payment.scheme as TransferScheme, payment.channelId, "payer", {
      counterparty: payment.payee,
      ...(payment.scheme !== "bandwidth" ? { status: "Open" as const } : {}),
      deposit: payment.deposit,
      pricePerMB: payment.pricePerMB,
      agreedBytes: payment.paidBytes,
      ...("agreed" in payment ? { agreed: payment.agreed as AgreedUsage } : {}),
      ...("expiresAt" in payment ? { expiresAt: payment.expiresAt as bigint } : {}),
      amount: payment.paid,
      tx: { what: "open", hash: payment.openTx },
      ...(route ? { route } : {}),
    });
  }

  #noteLotteryPayee(channel: LotteryPayeeChannel): void {
    const book = this.#books.get(channel.channelId);
    const held = book?.size ?? 0;
    this.#note("lottery", channel.channelId, "payee", {
      counterparty: channel.payer,
      deposit: channel.deposit,
      pricePerMB: channel.pricePerMB,
      lotSize: channel.lotSize,
      closeBy: channel.closeBy,
      issued: held,
      agreedBytes: BigInt(held) * UNIT_BYTES,
      expected: BigInt(held) * channel.pricePerMB,
      lotTickets: book?.registrations() ?? [],
    });
  }

  /** The payee's ticket book of lot `lotId`, with the tickets this tab kept of it. */
  #book(lotId: bigint, payee: Address): TicketBook {
    let book = this.#books.get(lotId);
    if (!book) {
      const lottery = this.#contractAddress("lottery") as Address;
      book = new TicketBook({
        contract: { chainId: this.#parts.reader.chain.id, address: lottery },
        lotId,
        payee,
        held: this.#records.get(keyOf("lottery", lotId))?.lotTickets ?? [],
      });
      this.#books.set(lotId, book);
    }
    return book;
  }

  #noteMerklePayee(channel: MerklePayeeChannel): void {
    this.#note("merkle", channel.channelId, "payee", {
      counterparty: channel.payer,
      deposit: channel.deposit,
      pricePerMB: channel.pricePerMB,
      agreedBytes: channel.paidBytes,
      amount: channel.earned,
      expiresAt: channel.expiresAt,
      tokens: channel.tokens,
    });
  }

  #noteHashChainPayee(channel: HashChainPayeeChannel): void {
    this.#note("hash-chain", channel.channelId, "payee", {
      counterparty: channel.payer,
      deposit: channel.deposit,
      pricePerMB: channel.pricePerMB,
      agreedBytes: channel.paidBytes,
      amount: channel.earned,
      expiresAt: channel.expiresAt,
      ...(channel.redemption ? { redemption: channel.redemption } : {}),
    });
  }

  #note(
    scheme: TransferScheme,
    channelId: bigint,
    role: ChannelRecord["role"],
    patch: Partial<Omit<ChannelRecord, "txs">> & { tx?: ChannelRecord["txs"][number] },
  ): void {
    const key = keyOf(scheme, channelId);
    const { tx, ...rest } = patch;
    const before: ChannelRecord = this.#records.get(key) ?? {
      scheme,
      channelId,
      role,
      counterparty: ZERO_ADDRESS,
      status: scheme === "bandwidth" ? "Opened" : "Open",
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
    if (tx || (patch.status && patch.status !== before.status) || patch.error !== before.error) this.#changed.now();
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
    for (const key of keys) {
      const record = this.#records.get(key);
      if (!record) continue;
      const stored = { key: `${this.#contractAddress(record.scheme)}:${record.channelId}`, ...record };
      await store.put(stored).catch((error) => console.error(error));
    }
  }

  #contractAddress(scheme: TransferScheme): string {
    return this.#parts.reader.chain.contracts[CONTRACT_OF[scheme]]?.address.toLowerCase() ?? "none";
  }
}

const ZERO_ADDRESS: Address = "0x0000000000000000000000000000000000000000";

/** The contract each scheme pays through. */
const CONTRACT_OF = {
  bandwidth: "BandwidthChannel",
  "hash-chain": "HashChainChannel",
  merkle: "MerkleChannel",
  lottery: "Lottery",
} as const;

const ZERO_HASH: Hash = "0x0000000000000000000000000000000000000000000000000000000000000000";

/** A closed lot's events as last read, its deadlines, and what {@link lotMoves} said of it then. */
interface LotEvents {
  seen: string;
  outcome: LotOutcome;
  deadlines: { reveal: bigint; claim: bigint; share: bigint };
}

/**
 * What of a lot's state its events follow: its status (closed, drawn, redeemed, finished) and the shares taken.
 * A closed lot's deadlines are fixed at its close.
 */
function lotMoves(lot: LotState): string {
  return `${lot.status}:${lot.withdrawn}:${lot.robbedWithdrawn}`;
}

/** Whether `outcome` shows every event `lot`'s state says happened. */
function showsAll(outcome: LotOutcome, lot: LotState): boolean {
  return (
    (lot.status === LotStatus.Open || outcome.closed !== undefined) &&
    lot.revealed === (outcome.revealed !== undefined) &&
    (lot.status !== LotStatus.Redeemed || outcome.won !== undefined) &&
    (lot.status !== LotStatus.Finished || outcome.finished !== undefined) &&
    (lot.withdrawn + lot.robbedWithdrawn === 0 || outcome.shares.length > 0)
  );
}

/** A lot's value: what its winner is paid. */
function lotValue(lot: Pick<LotState, "lotSize" | "ticketValue">): bigint {
  return BigInt(lot.lotSize) * lot.ticketValue;
}

function keyOf(scheme: TransferScheme, channelId: bigint): string {
  return `${scheme}:${channelId}`;
}

/** A hash chain's bytes32 id from its number. */
function chainIdHex(channelId: bigint): Hex {
  return numberToHex(channelId, { size: 32 });
}

function describe(record: ChannelRecord): string {
  if (record.scheme === "bandwidth") return `payment channel ${record.channelId}`;
  if (record.scheme === "lottery") return `lottery lot ${record.channelId}`;
  const kind = record.scheme === "hash-chain" ? "hash chain" : "Merkle channel";
  return `${kind} ${chainIdHex(record.channelId).slice(0, 10)}…`;
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
