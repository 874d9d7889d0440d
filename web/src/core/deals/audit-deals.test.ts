import { type Account, type Address, bytesToHex, custom, type Hex, toFunctionSelector } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBlock, getTransactionCount } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployedContract } from "../../chain/chain.ts";
import { createTabulaClient, type TabulaClient } from "../../chain/client.ts";
import { acceptDealsSync } from "../../chain/market/accept-deals.ts";
import { addStake } from "../../chain/market/add-stake.ts";
import { answerAudit } from "../../chain/market/answer-audit.ts";
import { fixAuditSeeds } from "../../chain/market/fix-audit-seeds.ts";
import { openAudit } from "../../chain/market/open-audit.ts";
import { proposeDealsSync } from "../../chain/market/propose-deals.ts";
import { quote } from "../../chain/market/quote.ts";
import { signReceipt } from "../../chain/market/receipts.ts";
import type { DealTerms } from "../../chain/market/storage-receipt.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { startTestChain, TEST_MARKET_PARAMETERS, type TestChain } from "../../chain/testing/hardhat.ts";
import { stakeHost } from "../../chain/testing/stake-host.ts";
import { approve } from "../../chain/token/approve.ts";
import { balanceOf } from "../../chain/token/balance-of.ts";
import { leafHash, proofOf, rootOf } from "../../lib/merkle/tree.ts";
import { type AuditOutcome, auditDeals } from "./audit-deals.ts";
import { AuditBudgetExhaustedError } from "./errors.ts";

const CHUNKS = 16;
const DURATION = 30n * 24n * 3600n;
const P = TEST_MARKET_PARAMETERS;

const shardOf = (seed: number) =>
  Array.from({ length: CHUNKS }, (_, i) => new Uint8Array(256).fill((seed * 31 + i) % 256));
const leavesOf = (chunks: Uint8Array[]) => chunks.map((c, i) => leafHash(i, c));

