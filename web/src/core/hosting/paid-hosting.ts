/**
 * Hosting for pay: the owner's wallet stakes and registers the tab as a host in the StorageMarket, and authorizes
 * the tab's operator key (derived by the key vault, the same on every device of the wallet) to sign receipts σ,
 * answer audits and take payments without a prompt each time. Every token moves to or from the owner. Each step
 * is one wallet action whose transaction is kept in the activity list; a step already done on-chain is skipped, so
 * starting again after a closed tab finishes what was left.
 */
import type { Account, Address, Hash, Hex, LocalAccount } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { getBalance, getBlock } from "viem/actions";
import type { TabulaClient } from "../../chain/client.ts";
import { topUp } from "../../chain/eth/top-up.ts";
import { addStake } from "../../chain/market/add-stake.ts";
import { beginUnbonding } from "../../chain/market/begin-unbonding.ts";
import { claimEarnings } from "../../chain/market/claim-earnings.ts";
import { DealStatus } from "../../chain/market/deal-info.ts";
import { NothingToClaimError } from "../../chain/market/errors.ts";
import { type HostDeal, hostDeals } from "../../chain/market/host-deals.ts";
import { type HostStatus, hostStatus } from "../../chain/market/host-status.ts";
import { registerHost } from "../../chain/market/register-host.ts";
import { withdrawStake } from "../../chain/market/withdraw-stake.ts";
import { authorizeOperator } from "../../chain/operators/authorize-operator.ts";
import { operatorRoles } from "../../chain/operators/operator-roles.ts";
import { OperatorRole } from "../../chain/operators/roles.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { formatAmount } from "../../lib/amounts.ts";
import { fromHex, toHex } from "../../lib/bytes.ts";
import { deriveVault, VAULT_TYPED_DATA, type Vault } from "../../lib/crypto/key-vault.ts";
import { userMessage } from "../../lib/errors.ts";

/** What the tab's operator key may do for a host: sign σ and answer audits, and be paid per byte as a payee. */
export const HOST_OPERATOR_ROLES = OperatorRole.Host | OperatorRole.Payee;
/** How long an operator authorization lasts before the owner renews it. */
export const OPERATOR_VALIDITY_SECONDS = 365n * 24n * 3600n;
/** How long a stake permit stays valid: it is submitted at once. */
export const PERMIT_VALIDITY_SECONDS = 3600n;
/** The owner gives the tab's key this much ETH for its transactions (audit answers) when it has less than half. */
export const OPERATOR_GAS_WEI = 20_000_000_000_000_000n;

/** What the host's deals earned, in token base units. */
export interface HostEarnings {
  /** Deals running now. */
  active: number;
  /** Pay proven by answered audits, over every deal. */
  earned: bigint;
  /** Proven and not yet claimed, on running deals: what "claim all" pays. */
  claimable: bigint;
  claimed: bigint;
  /** The running deals with something to claim. */
  claimableDeals: bigint[];
}

export interface PaidHostingActivity {
  at: number;
  text: string;
  /** The transaction, for what sent one (a dropped shard sends none). */
  tx?: Hash;
  /** What it was, beyond a step of the owner's: an audit answered, a finished deal completed, a shard dropped. */
  kind?: "audit" | "audit-failed" | "completed" | "dropped";
  /** The deal it was for. */
  dealId?: bigint;
}

export interface PaidHostingSnapshot {
  /** The wallet that stakes and is paid. */
  owner?: Address;
  /** The tab's operator key, once the vault was unlocked. */
  operator?: Address;
  /** Roles the owner granted the operator key now (0: none, revoked or expired). */
  operatorRoles: number;
  /** The host's record on-chain, once read. */
  status?: HostStatus;
  /** What its deals earned, once read. */
  earnings?: HostEarnings;
  /** ETH the tab's key holds for its transactions. */
  operatorEth?: bigint;
  /** The key has less than half of what the owner gives it: audits may go unanswered. */
  operatorLowOnGas?: boolean;
  busy: boolean;
  /** What is under way, for the user. */
  step?: string;
  error?: string;
  /** Why completing ended deals or dropping their shards failed last time. */
  sweepError?: string;
  /** Transactions sent from this tab, newest first. */
  activity: PaidHostingActivity[];
}

