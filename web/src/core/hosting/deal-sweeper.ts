/**
 * The end of a paid deal on the host's side: once a deal's term is over and no audit holds it open, the host's key
 * completes it (the rest of the escrow paid to the owner, its collateral freed), and a shard held for pay is dropped
 * only once no deal for it runs any more: completed, ended early by its client, slashed, or a proposal whose time
 * to be accepted passed. Until then it stays, also through "remove all" ({@link DealSweeper.boundUntil}). Shards held
 * for free are not its business.
 */
import type { CID } from "multiformats/cid";
import { type Account, type Address, bytesToBigInt, bytesToHex, type Hash, parseEventLogs } from "viem";
import { getBlock } from "viem/actions";
import { deployedContract } from "../../chain/chain.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { completeDeal } from "../../chain/market/complete-deal.ts";
import { type DealInfo, DealStatus, dealInfo, dealStatusName } from "../../chain/market/deal-info.ts";
import { hostDeals } from "../../chain/market/host-deals.ts";
import { openAudit } from "../../chain/market/open-audit.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { userMessage } from "../../lib/errors.ts";
import { sleep } from "../../lib/signals.ts";
import { type HeldShard, shardKey } from "../../p2p/protocols/common/held-shard.ts";
import type { KeptShardRef, RemoveShardsResult } from "./keeper.ts";

/** How often the host's deals are looked at for ends. */
export const SWEEP_MS = 30_000;

export interface DealSweeperParts {
  reader: TabulaClient;
  /** Sends the completions: the operator key the owner authorized for hosting, with ETH for gas. */
  operator: TabulaClient<Account>;
  /** The host's owner address, which the deals name. */
  owner: Address;
  /** The shards this host holds now. */
  held(): readonly HeldShard[];
  /** Stops holding shards and frees what was written for them. */
  remove(shards: readonly KeptShardRef[]): Promise<RemoveShardsResult>;
}

/** A deal whose term was over, completed by this tab: what it paid the host. */
export interface CompletedDeal {
  dealId: bigint;
  tx: Hash;
  hostPayment: bigint;
  atMs: number;
}

/** A shard dropped because its deal no longer runs. */
export interface DroppedShard {
  manifest: CID;
  shardIndex: number;
  dealId: bigint;
  /** How the deal ended. */
  status: keyof typeof DealStatus;
  atMs: number;
}

/** Completes the host's finished deals and drops the shards no deal binds. Emits `change` with each. */
export class DealSweeper extends EventTarget {
  readonly #parts: DealSweeperParts;
  readonly #stop = new AbortController();
  #completed: CompletedDeal[] = [];
  #dropped: DroppedShard[] = [];
  /** Shard key → when its last running deal ends (Unix seconds), as of the last sweep. */
  #bound = new Map<string, bigint>();
  #error: string | undefined;
  #running: Promise<void> | undefined;

  constructor(parts: DealSweeperParts) {
    super();
    this.#parts = parts;
  }

  /** Deals completed by this tab, newest first. */
  get completed(): readonly CompletedDeal[] {
    return this.#completed;
  }
  /** Shards dropped at their deal's end, newest first. */
  get dropped(): readonly DroppedShard[] {
    return this.#dropped;
  }
  /** Why the last sweep failed, if it did. */
  get error(): string | undefined {
    return this.#error;
  }

  /**
   * When the shard's running deal ends (Unix seconds), or undefined when none binds it: a bound shard stays until
   * then, whatever else asks to remove it, since dropping it would forfeit the deal's collateral.
   */
  boundUntil(shard: Pick<HeldShard, "manifest" | "shardIndex">): bigint | undefined {
    return this.#bound.get(shardKey(shard.manifest, shard.shardIndex));
  }

  /** Sweeps now, then every {@link SWEEP_MS} until {@link stop}. */
  start(): void {
    this.#running ??= this.#loop(this.#stop.signal);
  }

  stop(): void {
    this.#stop.abort(new DOMException("The deal sweeper stopped.", "AbortError"));
  }

