import { type Address, bytesToHex, type Hash, type Hex, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBlock, readContract, writeContract } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leafHash, proofOf, rootOf } from "../../lib/merkle/tree.ts";
import { deployedContract } from "../chain.ts";
import { authorizeOperator } from "../operators/authorize-operator.ts";
import { operatorRoles } from "../operators/operator-roles.ts";
import { OperatorRole } from "../operators/roles.ts";
import { waitForSuccess } from "../receipt.ts";
import { startTestChain, TEST_MARKET_PARAMETERS, TEST_TREASURY, type TestChain } from "../testing/hardhat.ts";
import { balanceOf } from "../token/balance-of.ts";
import { acceptDealsSync } from "./accept-deals.ts";
import { answerAudit } from "./answer-audit.ts";
import { beginUnbonding } from "./begin-unbonding.ts";
import { cancelProposals } from "./cancel-proposals.ts";
import { challengeDeals } from "./challenge-deals.ts";
import { claimEarnings } from "./claim-earnings.ts";
import { endDeals } from "./end-deals.ts";
import {
  AuditWindowClosedError,
  InsufficientStakeError,
  InvalidAuditProofError,
  NotDealClientError,
  NothingToClaimError,
  NotOperatorError,
  UnbondingNotReadyError,
} from "./errors.ts";
import { finalizeMissedAudit } from "./finalize-missed-audit.ts";
import { fixAuditSeeds } from "./fix-audit-seeds.ts";
import { hostStatus } from "./host-status.ts";
import { openAudit } from "./open-audit.ts";
import { proposeDealsSync } from "./propose-deals.ts";
import { signReceipt } from "./receipts.ts";
import { registerHost } from "./register-host.ts";
import type { DealTerms } from "./storage-receipt.ts";
import { withdrawStake } from "./withdraw-stake.ts";

const CHUNKS = 16;
const DURATION = 30n * 24n * 3600n;
const PRICE = parseEther("2");
const BPS = 10_000n;
const P = TEST_MARKET_PARAMETERS;

/** A shard of 16 chunks of 256 bytes, each chunk a different fill. */
function shard(seed: number): Uint8Array[] {
  return Array.from({ length: CHUNKS }, (_, i) => new Uint8Array(256).fill((seed * 31 + i) % 256));
}
const leavesOf = (chunks: Uint8Array[]) => chunks.map((c, i) => leafHash(i, c));

