import { type Account, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBlock } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { waitForSuccess } from "../receipt.ts";
import { startTestChain, TEST_MARKET_PARAMETERS, type TestChain } from "../testing/hardhat.ts";
import { allowance } from "../token/allowance.ts";
import { approve } from "../token/approve.ts";
import { addStake } from "./add-stake.ts";
import { registerHost } from "./register-host.ts";

describe("a market permit keeps the owner's audit budget", () => {
  let chain: TestChain;
  const owner = privateKeyToAccount(generatePrivateKey());
  let wallet: TabulaClient<Account>;
  const mined = (hash: `0x${string}`) => waitForSuccess(chain.client(), { hash, what: "test step" });
  beforeAll(async () => {
    chain = await startTestChain({ market: true });
    await chain.fund([owner.address]);
    wallet = chain.client(owner) as TabulaClient<Account>;
  });
  afterAll(() => chain.close());

  it("staking with a permit leaves the allowance the owner set for challenge bonds", async () => {
    const market = deployedContract(chain.chain, "StorageMarket").address;
    const budget = parseEther("0.5");
    await mined(await approve(wallet, { spender: market, value: budget }));
    const deadline = (await getBlock(chain.client())).timestamp + 3600n;
    await mined(
      await registerHost(wallet, {
        peerId: "0x0024",
        capacityBytes: 1n << 30n,
        pricePerGiBMonth: parseEther("2"),
        openRegistration: true,
        stake: TEST_MARKET_PARAMETERS.minStake,
        permitDeadline: deadline,
      }),
    );
    expect(await allowance(chain.client(), { owner: owner.address, spender: market })).toBe(budget);
    await mined(await addStake(wallet, { amount: parseEther("1"), permitDeadline: deadline }));
    expect(await allowance(chain.client(), { owner: owner.address, spender: market })).toBe(budget);
  });
});
