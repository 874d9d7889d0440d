/**
 * The host's side of an on-chain audit (seed: the proof that pays): while the tab takes paid deals, it watches the
 * market for challenges of the deals it holds, fixes a challenge's seed once its block is mined if nobody did, and
 * answers each within its window with the challenged chunk and its Merkle proof, read from the shard it holds and
 * sent by the operator key. Each answer releases the host's pay up to that time and the challenge's bond. A tab
 * that was closed scans every deal it holds when it starts again, and answers what is still open.
 */
import type { AbortOptions } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { type Account, bytesToBigInt, type Hash, parseEventLogs } from "viem";
import { getBlock, getContractEvents } from "viem/actions";
import { deployedContract } from "../../chain/chain.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { answerAudit } from "../../chain/market/answer-audit.ts";
import { fixAuditSeeds } from "../../chain/market/fix-audit-seeds.ts";
import { type OpenAudit, openAudit } from "../../chain/market/open-audit.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { userMessage } from "../../lib/errors.ts";
import { sleep } from "../../lib/signals.ts";
import { type LeafProof, type PieceRootFn, proveHeldLeaf } from "../../p2p/protocols/audit/index.ts";
import type { HeldShard } from "../../p2p/protocols/common/held-shard.ts";

/** How often the market's new audit events are read. */
export const AUDIT_POLL_MS = 3_000;
/** Every held deal is looked at this often anyway, in case an event was missed. */
export const FULL_SCAN_MS = 60_000;

export interface AuditAnswererParts {
  reader: TabulaClient;
  /** Sends the answers (and seeds): the operator key the owner authorized for hosting, with ETH for gas. */
  operator: TabulaClient<Account>;
  /** The shards this host holds now. */
  held(): readonly HeldShard[];
  /** One piece of a held shard from this host's store, undefined when it is gone. */
  readPiece(cid: CID, options?: AbortOptions): Promise<Uint8Array | undefined>;
  pieceRoot?: PieceRootFn;
}

/** An audit this tab answered: the pay it released and the bond it received. */
export interface AnsweredAudit {
  dealId: bigint;
  leafIndex: bigint;
  tx: Hash;
  /** Pay proven by this answer (claimable from now on), in token base units. */
  earned: bigint;
  bond: bigint;
  atMs: number;
}

/** An audit this tab could not answer, and why. */
export interface AuditFailure {
  dealId: bigint;
  message: string;
  atMs: number;
}

/** Answers the audits of this host's paid deals. Emits `change` with each answer or failure. */
export class AuditAnswerer extends EventTarget {
  readonly #parts: AuditAnswererParts;
  readonly #stop = new AbortController();
  /** `dealId/seedBlock` of every audit answered or given up, so none is handled twice. */
  readonly #done = new Set<string>();
  #answers: AnsweredAudit[] = [];
  #failures: AuditFailure[] = [];
  #fromBlock: bigint | undefined;
  /** Piece roots of held shards stored without them, kept between answers. */
  readonly #roots = new Map<string, Uint8Array>();
  #running: Promise<void> | undefined;

  constructor(parts: AuditAnswererParts) {
    super();
    this.#parts = parts;
  }

  /** Answers so far, newest first. */
  get answers(): readonly AnsweredAudit[] {
    return this.#answers;
  }
  /** Audits it could not answer, newest first. */
  get failures(): readonly AuditFailure[] {
    return this.#failures;
  }

  /** Scans every held deal, then follows the market's audit events until {@link stop}. */
  start(): void {
    this.#running ??= this.#loop(this.#stop.signal).catch(() => undefined);
  }

  stop(): void {
    this.#stop.abort(new DOMException("The audit answerer stopped.", "AbortError"));
  }

  /** Looks at every held deal now and answers the open audits (what a tab does when it comes back). */
  async scan(signal?: AbortSignal): Promise<void> {
    const ids = this.#heldDeals();
    for (const dealId of ids.keys()) {
      signal?.throwIfAborted();
      await this.#handle(dealId, ids, signal);
    }
  }

