import { type Address, parseEther, zeroAddress } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ContractNotDeployedError } from "../errors.ts";
import { startTestChain, type TestChain } from "../testing/hardhat.ts";
import { balanceOf } from "./balance-of.ts";
import { TokenFaucetAmountTooLargeError, TokenFaucetDisabledError } from "./errors.ts";
import { faucet, faucetSync } from "./faucet.ts";

const FAUCET_MAX_WEI = parseEther("10000");

describe("faucet", () => {
  let chain: TestChain;
  let funder: Address;
  beforeAll(async () => {
    chain = await startTestChain();
    funder = chain.accounts[1] as Address;
  });
  afterAll(() => chain.close());

  it("mints the amount asked for to the recipient, to the last unit, and returns the mint's Transfer", async () => {
    const to = privateKeyToAccount(generatePrivateKey()).address;
    const hashes: string[] = [];
    const { receipt, event } = await faucetSync(chain.client(), {
      to,
      amount: parseEther("1000") + 1n,
      account: funder,
      onHash: (hash) => hashes.push(hash),
    });
    expect(receipt.status).toBe("success");
    expect(hashes).toEqual([receipt.transactionHash]);
    expect(event.eventName).toBe("Transfer");
    expect(event.args).toEqual({ from: zeroAddress, to, value: parseEther("1000") + 1n });
    expect(await balanceOf(chain.client(), { address: to })).toBe(parseEther("1000") + 1n);
    // The caller pays gas only: its tokens are untouched.
    expect(await balanceOf(chain.client(), { address: funder })).toBe(0n);
  });

  it("sends from the client's account when no account is given", async () => {
    const to = privateKeyToAccount(generatePrivateKey()).address;
    const hash = await faucet(chain.client(funder), { to, amount: 7n });
    expect(hash).toMatch(/^0x[0-9a-f]{64}$/);
    await faucetSync(chain.client(funder), { to, amount: 3n });
    expect(await balanceOf(chain.client(), { address: to })).toBe(10n);
  });

  it("refuses more than the contract's cap with a named error carrying both amounts", async () => {
    const to = privateKeyToAccount(generatePrivateKey()).address;
    const error = await faucet(chain.client(), { to, amount: FAUCET_MAX_WEI + 1n, account: funder }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(TokenFaucetAmountTooLargeError);
    expect(error).toMatchObject({ requested: FAUCET_MAX_WEI + 1n, max: FAUCET_MAX_WEI });
    expect(await balanceOf(chain.client(), { address: to })).toBe(0n);
  });

  it("names the missing contract and the chain when the chain has no token", async () => {
    const client = { ...chain.client(), chain: chain.without("Token") };
    const error = await faucet(client, { to: funder, amount: 1n, account: funder }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ContractNotDeployedError);
    expect(error).toMatchObject({ contract: "Token", chainId: chain.chain.id });
    expect((error as Error).message).toMatch(new RegExp(`Token is not deployed on chain ${chain.chain.id}`));
  });
});

describe("faucet on a deployment without one", () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await startTestChain({ faucet: false });
  });
  afterAll(() => chain.close());

  it("throws TokenFaucetDisabledError and mints nothing", async () => {
    const to = privateKeyToAccount(generatePrivateKey()).address;
    await expect(faucet(chain.client(), { to, amount: 1n, account: chain.accounts[0] as Address })).rejects.toThrow(
      TokenFaucetDisabledError,
    );
    expect(await balanceOf(chain.client(), { address: to })).toBe(0n);
  });
});
