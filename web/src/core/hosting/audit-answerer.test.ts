import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { type Account, type Address, bytesToHex, numberToBytes } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBlock, getTransactionCount } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployedContract } from "../../chain/chain.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { acceptDealsSync } from "../../chain/market/accept-deals.ts";
import { challengeDeals } from "../../chain/market/challenge-deals.ts";
import { claimEarnings } from "../../chain/market/claim-earnings.ts";
import { dealInfo } from "../../chain/market/deal-info.ts";
import { fixAuditSeeds } from "../../chain/market/fix-audit-seeds.ts";
import { openAudit } from "../../chain/market/open-audit.ts";
import { proposeDealsSync } from "../../chain/market/propose-deals.ts";
import { quote } from "../../chain/market/quote.ts";
import { signReceipt } from "../../chain/market/receipts.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { startTestChain, TEST_MARKET_PARAMETERS, TEST_TREASURY, type TestChain } from "../../chain/testing/hardhat.ts";
import { stakeHost } from "../../chain/testing/stake-host.ts";
import { approve } from "../../chain/token/approve.ts";
import { balanceOf } from "../../chain/token/balance-of.ts";
import { pieceRoot } from "../../p2p/protocols/audit/index.ts";
import type { HeldShard } from "../../p2p/protocols/common/held-shard.ts";
import { AuditAnswerer } from "./audit-answerer.ts";

const P = TEST_MARKET_PARAMETERS;
const BPS = 10_000n;
const DURATION = 30n * 24n * 3600n;
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
  async function heldDeal(): Promise<{ dealId: bigint; held: HeldShard }> {
    const t = (await getBlock(chain.client())).timestamp;
    const root = await pieceRoot(piece, 0);
    const terms = {
      host: host.address,
      manifestCid: "0x01711220dd" as const,
      shardIndex: 0,
      shardSizeBytes: BigInt(SHARD_BYTES),
      shardRoot: bytesToHex(root),
      durationSeconds: DURATION,
      price: await quote(chain.client(), {
        host: host.address,
        shardSizeBytes: BigInt(SHARD_BYTES),
        durationSeconds: DURATION,
      }),
      acceptBy: t + 3600n,
    };
    const { deals } = await proposeDealsSync(wallet, { terms: [terms], permitDeadline: t + 3600n });
    const dealId = (deals[0] as (typeof deals)[number]).dealId;
    const signature = await signReceipt(chain.client(operator), { dealId, client: client.address, terms });
    await acceptDealsSync(wallet, { receipts: [{ dealId, signature }] });
    const held: HeldShard = {
      manifest: pieceCid,
      shardIndex: 0,
      root,
      pieces: [pieceCid],
      sizes: [SHARD_BYTES],
      owner: "client",
      dealId: numberToBytes(dealId, { size: 32 }),
      storedAtMs: Date.now(),
    };
    return { dealId, held };
  }

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
    const { dealId, held } = await heldDeal();
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
    const { dealId, held } = await heldDeal();
    await challenge(dealId);
    const watcher = answerer([held]);
    await watcher.scan();
    expect(watcher.answers.map((a) => a.dealId)).toEqual([dealId]);
    expect(await openAudit(chain.client(), dealId)).toBeUndefined();
  });

  it("reports a window that closed while the tab was away, or a piece it lost, and sends nothing", async () => {
    const late = await heldDeal();
    await challenge(late.dealId);
    const audit = await openAudit(chain.client(), late.dealId);
    await chain.advance((audit?.deadline as bigint) - (await getBlock(chain.client())).timestamp + 1n);
    const lost = await heldDeal();
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
});
