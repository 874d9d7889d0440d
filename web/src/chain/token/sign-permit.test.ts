import type { Address } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { readContract, writeContract } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployedContract } from "../chain.ts";
import { NoAccountError } from "../errors.ts";
import { waitForSuccess } from "../receipt.ts";
import { startTestChain, type TestChain } from "../testing/hardhat.ts";
import { signPermit } from "./sign-permit.ts";

describe("signPermit", () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await startTestChain();
  });
  afterAll(() => chain.close());

  it("signs a permit the token accepts: the spender's allowance becomes the value, the nonce moves on", async () => {
    const owner = privateKeyToAccount(generatePrivateKey());
    const spender = chain.accounts[2] as Address;
    const token = deployedContract(chain.chain, "Token");
    const deadline = 2n ** 40n;
    const permit = await signPermit(chain.client(owner), { spender, value: 5n * 10n ** 18n + 1n, deadline });
    expect(permit.nonce).toBe(0n);
    // Anyone may submit the permit; the owner needs no ETH.
    const hash = await writeContract(chain.client(), {
      account: spender,
      chain: chain.chain,
      address: token.address,
      abi: token.abi,
      functionName: "permit",
      args: [owner.address, spender, 5n * 10n ** 18n + 1n, deadline, permit.v, permit.r, permit.s],
    });
    await waitForSuccess(chain.client(), { hash, what: "permit" });
    const read = (functionName: "allowance" | "nonces", args: readonly Address[]) =>
      readContract(chain.client(), { address: token.address, abi: token.abi, functionName, args } as never);
    expect(await read("allowance", [owner.address, spender])).toBe(5n * 10n ** 18n + 1n);
    expect(await read("nonces", [owner.address])).toBe(1n);
    expect((await signPermit(chain.client(owner), { spender, value: 1n, deadline })).nonce).toBe(1n);
  });

  it("needs an account", async () => {
    await expect(
      signPermit(chain.client(), { spender: chain.accounts[2] as Address, value: 1n, deadline: 1n }),
    ).rejects.toThrow(NoAccountError);
  });
});
