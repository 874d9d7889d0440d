import { type Address, getAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBalance } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestChain, type TestChain } from "../testing/hardhat.ts";
import { getDevAccount } from "./dev-account.ts";
import { topUp, topUpSync } from "./top-up.ts";

describe("topUp", () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await startTestChain();
  });
  afterAll(() => chain.close());

  it("finds the node's first unlocked account", async () => {
    expect(await getDevAccount(chain.client())).toBe(getAddress(chain.accounts[0] as Address));
  });

  it("moves exactly the value from an unlocked account to the recipient", async () => {
    const to = privateKeyToAccount(generatePrivateKey()).address;
    const from = await getDevAccount(chain.client());
    const { receipt, transfer } = await topUpSync(chain.client(), { from, to, value: 10n ** 19n + 1n });
    expect(receipt.status).toBe("success");
    expect(transfer).toEqual({ from: from.toLowerCase(), to, value: 10n ** 19n + 1n });
    expect(await getBalance(chain.client(), { address: to })).toBe(10n ** 19n + 1n);
  });

  it("sends from a local account too, which pays the value and the gas", async () => {
    const sender = privateKeyToAccount(generatePrivateKey());
    const to = privateKeyToAccount(generatePrivateKey()).address;
    await topUpSync(chain.client(), { from: chain.accounts[0] as Address, to: sender.address, value: 10n ** 18n });
    const { receipt } = await topUpSync(chain.client(), { from: sender, to, value: 1234n });
    expect(await getBalance(chain.client(), { address: to })).toBe(1234n);
    expect(await getBalance(chain.client(), { address: sender.address })).toBe(
      10n ** 18n - 1234n - receipt.gasUsed * receipt.effectiveGasPrice,
    );
    expect(await topUp(chain.client(), { from: sender, to, value: 1n })).toMatch(/^0x[0-9a-f]{64}$/);
  });
});
