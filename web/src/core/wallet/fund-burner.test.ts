import { getAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBalance } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BURNER_FAUCET_TOKEN_WEI, BURNER_TOP_UP_ETH_WEI } from "../../chain/constants.ts";
import { startTestChain, type TestChain } from "../../chain/testing/hardhat.ts";
import { balanceOf } from "../../chain/token/balance-of.ts";
import { fundBurner } from "./fund-burner.ts";

describe("fundBurner", () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await startTestChain();
  });
  afterAll(() => chain.close());

  it("sends a new burner 10 ETH and 1000 TAB from the first development account, once", async () => {
    const account = privateKeyToAccount(generatePrivateKey()).address;
    const funded = await fundBurner(chain.client(), { account });
    const funder = getAddress(chain.accounts[0] as string);
    expect(funded?.funder).toBe(funder);
    expect(funded?.fundings.map((f) => f.text)).toEqual([
      `Received 10 ETH from local account ${funder}`,
      "Received 1000 TAB from the local faucet",
    ]);
    for (const { tx } of funded?.fundings ?? []) expect(tx).toMatch(/^0x[0-9a-f]{64}$/);
    expect(await getBalance(chain.client(), { address: account })).toBe(BURNER_TOP_UP_ETH_WEI);
    expect(await balanceOf(chain.client(), { address: account })).toBe(BURNER_FAUCET_TOKEN_WEI);
    // Funded already: nothing more is sent.
    expect((await fundBurner(chain.client(), { account }))?.fundings).toEqual([]);
    expect(await balanceOf(chain.client(), { address: account })).toBe(BURNER_FAUCET_TOKEN_WEI);
  });

  it("funds nothing on a chain that is not local or has no token", async () => {
    const account = privateKeyToAccount(generatePrivateKey()).address;
    const client = chain.client();
    expect(await fundBurner({ ...client, chain: { ...chain.chain, local: false } }, { account })).toBeUndefined();
    expect(await fundBurner({ ...client, chain: chain.without("Token") }, { account })).toBeUndefined();
    expect(await getBalance(client, { address: account })).toBe(0n);
  });
});
