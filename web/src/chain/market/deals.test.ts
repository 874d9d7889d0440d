import { bytesToHex, type Hex, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBlock, readContract, writeContract } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { leafHash, rootOf } from "../../lib/merkle/tree.ts";
import { deployedContract } from "../chain.ts";
import { waitForSuccess } from "../receipt.ts";
import { startTestChain, TEST_MARKET_PARAMETERS, type TestChain } from "../testing/hardhat.ts";
import { balanceOf } from "../token/balance-of.ts";
import { acceptDealsSync } from "./accept-deals.ts";
import { DealPriceTooLowError, InvalidReceiptError, ReceiptExpiredError } from "./errors.ts";
import { fileDeals } from "./file-deals.ts";
import { proposeDealsSync } from "./propose-deals.ts";
import { receiptSigner, signReceipt, verifyReceipt } from "./receipts.ts";
import type { DealTerms } from "./storage-receipt.ts";

const SHARD_BYTES = 4096;
const DURATION = 30n * 24n * 3600n;
const PRICE_PER_GIB_MONTH = parseEther("2");
const ROLE_HOST = 1;
const NO_PERMIT = { value: 0n, deadline: 0n, v: 0, r: `0x${"0".repeat(64)}`, s: `0x${"0".repeat(64)}` } as const;

function shardRoot(seed: number): Hex {
  const leaves = Array.from({ length: SHARD_BYTES / 256 }, (_, i) => leafHash(i, new Uint8Array(256).fill(seed + i)));
  return bytesToHex(rootOf(leaves));
}