export interface PaidHostingParts {
  /** Reads the chain. */
  reader: TabulaClient;
  /** The connected wallet's client (sends and signs as the owner); undefined when no wallet is connected. */
  owner: () => Promise<TabulaClient<Account> | undefined>;
  /** Signs the key vault's unlock message with the owner's wallet. */
  signTypedData: (typedData: typeof VAULT_TYPED_DATA) => Promise<Hex>;
  /** The bytes of this tab's libp2p peer id, which clients dial. */
  peerId: Uint8Array;
  now?: () => number;
}

export interface StartPaidHostingParameters {
  capacityBytes: bigint;
  /** Token base units per GiB per month of 30 days. */
  pricePerGiBMonth: bigint;
  /** Token base units to stake (at least the market's minimum). */
  stake: bigint;
  /** Take deals from any client (default), or only from clients the host authorizes. */
  openRegistration?: boolean;
}

/** Paid hosting as the Share storage page drives it. Emits `change` whenever {@link PaidHosting.snapshot} does. */
export class PaidHosting extends EventTarget {
  readonly #parts: PaidHostingParts;
  readonly #now: () => number;
  #vault: Vault | undefined;
  #snapshot: PaidHostingSnapshot = { operatorRoles: 0, busy: false, activity: [] };

  constructor(parts: PaidHostingParts) {
    super();
    this.#parts = parts;
    this.#now = parts.now ?? Date.now;
  }

  get snapshot(): PaidHostingSnapshot {
    return this.#snapshot;
  }