  async #loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      try {
        await this.sweep(signal);
      } catch (error) {
        if (signal.aborted) return;
        this.#error = `Ended deals could not be settled: ${userMessage(error)}`;
        this.dispatchEvent(new Event("change"));
      }
      await sleep(SWEEP_MS, signal).catch(() => undefined);
    }
  }

  /** Completes what is finished, then drops the shards no running deal binds. */
  async sweep(signal?: AbortSignal): Promise<void> {
    const { reader, owner } = this.#parts;
    const now = (await getBlock(reader)).timestamp;
    const accepted = await hostDeals(reader, { host: owner });
    const deals = new Map<bigint, DealInfo>(accepted.map((d) => [d.dealId, d]));
    for (const deal of accepted) {
      signal?.throwIfAborted();
      if (deal.status !== DealStatus.Active || now < deal.endsAt) continue;
      // An audit still open keeps the deal running: the host answers it first (its answerer does).
      if (await openAudit(reader, deal.dealId)) continue;
      deals.set(deal.dealId, { ...deal, status: await this.#complete(deal.dealId, signal) });
    }
    // A shard may be under more than one deal (renewed): any running deal for its root keeps it.
    const runningRoots = new Map<string, bigint>();
    for (const [, d] of deals) {
      if (d.status !== DealStatus.Active) continue;
      runningRoots.set(d.shardRoot, maxOf(runningRoots.get(d.shardRoot), d.endsAt));
    }
    const bound = new Map<string, bigint>();
    const drop: { shard: HeldShard; dealId: bigint; status: number }[] = [];
    for (const shard of this.#parts.held()) {
      if (!shard.dealId) continue;
      const dealId = bytesToBigInt(shard.dealId);
      let deal = deals.get(dealId);
      if (!deal) {
        deal = await dealInfo(reader, dealId);
        deals.set(dealId, deal);
      }
      const running = runningRoots.get(bytesToHex(shard.root));
      const pending = deal.status === DealStatus.Proposed && now <= deal.acceptBy;
      if (running !== undefined || pending) {
        bound.set(shardKey(shard.manifest, shard.shardIndex), running ?? deal.acceptBy);
      } else {
        drop.push({ shard, dealId, status: deal.status });
      }
    }
    this.#bound = bound;
    this.#error = undefined;
    signal?.throwIfAborted();
    if (drop.length > 0) {
      await this.#parts.remove(drop.map(({ shard }) => shard));
      const atMs = Date.now();
      this.#dropped = [
        ...drop.map(({ shard, dealId, status }) => ({
          manifest: shard.manifest,
          shardIndex: shard.shardIndex,
          dealId,
          status: dealStatusName(status),
          atMs,
        })),
        ...this.#dropped,
      ];
    }
    this.dispatchEvent(new Event("change"));
  }

  /** Completes one finished deal; returns its status after (Completed, or how someone else ended it meanwhile). */
  async #complete(dealId: bigint, signal?: AbortSignal): Promise<number> {
    const { reader, operator } = this.#parts;
    try {
      const tx = await completeDeal(operator, { dealId });
      const receipt = await waitForSuccess(reader, {
        hash: tx,
        what: "Completing a finished deal",
        ...(signal ? { signal } : {}),
      });
      const market = deployedContract(reader.chain, "StorageMarket");
      const [event] = parseEventLogs({ abi: market.abi, logs: receipt.logs, eventName: "DealCompleted", strict: true });
      this.#completed = [
        { dealId, tx, hostPayment: event?.args.hostPayment ?? 0n, atMs: Date.now() },
        ...this.#completed,
      ];
      this.dispatchEvent(new Event("change"));
      return DealStatus.Completed;
    } catch (error) {
      if (signal?.aborted) throw error;
      // Completed by someone else meanwhile (anyone may), or challenged just before its end: the chain says which.
      const status = (await dealInfo(reader, dealId)).status;
      if (status === DealStatus.Active && !(await openAudit(reader, dealId))) throw error;
      return status;
    }
  }
}

function maxOf(a: bigint | undefined, b: bigint): bigint {
  return a === undefined || b > a ? b : a;
}
