import { CID } from "multiformats/cid";
import { type Account, bytesToHex, numberToBytes, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBlock } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TabulaClient } from "../../chain/client.ts";
import { acceptDealsSync } from "../../chain/market/accept-deals.ts";
import { proposeDealsSync } from "../../chain/market/propose-deals.ts";
import { quote } from "../../chain/market/quote.ts";
import { registerHost } from "../../chain/market/register-host.ts";
import type { DealTerms } from "../../chain/market/storage-receipt.ts";
import { updateHost } from "../../chain/market/update-host.ts";
import { authorizeOperator } from "../../chain/operators/authorize-operator.ts";
import { OperatorRole } from "../../chain/operators/roles.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { startTestChain, type TestChain } from "../../chain/testing/hardhat.ts";
import { DealDesk, type OfferedShard } from "./deal-desk.ts";

const MANIFEST = CID.parse("bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi");
const OTHER_MANIFEST = CID.parse("bafyreib7x5m7tqgckh5gjtgzjpqzefhgvxdqhvpdgrvmz3zdl35lpbq3na");
const SIZE = 4096;
const DURATION = 30n * 24n * 3600n;
const ROOT = new Uint8Array(32).fill(9);

describe("the host's deal desk: σ only for a deal the chain holds, for this shard, at this host's price", () => {
  let chain: TestChain;
  const host = privateKeyToAccount(generatePrivateKey());
  const operator = privateKeyToAccount(generatePrivateKey());
  const client = privateKeyToAccount(generatePrivateKey());
  const other = privateKeyToAccount(generatePrivateKey());
  let desk: DealDesk;
  const mined = async (hash: `0x${string}`) => waitForSuccess(chain.client(), { hash, what: "setup" });
  const owner = (account: typeof host) => chain.client(account) as TabulaClient<Account>;

  async function propose(overrides: Partial<DealTerms> = {}, to = host.address): Promise<bigint> {
    const now = (await getBlock(chain.client())).timestamp;
    const terms: DealTerms = {
      host: to,
      manifestCid: bytesToHex(MANIFEST.bytes),
      shardIndex: 2,
      shardSizeBytes: BigInt(SIZE),
      shardRoot: bytesToHex(ROOT),
      durationSeconds: DURATION,
      price: await quote(chain.client(), { host: to, shardSizeBytes: BigInt(SIZE), durationSeconds: DURATION }),
      acceptBy: now + 3600n,
      ...overrides,
    };
    const { deals } = await proposeDealsSync(owner(client), { terms: [terms], permitDeadline: now + 3600n });
    return (deals[0] as (typeof deals)[number]).dealId;
  }
  const offer = (dealId: bigint, patch: Partial<OfferedShard> = {}): OfferedShard => ({
    dealId: numberToBytes(dealId, { size: 32 }),
    manifest: MANIFEST,
    shardIndex: 2,
    root: ROOT,
    totalBytes: SIZE,
    ...patch,
  });

  beforeAll(async () => {
    chain = await startTestChain({ market: true });
    await chain.fund([host.address, client.address, other.address]);
    const now = (await getBlock(chain.client())).timestamp;
    for (const h of [host, other]) {
      await mined(
        await registerHost(owner(h), {
          peerId: "0x0024",
          capacityBytes: 1n << 30n,
          pricePerGiBMonth: parseEther("2"),
          openRegistration: true,
          stake: parseEther("100"),
          permitDeadline: now + 3600n,
        }),
      );
    }
    await mined(
      await authorizeOperator(owner(host), {
        operator: operator.address,
        roles: OperatorRole.Host,
        expiresAt: now + 86_400n,
      }),
    );
    desk = new DealDesk({ reader: chain.client(), owner: host.address, operator });
  });
  afterAll(() => chain.close());

  it("signs σ for the offered deal with the operator key, and the market activates the deal with it", async () => {
    const dealId = await propose();
    const checked = await desk.check(offer(dealId));
    expect(checked).toMatchObject({ ok: true, deal: { dealId, client: client.address } });
    const sigma = await desk.attest(offer(dealId));
    expect(sigma).toHaveLength(65);
    const { deals } = await acceptDealsSync(owner(client), { receipts: [{ dealId, signature: bytesToHex(sigma) }] });
    expect(deals[0]).toMatchObject({ dealId, host: host.address, signer: operator.address });
    // Active now: no second σ.
    expect(await desk.check(offer(dealId))).toMatchObject({ ok: false, message: expect.stringMatching(/status 2/) });
  });

  it("refuses what it would not sign, saying why", async () => {
    const dealId = await propose();
    const refusals: [OfferedShard, RegExp][] = [
      [offer(9_999n), /status 0/],
      [offer(dealId, { root: new Uint8Array(32).fill(8) }), /another Merkle root/],
      [offer(dealId, { totalBytes: SIZE + 1 }), /4096 bytes, the shard has 4097/],
      [offer(dealId, { manifest: OTHER_MANIFEST }), /another file or shard index/],
      [offer(dealId, { shardIndex: 3 }), /another file or shard index/],
      [{ ...offer(dealId), dealId: null }, /names no deal/],
      [offer(await propose({}, other.address)), /not to this host/],
      [offer(await propose({ acceptBy: (await getBlock(chain.client())).timestamp + 30n })), /too soon/],
    ];
    for (const [shard, reason] of refusals) {
      expect(await desk.check(shard), String(reason)).toMatchObject({
        ok: false,
        message: expect.stringMatching(reason),
      });
    }
    await expect(desk.attest(offer(dealId, { shardIndex: 3 }))).rejects.toThrow(/No receipt for this shard/);
  });

  it("refuses a deal priced below what the host asks now", async () => {
    const price = await quote(chain.client(), {
      host: host.address,
      shardSizeBytes: BigInt(SIZE),
      durationSeconds: DURATION,
    });
    // Proposed at the old price; the host raises its price before the push arrives.
    const dealId = await propose({ price });
    await mined(
      await updateHost(owner(host), { peerId: "0x0024", capacityBytes: 1n << 30n, pricePerGiBMonth: parseEther("3") }),
    );
    expect(await desk.check(offer(dealId))).toMatchObject({
      ok: false,
      message: expect.stringMatching(/this host asks/),
    });
  });
});