describe("the owner's audit rounds: challenges on the audit budget, penalties for missed windows", () => {
  let chain: TestChain;
  const client = privateKeyToAccount(generatePrivateKey());
  const hosts = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())];
  const operators = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())];
  const shards = [shardOf(1), shardOf(2)];
  let owner: TabulaClient<Account>;
  let market: Address;
  let deals: { dealId: bigint; shard: number }[] = [];
  let collaterals: bigint[] = [];
  const balance = (address: Address) => balanceOf(chain.client(), { address });
  const mined = (hash: Hex) => waitForSuccess(chain.client(), { hash, what: "test step" });
  const mine = () => chain.client().request({ method: "evm_mine" as never, params: [] as never });
  const round = (parameters: Partial<Parameters<typeof auditDeals>[1]> = {}) =>
    auditDeals(
      { reader: chain.client(), sender: owner, owner: client.address },
      {
        deals,
        // The in-process chain mines on transactions only: the seed block comes with the next one.
        onTransaction: (what) => {
          if (what === "challenge") void mine();
        },
        ...parameters,
      },
    );
  const byDeal = (outcomes: AuditOutcome[], dealId: bigint) => outcomes.find((o) => o.dealId === dealId);

  /** One accepted deal with each host, for its shard. */
  async function acceptedDeals(): Promise<{ deals: { dealId: bigint; shard: number }[]; collaterals: bigint[] }> {
    const t = (await getBlock(chain.client())).timestamp;
    const terms: DealTerms[] = await Promise.all(
      hosts.map(async (host, i) => ({
        host: host.address,
        manifestCid: "0x01711220cc",
        shardIndex: i,
        shardSizeBytes: BigInt(CHUNKS * 256),
        shardRoot: bytesToHex(rootOf(leavesOf(shards[i] as Uint8Array[]))),
        durationSeconds: DURATION,
        price: await quote(chain.client(), {
          host: host.address,
          shardSizeBytes: BigInt(CHUNKS * 256),
          durationSeconds: DURATION,
        }),
        acceptBy: t + 3600n,
      })),
    );
    const proposed = await proposeDealsSync(owner, { terms, permitDeadline: t + 3600n });
    const receipts = await Promise.all(
      proposed.deals.map(async (d, i) => ({
        dealId: d.dealId,
        signature: await signReceipt(chain.client(operators[i]), {
          dealId: d.dealId,
          client: client.address,
          terms: d.terms,
        }),
      })),
    );
    const accepted = await acceptDealsSync(owner, { receipts });
    return {
      deals: proposed.deals.map((d, i) => ({ dealId: d.dealId, shard: i })),
      collaterals: accepted.deals.map((d) => d.collateral),
    };
  }

  beforeAll(async () => {
    chain = await startTestChain({ market: true });
    market = deployedContract(chain.chain, "StorageMarket").address;
    await chain.fund([client, ...hosts, ...operators].map((a) => a.address));
    for (const [i, host] of hosts.entries()) {
      await stakeHost(chain, { owner: host, operator: operators[i] as (typeof operators)[number] });
    }
    owner = chain.client(client) as TabulaClient<Account>;
    ({ deals, collaterals } = await acceptedDeals());
  });
  afterAll(() => chain.close());

  it("challenges nothing and sends nothing when the budget cannot pay the bonds", async () => {
    const nonce = await getTransactionCount(chain.client(), { address: client.address });
    const { outcomes, budget } = await round();
    expect(budget).toBeInstanceOf(AuditBudgetExhaustedError);
    expect(budget).toMatchObject({ needed: 2n * P.challengeBond, left: 0n });
    expect(outcomes.map((o) => o.kind)).toEqual(["skipped", "skipped"]);
    expect(await getTransactionCount(chain.client(), { address: client.address })).toBe(nonce);
  });

  it("challenges both deals in one transaction and fixes their seeds; a host that misses its window is penalized next round", async () => {
    await mined(await approve(owner, { spender: market, value: 3n * P.challengeBond }));
    const before = await balance(client.address);
    const first = await round();
    expect(first.outcomes.map((o) => o.kind)).toEqual(["challenged", "challenged"]);
    expect(new Set(first.outcomes.map((o) => (o as { tx?: Hex }).tx)).size).toBe(1);
    expect(await balance(client.address)).toBe(before - 2n * P.challengeBond);
    const [d0, d1] = deals.map((d) => d.dealId) as [bigint, bigint];
    const open0 = await openAudit(chain.client(), d0);
    const open1 = await openAudit(chain.client(), d1);
    expect(open0?.deadline).toBeGreaterThan(0n);
    expect(open1?.deadline).toBeGreaterThan(0n);

    // Host 0 answers; host 1 stays silent.
    const index = Number(open0?.leafIndex);
    const chunks = shards[0] as Uint8Array[];
    await mined(
      await answerAudit(chain.client(operators[0]), {
        dealId: d0,
        chunk: chunks[index] as Uint8Array,
        proof: proofOf(leavesOf(chunks), index),
      }),
    );
    // Within the window, a round leaves host 1's audit open and challenges host 0 again (one more bond).
    const during = await round();
    expect(byDeal(during.outcomes, d1)).toMatchObject({ kind: "open", deadline: open1?.deadline });
    expect(byDeal(during.outcomes, d0)).toMatchObject({ kind: "challenged", answered: 1 });

    await chain.advance((open1?.deadline as bigint) - (await getBlock(chain.client())).timestamp + 1n);
    const clientBefore = await balance(client.address);
    const after = await round();
    const missed = byDeal(after.outcomes, d1);
    expect(missed).toMatchObject({
      kind: "missed",
      collateral: collaterals[1],
      bondReturned: P.challengeBond,
      answered: 0,
    });
    const { refund, collateral, bondReturned } = missed as Extract<AuditOutcome, { kind: "missed" }>;
    expect(byDeal(after.outcomes, d0)).toMatchObject({ kind: "open", answered: 1 });
    expect(await balance(client.address)).toBe(clientBefore + refund + collateral + bondReturned);
    // The slashed deal is ended for later rounds.
    await chain.advance(Number(P.auditWindowSeconds) + 1);
    const later = await round();
    expect(byDeal(later.outcomes, d1)).toMatchObject({ kind: "ended", status: "Slashed" });
  });

  it("fixes the seeds even when each host fixes its own just before the owner's transaction", async () => {
    // Both hosts were slashed above (host 0 let the last round's audit lapse): they stake again to take deals.
    const deadline = (await getBlock(chain.client())).timestamp + 3600n;
    for (const host of hosts) {
      await mined(await addStake(chain.client(host), { amount: P.minStake, permitDeadline: deadline }));
    }
    const fresh = await acceptedDeals();
    await mined(await approve(owner, { spender: market, value: 2n * P.challengeBond }));
    // The owner's wallet, except that each time it simulates fixing seeds, one more host fixes its own first.
    const selector = toFunctionSelector("fixAuditSeeds(uint256[])");
    const racing = [...fresh.deals.entries()];
    const sender = createTabulaClient({
      chain: chain.chain,
      account: client,
      transport: custom(
        {
          request: async ({ method, params }) => {
            const call = (params as { data?: string }[] | undefined)?.[0];
            const next = method === "eth_call" && call?.data?.startsWith(selector) ? racing.shift() : undefined;
            if (next) {
              const [i, { dealId }] = next;
              await mined(await fixAuditSeeds(chain.client(operators[i]), { dealIds: [dealId] }));
            }
            return await chain.client().request({ method: method as never, params: params as never });
          },
        },
        // One call per attempt: a retried call would let the next host race within the same attempt.
        { retryCount: 0 },
      ),
    });
    const { outcomes } = await auditDeals(
      { reader: chain.client(), sender, owner: client.address },
      {
        deals: fresh.deals,
        onTransaction: (what) => {
          if (what === "challenge") void mine();
        },
      },
    );
    expect(outcomes.map((o) => o.kind)).toEqual(["challenged", "challenged"]);
    expect(racing).toEqual([]);
    for (const { dealId } of fresh.deals)
      expect((await openAudit(chain.client(), dealId))?.deadline).toBeGreaterThan(0n);
  });
});
