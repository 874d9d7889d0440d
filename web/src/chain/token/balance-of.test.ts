import type { Address } from "viem";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContractNotDeployedError } from "../errors.ts";
import { startTestChain, TEST_INITIAL_SUPPLY_WEI, type TestChain } from "../testing/hardhat.ts";
import { balanceOf } from "./balance-of.ts";
import { faucetSync } from "./faucet.ts";

describe("balanceOf", () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await startTestChain();
  });
  afterAll(() => chain.close());

  it("reads the holder's balance to the last unit, now or at an earlier block", async () => {
    const [deployer, other] = chain.accounts as [Address, Address];
    expect(await balanceOf(chain.client(), { address: deployer })).toBe(TEST_INITIAL_SUPPLY_WEI);
    expect(await balanceOf(chain.client(), { address: other })).toBe(0n);
    const { receipt } = await faucetSync(chain.client(), { to: other, amount: 12_345n, account: deployer });
    expect(await balanceOf(chain.client(), { address: other })).toBe(12_345n);
    expect(await balanceOf(chain.client(), { address: other, blockNumber: receipt.blockNumber - 1n })).toBe(0n);
  });

  it("names the missing Token when the chain lacks it", async () => {
    const client = { ...chain.client(), chain: chain.without("Token") };
    await expect(balanceOf(client, { address: chain.token })).rejects.toThrow(ContractNotDeployedError);
  });
});
