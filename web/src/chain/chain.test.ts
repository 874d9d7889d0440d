import { describe, expect, it } from "vitest";
import { tokenAbi } from "./abi.ts";
import { chainFromConfig, deployedContract } from "./chain.ts";
import { CONTRACT_ABIS } from "./contracts.ts";
import { ContractNotDeployedError } from "./errors.ts";

const CONFIG = { id: 31337, name: "Local Hardhat chain", rpcUrl: "http://127.0.0.1:8545", local: true };
const TOKEN = `0x${"ab".repeat(20)}` as const;
const MARKET = `0x${"cd".repeat(20)}` as const;

describe("chainFromConfig", () => {
  it("carries each deployed contract with its ABI, and leaves out names it does not know", () => {
    const chain = chainFromConfig(CONFIG, { Token: TOKEN, StorageMarket: MARKET, Unknown: TOKEN });
    expect(chain.id).toBe(31337);
    expect(chain.local).toBe(true);
    expect(chain.rpcUrls.default.http).toEqual([CONFIG.rpcUrl]);
    expect(chain.contracts.Token).toEqual({ address: TOKEN, abi: tokenAbi });
    expect(chain.contracts.StorageMarket).toEqual({ address: MARKET, abi: CONTRACT_ABIS.StorageMarket });
    expect(Object.keys(chain.contracts).sort()).toEqual(["StorageMarket", "Token"]);
  });
});

describe("deployedContract", () => {
  it("returns the contract the chain has", () => {
    expect(deployedContract(chainFromConfig(CONFIG, { Token: TOKEN }), "Token").address).toBe(TOKEN);
  });

  it("names the contract and the chain when the deployment lacks it", () => {
    const chain = chainFromConfig(CONFIG, { Token: TOKEN });
    expect(() => deployedContract(chain, "Lottery")).toThrow(ContractNotDeployedError);
    try {
      deployedContract(chain, "Lottery");
    } catch (error) {
      expect(error).toMatchObject({ name: "ContractNotDeployedError", contract: "Lottery", chainId: 31337 });
      expect((error as ContractNotDeployedError).shortMessage).toBe("Lottery is not deployed on chain 31337.");
    }
  });
});