describe("a paid file's life on the chain, action by action, every token accounted for", () => {
  let chain: TestChain;
  const client = privateKeyToAccount(generatePrivateKey());
  const clientOperator = privateKeyToAccount(generatePrivateKey());
  const hosts = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())];
  const hostOperators = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())];
  const shards = [shard(1), shard(2)];
  const manifestCid: Hex = "0x01711220bb";
  let market: Address;

  const mined = (hash: Hash) => waitForSuccess(chain.client(), { hash, what: "test step" });
  const balance = (address: Address) => balanceOf(chain.client(), { address });
  const now = async () => (await getBlock(chain.client())).timestamp;
  const timeOf = async (hash: Hash) =>
    (await getBlock(chain.client(), { blockNumber: (await mined(hash)).blockNumber })).timestamp;
  async function balances(): Promise<Record<string, bigint>> {
    const who = { client: client.address, h0: hosts[0]?.address, h1: hosts[1]?.address, market, TEST_TREASURY };
    const entries = await Promise.all(Object.entries(who).map(async ([k, a]) => [k, await balance(a as Address)]));
    return Object.fromEntries(entries);
  }

  beforeAll(async () => {
    chain = await startTestChain({ market: true });
    market = deployedContract(chain.chain, "StorageMarket").address;
    await chain.fund([
      client.address,
      clientOperator.address,
      ...hosts.map((a) => a.address),
      ...hostOperators.map((a) => a.address),
    ]);
  });
  afterAll(() => chain.close());

  it("a host stakes with one permit and authorizes its tab's key; too little stake is a named error", async () => {
    const deadline = (await now()) + 3600n;
    const tooLittle = registerHost(chain.client(hosts[0]), {
      peerId: "0x0024",
      capacityBytes: 1n << 30n,
      pricePerGiBMonth: PRICE,
      openRegistration: true,
      stake: P.minStake - 1n,
      permitDeadline: deadline,
    });
    await expect(tooLittle).rejects.toBeInstanceOf(InsufficientStakeError);
    await expect(tooLittle).rejects.toMatchObject({ stake: P.minStake - 1n, minStake: P.minStake });

    for (const [i, host] of hosts.entries()) {
      const before = await balance(host.address);
      await mined(
        await registerHost(chain.client(host), {
          peerId: "0x0024",
          capacityBytes: 1n << 30n,
          pricePerGiBMonth: PRICE,
          openRegistration: true,
          stake: 2n * P.minStake,
          permitDeadline: deadline,
        }),
      );
      const operator = (hostOperators[i] as typeof host).address;
      await mined(
        await authorizeOperator(chain.client(host), {
          operator,
          roles: OperatorRole.Host,
          expiresAt: deadline + 365n * 86400n,
        }),
      );
      expect(await balance(host.address)).toBe(before - 2n * P.minStake);
      const status = await hostStatus(chain.client(), host.address);
      expect(status).toMatchObject({ registered: true, stake: 2n * P.minStake, lockedCollateral: 0n, activeDeals: 0n });
      expect(await operatorRoles(chain.client(), { owner: host.address, operator, now: await now() })).toMatchObject({
        roles: OperatorRole.Host,
      });
    }
    await mined(
      await authorizeOperator(chain.client(client), {
        operator: clientOperator.address,
        roles: OperatorRole.Client,
        expiresAt: deadline + 365n * 86400n,
      }),
    );
  });

  let dealIds: bigint[] = [];
  let prices: bigint[] = [];
  let started: bigint[] = [];
  let collaterals: bigint[] = [];

  const allowance = async (owner: Address) => {
    const token = deployedContract(chain.chain, "Token");
    return await readContract(chain.client(), {
      address: token.address,
      abi: token.abi,
      functionName: "allowance",
      args: [owner, market],
    });
  };

  it("the file's deals: proposed with one permit that also sets the audit budget, σ by the hosts' keys, accepted in one call", async () => {
    const t = await now();
    const terms: DealTerms[] = await Promise.all(
      hosts.map(async (host, i) => ({
        host: host.address,
        manifestCid,
        shardIndex: i,
        shardSizeBytes: BigInt(CHUNKS * 256),
        shardRoot: bytesToHex(rootOf(leavesOf(shards[i] as Uint8Array[]))),
        durationSeconds: DURATION,
        price: await readContract(chain.client(), {
          address: market,
          abi: deployedContract(chain.chain, "StorageMarket").abi,
          functionName: "quote",
          args: [host.address, BigInt(CHUNKS * 256), DURATION],
        }),
        acceptBy: t + 3600n,
      })),
    );
    prices = terms.map((x) => x.price);
    const before = await balances();
    // A standing allowance is replaced by the permit: escrow plus budget, of which the budget is left.
    const token = deployedContract(chain.chain, "Token");
    await mined(
      await writeContract(chain.client(client), {
        address: token.address,
        abi: token.abi,
        functionName: "approve",
        args: [market, parseEther("1")],
        chain: null,
        account: client,
      }),
    );
    const { deals } = await proposeDealsSync(chain.client(client), {
      terms,
      permitDeadline: t + 3600n,
      auditBudget: 2n * P.challengeBond,
    });
    expect(await allowance(client.address)).toBe(2n * P.challengeBond);
    dealIds = deals.map((d) => d.dealId);
    const receipts = await Promise.all(
      deals.map(async (d, i) => ({
        dealId: d.dealId,
        signature: await signReceipt(chain.client(hostOperators[i]), {
          dealId: d.dealId,
          client: client.address,
          terms: d.terms,
        }),
      })),
    );
    const { deals: accepted, receipt } = await acceptDealsSync(chain.client(client), { receipts });
    const at = (await getBlock(chain.client(), { blockNumber: receipt.blockNumber })).timestamp;
    started = accepted.map(() => at);
    collaterals = accepted.map((d) => d.collateral);
    expect(collaterals).toEqual(prices.map((p) => (p * BigInt(P.collateralBps)) / BPS));
    const after = await balances();
    const escrow = prices.reduce((a, b) => a + b, 0n);
    expect(after.client).toBe((before.client as bigint) - escrow);
    expect(after.market).toBe((before.market as bigint) + escrow);
    const status = await hostStatus(chain.client(), (hosts[0] as (typeof hosts)[number]).address);
    expect(status).toMatchObject({
      lockedCollateral: collaterals[0],
      activeDeals: 1n,
      usedBytes: BigInt(CHUNKS * 256),
    });
  });

  it("an audit: the client's key challenges on the budget the upload left, the host's key answers and is paid", async () => {
    const [d0, d1] = dealIds as [bigint, bigint];
    const [h0, h1] = hosts as [(typeof hosts)[number], (typeof hosts)[number]];
    const stranger = privateKeyToAccount(generatePrivateKey());
    await chain.fund([stranger.address], { tokens: 0n, eth: parseEther("1") });
    await expect(
      challengeDeals(chain.client(stranger), { dealIds: [d0, d1], bondPayer: client.address }),
    ).rejects.toBeInstanceOf(NotOperatorError);

    const before = await balances();
    // The audit budget the upload's permit left: the owner's allowance, spent by its client operator's challenges.
    await mined(await challengeDeals(chain.client(clientOperator), { dealIds: [d0, d1], bondPayer: client.address }));
    expect(await balance(client.address)).toBe((before.client as bigint) - 2n * P.challengeBond);
    expect(await balance(market)).toBe((before.market as bigint) + 2n * P.challengeBond);
    expect(await allowance(client.address)).toBe(0n);
    await chain.client().request({ method: "evm_mine" as never, params: [] as never });
    await mined(await fixAuditSeeds(chain.client(clientOperator), { dealIds: [d0, d1] }));

    const audit = await openAudit(chain.client(), d0);
    if (!audit) throw new Error("deal 0 has no open audit");
    expect(audit.challenger).toBe(client.address);
    expect(audit.deadline).toBeGreaterThan(0n);
    const index = Number(audit.leafIndex);
    const leaves = leavesOf(shards[0] as Uint8Array[]);
    const chunk = (shards[0] as Uint8Array[])[index] as Uint8Array;
    // A damaged chunk does not prove the shard.
    const damaged = chunk.slice();
    damaged[0] = (damaged[0] as number) ^ 1;
    await expect(
      answerAudit(chain.client(hostOperators[0]), { dealId: d0, chunk: damaged, proof: proofOf(leaves, index) }),
    ).rejects.toMatchObject({ name: InvalidAuditProofError.name, dealId: d0, leafIndex: audit.leafIndex });

    const host0Before = await balance(h0.address);
    const answeredAt = await timeOf(
      await answerAudit(chain.client(hostOperators[0]), { dealId: d0, chunk, proof: proofOf(leaves, index) }),
    );
    // The bond goes to the host (the owner, not its key).
    expect(await balance(h0.address)).toBe(host0Before + P.challengeBond);
    expect(await openAudit(chain.client(), d0)).toBeUndefined();

    // Claim: the host gets what the answer proved, less the protocol fee, which goes to the treasury.
    const earned = ((prices[0] as bigint) * (answeredAt - (started[0] as bigint))) / DURATION;
    const fee = (earned * BigInt(P.protocolFeeBps)) / BPS;
    const treasuryBefore = await balance(TEST_TREASURY);
    await mined(await claimEarnings(chain.client(hostOperators[0]), { dealIds: [d0] }));
    expect(await balance(h0.address)).toBe(host0Before + P.challengeBond + earned - fee);
    expect(await balance(TEST_TREASURY)).toBe(treasuryBefore + fee);
    await expect(claimEarnings(chain.client(h0), { dealIds: [d0] })).rejects.toBeInstanceOf(NothingToClaimError);

    // Host 1 stays silent past its window: its answer is refused, and finalizing pays the client the collateral
    // and the unproven escrow, and returns the bond.
    const open1 = await openAudit(chain.client(), d1);
    if (!open1) throw new Error("deal 1 has no open audit");
    await chain.advance(open1.deadline - (await now()) + 1n);
    const leaves1 = leavesOf(shards[1] as Uint8Array[]);
    const i1 = Number(open1.leafIndex);
    await expect(
      answerAudit(chain.client(hostOperators[1]), {
        dealId: d1,
        chunk: (shards[1] as Uint8Array[])[i1] as Uint8Array,
        proof: proofOf(leaves1, i1),
      }),
    ).rejects.toMatchObject({ name: AuditWindowClosedError.name, dealId: d1, deadline: open1.deadline });
    const clientBefore = await balance(client.address);
    const host1Before = await balance(h1.address);
    const marketBefore = await balance(market);
    await mined(await finalizeMissedAudit(chain.client(stranger), { dealId: d1 }));
    const toClient = (prices[1] as bigint) + (collaterals[1] as bigint) + P.challengeBond;
    expect(await balance(client.address)).toBe(clientBefore + toClient);
    expect(await balance(h1.address)).toBe(host1Before);
    expect(await balance(market)).toBe(marketBefore - toClient);
    expect(await hostStatus(chain.client(), h1.address)).toMatchObject({
      stake: 2n * P.minStake - (collaterals[1] as bigint),
      lockedCollateral: 0n,
      auditsFailed: 1,
      timesSlashed: 1,
    });
  });

  it("the client's key ends the file early: the host is paid up to now, the client refunded the rest", async () => {
    const [d0] = dealIds as [bigint];
    const h0 = hosts[0] as (typeof hosts)[number];
    await chain.advance(3600n);
    const stranger = privateKeyToAccount(generatePrivateKey());
    await chain.fund([stranger.address], { tokens: 0n, eth: parseEther("1") });
    await expect(endDeals(chain.client(stranger), { dealIds: [d0] })).rejects.toMatchObject({
      name: NotDealClientError.name,
      dealId: d0,
      account: stranger.address,
    });
    const before = await balances();
    const claimedBefore = (
      await readContract(chain.client(), {
        address: market,
        abi: deployedContract(chain.chain, "StorageMarket").abi,
        functionName: "dealInfo",
        args: [d0],
      })
    ).claimed;
    const endedAt = await timeOf(await endDeals(chain.client(clientOperator), { dealIds: [d0] }));
    const earned = ((prices[0] as bigint) * (endedAt - (started[0] as bigint))) / DURATION;
    const payment = earned - claimedBefore;
    const fee = (payment * BigInt(P.protocolFeeBps)) / BPS;
    const refund = (prices[0] as bigint) - earned;
    const after = await balances();
    expect(after.client).toBe((before.client as bigint) + refund);
    expect(after.h0).toBe((before.h0 as bigint) + payment - fee);
    expect(after.TEST_TREASURY).toBe((before.TEST_TREASURY as bigint) + fee);
    expect(after.market).toBe((before.market as bigint) - refund - payment);
    expect(await hostStatus(chain.client(), h0.address)).toMatchObject({ lockedCollateral: 0n, activeDeals: 0n });
  });

  it("unbonding: free stake only, withdrawn after the delay to the host's wallet", async () => {
    const h0 = hosts[0] as (typeof hosts)[number];
    const stake = (await hostStatus(chain.client(), h0.address)).stake;
    await mined(await beginUnbonding(chain.client(h0), { amount: stake }));
    await expect(withdrawStake(chain.client(h0))).rejects.toBeInstanceOf(UnbondingNotReadyError);
    await chain.advance(BigInt(P.unbondingDelaySeconds));
    const before = await balance(h0.address);
    await mined(await withdrawStake(chain.client(h0)));
    expect(await balance(h0.address)).toBe(before + stake);
    expect(await hostStatus(chain.client(), h0.address)).toMatchObject({ stake: 0n, unbonding: 0n });
  });

  it("a proposal nobody accepted is cancelled for its whole escrow, by its client only", async () => {
    const t = await now();
    const h1 = hosts[1] as (typeof hosts)[number];
    const terms: DealTerms = {
      host: h1.address,
      manifestCid,
      shardIndex: 0,
      shardSizeBytes: 256n,
      shardRoot: bytesToHex(leafHash(0, new Uint8Array(256))),
      durationSeconds: DURATION,
      price: parseEther("0.001"),
      acceptBy: t + 600n,
    };
    const before = await balance(client.address);
    const { deals } = await proposeDealsSync(chain.client(client), { terms: [terms], permitDeadline: t + 600n });
    const dealId = (deals[0] as (typeof deals)[number]).dealId;
    await expect(cancelProposals(chain.client(h1), { dealIds: [dealId] })).rejects.toBeInstanceOf(NotDealClientError);
    await mined(await cancelProposals(chain.client(client), { dealIds: [dealId] }));
    expect(await balance(client.address)).toBe(before);
    // Revoked, the client's key can no longer act for it.
    await mined(
      await authorizeOperator(chain.client(client), { operator: clientOperator.address, roles: 0, expiresAt: 0n }),
    );
    expect(
      await operatorRoles(chain.client(), { owner: client.address, operator: clientOperator.address, now: t }),
    ).toMatchObject({ roles: 0 });
  });
});