describe("a file's storage deals on the chain", () => {
  let chain: TestChain;
  const client = privateKeyToAccount(generatePrivateKey());
  const hosts = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())];
  const operators = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())];
  const manifestCid: Hex = "0x01711220aa";
  let now: bigint;

  async function send(account: (typeof hosts)[number], call: (c: ReturnType<TestChain["client"]>) => Promise<Hex>) {
    await waitForSuccess(chain.client(), { hash: await call(chain.client(account)), what: "setup" });
  }

  async function terms(price?: bigint): Promise<DealTerms[]> {
    const market = deployedContract(chain.chain, "StorageMarket");
    return await Promise.all(
      hosts.map(async (host, i) => ({
        host: host.address,
        manifestCid,
        shardIndex: i,
        shardSizeBytes: BigInt(SHARD_BYTES),
        shardRoot: shardRoot(i),
        durationSeconds: DURATION,
        price:
          price ??
          (await readContract(chain.client(), {
            address: market.address,
            abi: market.abi,
            functionName: "quote",
            args: [host.address, BigInt(SHARD_BYTES), DURATION],
          })),
        acceptBy: now + 3600n,
      })),
    );
  }

  beforeAll(async () => {
    chain = await startTestChain({ market: true });
    const market = deployedContract(chain.chain, "StorageMarket");
    const registry = deployedContract(chain.chain, "OperatorRegistry");
    await chain.fund([client.address, ...hosts.map((a) => a.address), ...operators.map((a) => a.address)]);
    now = (await getBlock(chain.client())).timestamp;
    for (const [i, host] of hosts.entries()) {
      await send(host, (c) =>
        writeContract(c, {
          address: chain.token,
          abi: deployedContract(chain.chain, "Token").abi,
          functionName: "approve",
          args: [market.address, parseEther("1000")],
          chain: null,
          account: host,
        }),
      );
      await send(host, (c) =>
        writeContract(c, {
          address: market.address,
          abi: market.abi,
          functionName: "registerHost",
          args: ["0x0024", 1n << 40n, PRICE_PER_GIB_MONTH, true, TEST_MARKET_PARAMETERS.minStake, NO_PERMIT],
          chain: null,
          account: host,
        }),
      );
      await send(host, (c) =>
        writeContract(c, {
          address: registry.address,
          abi: registry.abi,
          functionName: "setOperator",
          args: [(operators[i] as typeof host).address, ROLE_HOST, Number(now + 365n * 86400n)],
          chain: null,
          account: host,
        }),
      );
    }
  });
  afterAll(() => chain.close());

  it("proposes a file's deals with one permit, the operator keys' σ verify on the chain, one call accepts them", async () => {
    const market = deployedContract(chain.chain, "StorageMarket");
    const fileTerms = await terms();
    const escrow = fileTerms.reduce((sum, t) => sum + t.price, 0n);
    const { deals } = await proposeDealsSync(chain.client(client), { terms: fileTerms, permitDeadline: now + 3600n });
    expect(deals.map((d) => d.terms)).toEqual(fileTerms);
    expect(await balanceOf(chain.client(), { address: client.address })).toBe(parseEther("1000") - escrow);
    expect(await balanceOf(chain.client(), { address: market.address })).toBe(
      2n * TEST_MARKET_PARAMETERS.minStake + escrow,
    );

    const receipts = await Promise.all(
      deals.map(async ({ dealId, terms: t }, i) => {
        const signature = await signReceipt(chain.client(), {
          dealId,
          client: client.address,
          terms: t,
          account: operators[i] as (typeof operators)[number],
        });
        const verified = await verifyReceipt(chain.client(), { dealId, client: client.address, terms: t, signature });
        expect(verified).toEqual({ signer: operators[i]?.address, validOnChain: true, byHost: false });
        return { dealId, signature };
      }),
    );
    // σ over other terms recovers to someone else and the chain refuses it.
    const first = deals[0] as (typeof deals)[number];
    const forged = { ...first.terms, price: first.terms.price + 1n };
    const signer = await receiptSigner(chain.client(), {
      dealId: first.dealId,
      client: client.address,
      terms: forged,
      signature: receipts[0]?.signature as Hex,
    });
    expect(signer).not.toBe(operators[0]?.address);

    const { deals: accepted } = await acceptDealsSync(chain.client(client), { receipts });
    expect(accepted.map((d) => d.signer)).toEqual(operators.map((o) => o.address));
    expect(accepted.map((d) => d.collateral)).toEqual(
      fileTerms.map((t) => (t.price * BigInt(TEST_MARKET_PARAMETERS.collateralBps)) / 10_000n),
    );

    // A tab holding only the manifest CID finds the file's hosts and shards from the chain.
    const found = await fileDeals(chain.client(), { manifestCid });
    expect(found.map((d) => [d.dealId, d.terms.host, d.terms.shardIndex, d.status])).toEqual(
      deals.map((d, i) => [d.dealId, hosts[i]?.address, i, "Active"]),
    );
    expect(await fileDeals(chain.client(), { manifestCid: "0x0171122000" })).toEqual([]);
  });

  it("names a price below the host's quote, a σ by a stranger and a σ past its deadline; nothing is sent", async () => {
    const before = await balanceOf(chain.client(), { address: client.address });
    const error = await proposeDealsSync(chain.client(client), {
      terms: await terms(1n),
      permitDeadline: now + 3600n,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DealPriceTooLowError);
    expect(error).toMatchObject({ offered: 1n });
    expect(await balanceOf(chain.client(), { address: client.address })).toBe(before);

    const { deals } = await proposeDealsSync(chain.client(client), {
      terms: await terms(),
      permitDeadline: now + 3600n,
    });
    const stranger = privateKeyToAccount(generatePrivateKey());
    const d = deals[0] as (typeof deals)[number];
    const bad = await signReceipt(chain.client(), {
      dealId: d.dealId,
      client: client.address,
      terms: d.terms,
      account: stranger,
    });
    const refused = await acceptDealsSync(chain.client(client), {
      receipts: [{ dealId: d.dealId, signature: bad }],
    }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InvalidReceiptError);
    expect(refused).toMatchObject({ dealId: d.dealId, signer: stranger.address });

    const good = await signReceipt(chain.client(), {
      dealId: d.dealId,
      client: client.address,
      terms: d.terms,
      account: operators[0] as (typeof operators)[number],
    });
    await chain.advance(7200);
    const late = await acceptDealsSync(chain.client(client), {
      receipts: [{ dealId: d.dealId, signature: good }],
    }).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(ReceiptExpiredError);
    expect(late).toMatchObject({ dealId: d.dealId, acceptBy: d.terms.acceptBy });
  });
});
