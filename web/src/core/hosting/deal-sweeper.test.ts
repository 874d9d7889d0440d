import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import type { Account, Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getTransactionCount } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TabulaClient } from "../../chain/client.ts";
import { DealStatus, dealInfo } from "../../chain/market/deal-info.ts";
import { endDeals } from "../../chain/market/end-deals.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { startTestChain, TEST_MARKET_PARAMETERS, TEST_TREASURY, type TestChain } from "../../chain/testing/hardhat.ts";
import { stakeHost } from "../../chain/testing/stake-host.ts";
import { balanceOf } from "../../chain/token/balance-of.ts";
import type { HeldShard } from "../../p2p/protocols/common/held-shard.ts";
import { DealSweeper } from "./deal-sweeper.ts";
import type { KeptShardRef } from "./keeper.ts";
import { HELD_DEAL_DURATION, heldDeal } from "./testing/held-deal.ts";

const BPS = 10_000n;
const SHARD_BYTES = 4096;

const pieceOf = (seed: number) => Uint8Array.from({ length: SHARD_BYTES }, (_, i) => (i * seed + seed) % 251);

describe("the host's tab completes its finished deals and drops a paid shard only once no deal binds it", () => {
  let chain: TestChain;
  const host = privateKeyToAccount(generatePrivateKey());
  const operator = privateKeyToAccount(generatePrivateKey());
  const client = privateKeyToAccount(generatePrivateKey());
  let wallet: TabulaClient<Account>;
  const balance = (address: Address) => balanceOf(chain.client(), { address });
  const mined = (hash: `0x${string}`) => waitForSuccess(chain.client(), { hash, what: "test step" });

  /** A host's store as the sweeper sees it: its held shards, and what it was asked to remove. */
  function store(shards: HeldShard[]) {
    const removed: KeptShardRef[][] = [];
    const sweeper = new DealSweeper({
      reader: chain.client(),
      operator: chain.client(operator) as TabulaClient<Account>,
      owner: host.address,
      held: () => shards,
      remove: async (refs) => {
        removed.push([...refs]);
        for (const ref of refs) {
          const at = shards.findIndex((s) => s.manifest.equals(ref.manifest) && s.shardIndex === ref.shardIndex);
          if (at >= 0) shards.splice(at, 1);
        }
        return { shards: refs.length, blocks: refs.length };
      },
    });
    return { sweeper, shards, removed };
  }

  async function freeShard(seed: number): Promise<HeldShard> {
    const piece = pieceOf(seed);
    const cid = CID.createV1(raw.code, await sha256.digest(piece));
    return {
      manifest: cid,
      shardIndex: 0,
      root: new Uint8Array(32),
      pieces: [cid],
      sizes: [piece.byteLength],
      owner: "someone",
      dealId: null,
      storedAtMs: Date.now(),
    };
  }

  beforeAll(async () => {
    chain = await startTestChain({ market: true });
    await chain.fund([host, operator, client].map((a) => a.address));
    await stakeHost(chain, { owner: host, operator });
    wallet = chain.client(client) as TabulaClient<Account>;
  });
  afterAll(() => chain.close());

  it("keeps a running deal's shard, then at its end completes the deal (the rest of the escrow paid) and drops it", async () => {
    const running = await heldDeal(chain, { client: wallet, host, operator, piece: pieceOf(1) });
    const free = await freeShard(2);
    const { sweeper, shards, removed } = store([running.held, free]);
    const nonce = await getTransactionCount(chain.client(), { address: operator.address });

    await sweeper.sweep();
    expect(removed).toEqual([]);
    const info = await dealInfo(chain.client(), running.dealId);
    expect(sweeper.boundUntil(running.held)).toBe(info.endsAt);
    expect(sweeper.boundUntil(free)).toBeUndefined();
    expect(await getTransactionCount(chain.client(), { address: operator.address })).toBe(nonce);

    await chain.advance(HELD_DEAL_DURATION + 1n);
    const [hostBefore, treasuryBefore] = await Promise.all([balance(host.address), balance(TEST_TREASURY)]);
    await sweeper.sweep();
    const fee = (running.terms.price * BigInt(TEST_MARKET_PARAMETERS.protocolFeeBps)) / BPS;
    expect(sweeper.completed.map((c) => [c.dealId, c.hostPayment])).toEqual([[running.dealId, running.terms.price]]);
    expect((await dealInfo(chain.client(), running.dealId)).status).toBe(DealStatus.Completed);
    expect(await balance(host.address)).toBe(hostBefore + running.terms.price - fee);
    expect(await balance(TEST_TREASURY)).toBe(treasuryBefore + fee);
    expect(sweeper.dropped.map((d) => [d.dealId, d.status])).toEqual([[running.dealId, "Completed"]]);
    expect(shards).toEqual([free]);
    expect(sweeper.boundUntil(running.held)).toBeUndefined();

    // Nothing more to do: a second sweep sends nothing and drops nothing.
    const after = await getTransactionCount(chain.client(), { address: operator.address });
    await sweeper.sweep();
    expect(await getTransactionCount(chain.client(), { address: operator.address })).toBe(after);
    expect(removed).toHaveLength(1);
  });

  it("drops a shard its client ended early and a proposal never accepted, and keeps one a newer deal still binds", async () => {
    const ended = await heldDeal(chain, { client: wallet, host, operator, piece: pieceOf(3) });
    const proposal = await heldDeal(chain, { client: wallet, host, operator, piece: pieceOf(4), accept: false });
    // Renewed: the host's record names the first deal, ended now; a second deal for the same shard runs.
    const first = await heldDeal(chain, { client: wallet, host, operator, piece: pieceOf(5) });
    const renewal = await heldDeal(chain, { client: wallet, host, operator, piece: pieceOf(5) });
    await mined(await endDeals(wallet, { dealIds: [ended.dealId, first.dealId] }));
    const { sweeper, shards } = store([ended.held, proposal.held, first.held]);

    await sweeper.sweep();
    expect(sweeper.dropped.map((d) => [d.dealId, d.status])).toEqual([[ended.dealId, "Ended"]]);
    expect(shards).toEqual([proposal.held, first.held]);
    expect(sweeper.boundUntil(proposal.held)).toBe(proposal.terms.acceptBy);
    expect(sweeper.boundUntil(first.held)).toBe((await dealInfo(chain.client(), renewal.dealId)).endsAt);

    // Its time to be accepted passes (the helper gives an hour).
    await chain.advance(3601n);
    await sweeper.sweep();
    expect(sweeper.dropped.map((d) => [d.dealId, d.status])).toEqual([
      [proposal.dealId, "Proposed"],
      [ended.dealId, "Ended"],
    ]);
    expect(shards).toEqual([first.held]);
  });
});