  async #loop(signal: AbortSignal): Promise<void> {
    let lastScan = 0;
    while (!signal.aborted) {
      try {
        const latest = (await getBlock(this.#parts.reader)).number;
        if (Date.now() - lastScan >= FULL_SCAN_MS || this.#fromBlock === undefined) {
          lastScan = Date.now();
          await this.scan(signal);
        } else if (latest >= this.#fromBlock) {
          await this.#follow(this.#fromBlock, latest, signal);
        }
        this.#fromBlock = latest + 1n;
      } catch (error) {
        if (signal.aborted) return;
        console.warn("audit answerer:", error);
      }
      await sleep(AUDIT_POLL_MS, signal).catch(() => undefined);
    }
  }

  /** The deals named by audit events in blocks `from`..`to` that this host holds. */
  async #follow(from: bigint, to: bigint, signal: AbortSignal): Promise<void> {
    const { reader } = this.#parts;
    const market = deployedContract(reader.chain, "StorageMarket");
    const read = { address: market.address, abi: market.abi, fromBlock: from, toBlock: to, strict: true } as const;
    const [challenged, fixed] = await Promise.all([
      getContractEvents(reader, { ...read, eventName: "AuditChallenged" }),
      getContractEvents(reader, { ...read, eventName: "AuditSeedFixed" }),
    ]);
    const named = new Set([...challenged, ...fixed].map((e) => e.args.dealId));
    const ids = this.#heldDeals();
    for (const dealId of named) if (ids.has(dealId)) await this.#handle(dealId, ids, signal);
  }

  #heldDeals(): Map<bigint, HeldShard> {
    return new Map(
      this.#parts.held().flatMap((shard) => (shard.dealId ? [[bytesToBigInt(shard.dealId), shard] as const] : [])),
    );
  }

  async #handle(dealId: bigint, ids: Map<bigint, HeldShard>, signal?: AbortSignal): Promise<void> {
    const { reader, operator } = this.#parts;
    let audit = await openAudit(reader, dealId);
    if (!audit) return;
    const key = `${dealId}/${audit.seedBlock}`;
    if (this.#done.has(key)) return;
    if (audit.deadline === 0n) {
      // Nobody fixed the seed yet: the host does, once its block is mined, so that its window starts.
      const latest = await getBlock(reader);
      if (latest.number < audit.seedBlock) return;
      try {
        await waitForSuccess(reader, {
          hash: await fixAuditSeeds(operator, { dealIds: [dealId] }),
          what: "Fixing an audit's seed",
          ...(signal ? { signal } : {}),
        });
      } catch {
        // Fixed by the client meanwhile, or not fixable any more: the audit as it is now says which.
      }
      audit = await openAudit(reader, dealId);
      if (!audit || audit.deadline === 0n) return;
    }
    const now = (await getBlock(reader)).timestamp;
    const shard = ids.get(dealId) as HeldShard;
    if (now > audit.deadline) {
      this.#done.add(key);
      this.#fail(dealId, `the window to answer closed at ${new Date(Number(audit.deadline) * 1000).toISOString()}`);
      return;
    }
    try {
      const proof = await this.#prove(shard, audit, signal);
      if (!proof) {
        this.#done.add(key);
        this.#fail(dealId, "this host no longer has the challenged piece of the shard");
        return;
      }
      const tx = await answerAudit(operator, { dealId, chunk: proof.leaf, proof: proof.proof });
      this.#done.add(key);
      const receipt = await waitForSuccess(reader, {
        hash: tx,
        what: "Answering an audit",
        ...(signal ? { signal } : {}),
      });
      const market = deployedContract(reader.chain, "StorageMarket");
      const [event] = parseEventLogs({ abi: market.abi, logs: receipt.logs, eventName: "AuditAnswered", strict: true });
      this.#answers = [
        {
          dealId,
          leafIndex: audit.leafIndex,
          tx,
          earned: event?.args.earned ?? 0n,
          bond: event?.args.bondToHost ?? 0n,
          atMs: Date.now(),
        },
        ...this.#answers,
      ];
      this.dispatchEvent(new Event("change"));
    } catch (error) {
      if (signal?.aborted) throw error;
      this.#fail(dealId, userMessage(error));
    }
  }

  /** The challenged leaf and its proof from the held pieces. */
  async #prove(shard: HeldShard, audit: OpenAudit, signal?: AbortSignal): Promise<LeafProof | undefined> {
    return await proveHeldLeaf(
      shard,
      Number(audit.leafIndex),
      {
        readPiece: (cid, options) => this.#parts.readPiece(cid, options),
        ...(this.#parts.pieceRoot ? { pieceRoot: this.#parts.pieceRoot } : {}),
        rootCache: this.#roots,
      },
      signal ? { signal } : {},
    );
  }

  #fail(dealId: bigint, message: string): void {
    this.#failures = [{ dealId, message, atMs: Date.now() }, ...this.#failures];
    this.dispatchEvent(new Event("change"));
  }
}