  /** The operator key that signs for this host (unlocks the vault once). */
  async operatorAccount(): Promise<LocalAccount> {
    this.#vault ??= await deriveVault(fromHex(await this.#parts.signTypedData(VAULT_TYPED_DATA)));
    const account = privateKeyToAccount(await this.#vault.operatorKey(this.#parts.reader.chain.id));
    if (account.address !== this.#snapshot.operator) this.#update({ operator: account.address });
    return account;
  }

  /** Re-reads the host's record and its operator key's roles for `owner` (the connected wallet by default). */
  async refresh(owner?: Address): Promise<void> {
    const address = owner ?? this.#snapshot.owner ?? (await this.#parts.owner())?.account.address;
    if (!address) return;
    const { reader } = this.#parts;
    const status = await hostStatus(reader, address);
    const operator = this.#snapshot.operator;
    const now = (await getBlock(reader)).timestamp;
    const roles = operator ? (await operatorRoles(reader, { owner: address, operator, now })).roles : 0;
    const earnings = status.registered ? earningsOf(await hostDeals(reader, { host: address })) : undefined;
    const operatorEth = operator ? await getBalance(reader, { address: operator }) : undefined;
    const operatorLowOnGas = operatorEth === undefined ? undefined : operatorEth < OPERATOR_GAS_WEI / 2n;
    this.#update({ owner: address, status, operatorRoles: roles, earnings, operatorEth, operatorLowOnGas });
  }

  /**
   * {@link refresh}, for callers outside an action (a connected wallet, a reloaded tab): a registered host also
   * unlocks its operator key, which it needs to sign σ. A failure becomes the snapshot's error.
   */
  async sync(): Promise<void> {
    try {
      await this.refresh();
      if (this.#snapshot.status?.registered && !this.#snapshot.operator) {
        await this.operatorAccount();
        await this.refresh();
      }
    } catch (error) {
      this.#update({ error: `The host's record could not be read: ${userMessage(error)}` });
    }
  }

  /**
   * Stakes and registers (one permit signature and one transaction), then authorizes this tab's operator key (one
   * transaction); skips what the chain already has.
   */
  async start(parameters: StartPaidHostingParameters): Promise<void> {
    await this.#run(async (owner) => {
      const operator = await this.operatorAccount();
      await this.refresh(owner.account.address);
      if (!this.#snapshot.status?.registered) {
        this.#update({ step: `Staking ${formatAmount(parameters.stake)} TAB and registering as a host` });
        await this.#send(owner, `Staked ${formatAmount(parameters.stake)} TAB and registered as a host`, async () =>
          registerHost(owner, {
            peerId: `0x${toHex(this.#parts.peerId)}`,
            capacityBytes: parameters.capacityBytes,
            pricePerGiBMonth: parameters.pricePerGiBMonth,
            openRegistration: parameters.openRegistration ?? true,
            stake: parameters.stake,
            permitDeadline: await this.#chainNow(PERMIT_VALIDITY_SECONDS),
          }),
        );
      }
      if ((this.#snapshot.operatorRoles & HOST_OPERATOR_ROLES) !== HOST_OPERATOR_ROLES) {
        this.#update({ step: "Authorizing this tab's key to sign receipts and answer audits" });
        await this.#send(owner, `Authorized this tab's key ${operator.address}`, async () =>
          authorizeOperator(owner, {
            operator: operator.address,
            // The same key may already send the owner's audit rounds as a client: that role is kept.
            roles: this.#snapshot.operatorRoles | HOST_OPERATOR_ROLES,
            expiresAt: await this.#chainNow(OPERATOR_VALIDITY_SECONDS),
          }),
        );
      }
      await this.#fuelOperator(owner, operator.address);
    });
  }

  /** Gives the tab's key ETH for its transactions when it runs low (one transfer from the owner). */
  async fuelOperator(): Promise<void> {
    await this.#run(async (owner) => {
      await this.#fuelOperator(owner, (await this.operatorAccount()).address, true);
    });
  }

  async #fuelOperator(owner: TabulaClient<Account>, operator: Address, always = false): Promise<void> {
    const has = await getBalance(this.#parts.reader, { address: operator });
    if (!always && has >= OPERATOR_GAS_WEI / 2n) return;
    this.#update({ step: "Giving this tab's key ETH to answer audits" });
    await this.#send(owner, `Gave this tab's key ${formatAmount(OPERATOR_GAS_WEI)} ETH for its transactions`, () =>
      topUp(owner, { from: owner.account, to: operator, value: OPERATOR_GAS_WEI }),
    );
  }

  /** Claims every proven, unclaimed earning of the host's running deals in one transaction. */
  async claimAll(): Promise<void> {
    await this.#run(async (owner) => {
      await this.refresh(owner.account.address);
      const earnings = this.#snapshot.earnings;
      if (!earnings || earnings.claimableDeals.length === 0) throw new NothingToClaimError();
      this.#update({ step: `Claiming ${formatAmount(earnings.claimable)} TAB` });
      await this.#send(
        owner,
        `Claimed ${formatAmount(earnings.claimable)} TAB earned by ${earnings.claimableDeals.length} deal${earnings.claimableDeals.length === 1 ? "" : "s"} (less the protocol fee)`,
        () => claimEarnings(owner, { dealIds: earnings.claimableDeals }),
      );
    });
  }

  /** Shows an audit this tab's key answered in the activity list, and reads the earnings again. */
  recordAnswer(answer: { dealId: bigint; leafIndex: bigint; tx: Hash; earned: bigint; bond: bigint }): void {
    const text = `Answered the audit of deal ${answer.dealId} (leaf ${answer.leafIndex}): ${formatAmount(answer.earned)} TAB proven, ${formatAmount(answer.bond)} TAB bond received`;
    this.#update({
      activity: [
        { at: this.#now(), text, tx: answer.tx, kind: "audit", dealId: answer.dealId },
        ...this.#snapshot.activity,
      ],
    });
    void this.refresh().catch(() => undefined);
  }

  /** Shows an audit this tab could not answer, and why (its deal's collateral is at stake). */
  recordAuditFailure(failure: { dealId: bigint; message: string }): void {
    const text = `Could not answer the audit of deal ${failure.dealId}: ${failure.message}`;
    this.#update({
      activity: [{ at: this.#now(), text, kind: "audit-failed", dealId: failure.dealId }, ...this.#snapshot.activity],
    });
  }

  /** Shows a finished deal this tab's key completed (the rest of its pay) in the activity list. */
  recordCompletion(completed: { dealId: bigint; tx: Hash; hostPayment: bigint }): void {
    const text = `Completed deal ${completed.dealId} at its end: ${formatAmount(completed.hostPayment)} TAB paid (less the protocol fee), its collateral freed`;
    this.#update({
      activity: [
        { at: this.#now(), text, tx: completed.tx, kind: "completed", dealId: completed.dealId },
        ...this.#snapshot.activity,
      ],
    });
    void this.refresh().catch(() => undefined);
  }

  /** Shows a shard dropped because its deal no longer runs. */
  recordDrop(dropped: { dealId: bigint; shardIndex: number; status: string }): void {
    const text = `Dropped shard ${dropped.shardIndex} of deal ${dropped.dealId}: the deal is ${dropped.status.toLowerCase()}`;
    this.#update({
      activity: [{ at: this.#now(), text, kind: "dropped", dealId: dropped.dealId }, ...this.#snapshot.activity],
    });
  }

  /** Shows why settling ended deals failed (cleared by the next success). */
  recordSweepError(error: string | undefined): void {
    if (error !== this.#snapshot.sweepError) this.#update({ sweepError: error });
  }

  /** Adds `amount` to the stake with one permit signature. */
  async addStake(amount: bigint): Promise<void> {
    await this.#run(async (owner) => {
      this.#update({ step: `Adding ${formatAmount(amount)} TAB of stake` });
      await this.#send(owner, `Added ${formatAmount(amount)} TAB of stake`, async () =>
        addStake(owner, { amount, permitDeadline: await this.#chainNow(PERMIT_VALIDITY_SECONDS) }),
      );
    });
  }

  /** Starts unbonding `amount` of free stake; it can be withdrawn after the market's delay. */
  async unbond(amount: bigint): Promise<void> {
    await this.#run(async (owner) => {
      this.#update({ step: `Unbonding ${formatAmount(amount)} TAB` });
      await this.#send(owner, `Began unbonding ${formatAmount(amount)} TAB`, () => beginUnbonding(owner, { amount }));
    });
  }

  /** Withdraws unbonded stake to the owner's wallet. */
  async withdraw(): Promise<void> {
    await this.#run(async (owner) => {
      const amount = this.#snapshot.status?.unbonding ?? 0n;
      this.#update({ step: "Withdrawing unbonded stake" });
      await this.#send(owner, `Withdrew ${formatAmount(amount)} TAB of stake`, () => withdrawStake(owner));
    });
  }

  async #chainNow(plusSeconds: bigint): Promise<bigint> {
    return (await getBlock(this.#parts.reader)).timestamp + plusSeconds;
  }

  async #send(owner: TabulaClient<Account>, text: string, send: () => Promise<Hash>): Promise<void> {
    const tx = await send();
    await waitForSuccess(this.#parts.reader, { hash: tx, what: text });
    this.#update({ activity: [{ at: this.#now(), text, tx }, ...this.#snapshot.activity] });
    await this.refresh(owner.account.address);
  }

  async #run(action: (owner: TabulaClient<Account>) => Promise<void>): Promise<void> {
    if (this.#snapshot.busy) return;
    this.#update({ busy: true, error: undefined });
    try {
      const owner = await this.#parts.owner();
      if (!owner) throw new Error("Connect a wallet first: it stakes, and it is paid.");
      await action(owner);
    } catch (error) {
      this.#update({ error: userMessage(error) });
    } finally {
      this.#update({ busy: false, step: undefined });
    }
  }

  #update(patch: Partial<PaidHostingSnapshot>): void {
    const next = { ...this.#snapshot, ...patch };
    for (const key of Object.keys(next) as (keyof PaidHostingSnapshot)[]) if (next[key] === undefined) delete next[key];
    this.#snapshot = next;
    this.dispatchEvent(new Event("change"));
  }
}

/** Sums a host's deals into what its page shows. */
export function earningsOf(deals: readonly HostDeal[]): HostEarnings {
  const active = deals.filter((d) => d.status === DealStatus.Active);
  const claimable = active.filter((d) => d.earned > d.claimed);
  return {
    active: active.length,
    earned: deals.reduce((sum, d) => sum + d.earned, 0n),
    claimable: claimable.reduce((sum, d) => sum + d.earned - d.claimed, 0n),
    claimed: deals.reduce((sum, d) => sum + d.claimed, 0n),
    claimableDeals: claimable.map((d) => d.dealId),
  };
}
