import { network } from "hardhat";
import { type Account, type Address, custom, parseEther } from "viem";
import { parseAccount } from "viem/accounts";
import { chainFromConfig, type TabulaChain } from "../chain.ts";
import { createTabulaClient, type TabulaClient } from "../client.ts";
import type { ContractName } from "../contracts.ts";

/** What the deployer holds after the token's deployment. */
export const TEST_INITIAL_SUPPLY_WEI = parseEther("1000000");

export interface TestChain {
  chain: TabulaChain;
  /** The node's unlocked accounts; the first deployed the token and holds its supply. */
  accounts: Address[];
  token: Address;
  /** A client over the in-process chain, sending from `account` (local, or an unlocked address) when given. */
  client(account?: Account | Address): TabulaClient;
  /** The same chain with only the named contracts, to meet a partial deployment. */
  without(...names: ContractName[]): TabulaChain;
  close(): Promise<void>;
}

/**
 * Hardhat's EVM in this process (no node, no port) with the platform token deployed, its faucet on or off: chain
 * actions run against real contract code and real balances.
 */
export async function startTestChain(options: { faucet?: boolean } = {}): Promise<TestChain> {
  const connection = await network.create();
  const accounts = (await connection.provider.request({ method: "eth_accounts" })) as Address[];
  const deployer = accounts[0] as Address;
  const token = await connection.viem.deployContract("Token", [
    deployer,
    TEST_INITIAL_SUPPLY_WEI,
    options.faucet ?? true,
  ]);
  const chainId = Number(await connection.provider.request({ method: "eth_chainId" }));
  const config = { id: chainId, name: "Hardhat (in-process)", rpcUrl: "http://127.0.0.1:8545", local: true };
  const chain = chainFromConfig(config, { Token: token.address });
  const transport = custom(connection.provider);
  return {
    chain,
    accounts,
    token: token.address,
    client: (account) =>
      createTabulaClient({ chain, transport, ...(account ? { account: parseAccount(account) } : {}) }),
    without: (...names) => ({
      ...chain,
      contracts: Object.fromEntries(
        Object.entries(chain.contracts).filter(([name]) => !names.includes(name as ContractName)),
      ),
    }),
    close: () => connection.close(),
  };
}
