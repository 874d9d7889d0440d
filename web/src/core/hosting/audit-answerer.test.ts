import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import type { Account, Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBlock, getTransactionCount } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployedContract } from "../../chain/chain.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { challengeDeals } from "../../chain/market/challenge-deals.ts";
import { claimEarnings } from "../../chain/market/claim-earnings.ts";
import { dealInfo } from "../../chain/market/deal-info.ts";
import { fixAuditSeeds } from "../../chain/market/fix-audit-seeds.ts";
import { openAudit } from "../../chain/market/open-audit.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { startTestChain, TEST_MARKET_PARAMETERS, TEST_TREASURY, type TestChain } from "../../chain/testing/hardhat.ts";
import { stakeHost } from "../../chain/testing/stake-host.ts";
import { approve } from "../../chain/token/approve.ts";
import { balanceOf } from "../../chain/token/balance-of.ts";
import type { HeldShard } from "../../p2p/protocols/common/held-shard.ts";
import { AuditAnswerer } from "./audit-answerer.ts";
import { heldDeal } from "./testing/held-deal.ts";

const P = TEST_MARKET_PARAMETERS;
const BPS = 10_000n;
const SHARD_BYTES = 4096;

describe("the host's tab answers the audits of its deals on its own", () => {
  let chain: TestChain;
  const host = privateKeyToAccount(generatePrivateKey());
  const operator = privateKeyToAccount(generatePrivateKey());
  const client = privateKeyToAccount(generatePrivateKey());
  let wallet: TabulaClient<Account>;
  let market: Address;
  const piece = Uint8Array.from({ length: SHARD_BYTES }, (_, i) => (i * 7) % 251);
  let pieceCid: CID;
  const balance = (address: Address) => balanceOf(chain.client(), { address });
  const mined = (hash: `0x${string}`) => waitForSuccess(chain.client(), { hash, what: "test step" });
  const mine = () => chain.client().request({ method: "evm_mine" as never, params: [] as never });

  /** A deal for the one-piece shard, accepted with σ by the host's key; the shard as the host holds it. */
  const paidShard = () => heldDeal(chain, { client: wallet, host, operator, piece });

  async function challenge(dealId: bigint): Promise<void> {
    await mined(await approve(wallet, { spender: market, value: P.challengeBond }));
    await mined(await challengeDeals(wallet, { dealIds: [dealId], bondPayer: client.address }));
    await mine();
    await mined(await fixAuditSeeds(wallet, { dealIds: [dealId] }));
  }

  const answerer = (held: HeldShard[], pieces = new Map([[pieceCid.toString(), piece]])) =>
    new AuditAnswerer({
      reader: chain.client(),
      operator: chain.client(operator) as TabulaClient<Account>,
      held: () => held,
      readPiece: async (cid) => pieces.get(cid.toString()),
    });

  beforeAll(async () => {
    chain = await startTestChain({ market: true });
    market = deployedContract(chain.chain, "StorageMarket").address;
    await chain.fund([host, operator, client].map((a) => a.address));
    await stakeHost(chain, { owner: host, operator });
    wallet = chain.client(client) as TabulaClient<Account>;
    pieceCid = CID.createV1(raw.code, await sha256.digest(piece));
  });
  afterAll(() => chain.close());

  it("answers a challenge as it comes: the bond goes to the host at once, the proven pay at the claim", async () => {
    const { dealId, held } = await paidShard();
    const watcher = answerer([held]);
    watcher.start();
    try {
      await challenge(dealId);
      const hostBefore = await balance(host.address);
      await new Promise<void>((resolve) => {
        const done = () => watcher.answers.length > 0 && resolve();
        watcher.addEventListener("change", done);
        done();
      });
      const [answer] = watcher.answers;
      expect(answer).toMatchObject({ dealId, bond: P.challengeBond });
      expect(watcher.failures).toEqual([]);
      expect(await openAudit(chain.client(), dealId)).toBeUndefined();
      expect(await balance(host.address)).toBe(hostBefore + P.challengeBond);
      const info = await dealInfo(chain.client(), dealId);
      expect(info.earned).toBe(answer?.earned);
      const fee = (info.earned * BigInt(P.protocolFeeBps)) / BPS;
      const treasuryBefore = await balance(TEST_TREASURY);
      await mined(await claimEarnings(chain.client(operator), { dealIds: [dealId] }));
      expect(await balance(host.address)).toBe(hostBefore + P.challengeBond + info.earned - fee);
      expect(await balance(TEST_TREASURY)).toBe(treasuryBefore + fee);
    } finally {
      watcher.stop();
    }
  });

  it("answers on starting again what was challenged while the tab was closed", async () => {
    const { dealId, held } = await paidShard();
    await challenge(dealId);
    const watcher = answerer([held]);
    await watcher.scan();
    expect(watcher.answers.map((a) => a.dealId)).toEqual([dealId]);
    expect(await openAudit(chain.client(), dealId)).toBeUndefined();
  });

  it("reports a window that closed while the tab was away, or a piece it lost, and sends nothing", async () => {
    const late = await paidShard();
    await challenge(late.dealId);
    const audit = await openAudit(chain.client(), late.dealId);
    await chain.advance((audit?.deadline as bigint) - (await getBlock(chain.client())).timestamp + 1n);
    const lost = await paidShard();
    await challenge(lost.dealId);
    const nonce = await getTransactionCount(chain.client(), { address: operator.address });
    const watcher = answerer([late.held, lost.held], new Map());
    await watcher.scan();
    await watcher.scan();
    expect(watcher.answers).toEqual([]);
    expect(watcher.failures.map((f) => [f.dealId, f.message])).toEqual([
      [lost.dealId, "this host no longer has the challenged piece of the shard"],
      [late.dealId, expect.stringMatching(/^the window to answer closed at /)],
    ]);
    expect(await getTransactionCount(chain.client(), { address: operator.address })).toBe(nonce);
  });

  it("reports a damaged shard, whose proof the market refuses, and sends nothing: the window passes, the client penalizes", async () => {
    const { dealId, held } = await paidShard();
    await challenge(dealId);
    const damaged = piece.slice();
    damaged.fill(0xff, 0, damaged.length);
    const nonce = await getTransactionCount(chain.client(), { address: operator.address });
    const watcher = answerer([held], new Map([[pieceCid.toString(), damaged]]));
    await watcher.scan();
    expect(watcher.answers).toEqual([]);
    expect(watcher.failures.map((f) => [f.dealId, f.message])).toEqual([
      [dealId, expect.stringMatching(/does not match the shard's root/)],
    ]);
    expect(await getTransactionCount(chain.client(), { address: operator.address })).toBe(nonce);
    const audit = await openAudit(chain.client(), dealId);
    expect(audit?.deadline).toBeGreaterThan(0n);
  });
});
