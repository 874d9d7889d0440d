import hre from "hardhat";
import { type Account, type Address, custom, type Hex, http, parseEther, type Transport } from "viem";
import { parseAccount } from "viem/accounts";
import { deployContract, getAddresses, getChainId } from "viem/actions";
import {
  bandwidthChannelAbi,
  hashChainChannelAbi,
  lotteryAbi,
  merkleChannelAbi,
  operatorRegistryAbi,
  storageMarketAbi,
  tokenAbi,
} from "../abi.ts";
import { chainFromConfig, type TabulaChain } from "../chain.ts";
import { createTabulaClient, type TabulaClient } from "../client.ts";
import type { ContractName } from "../contracts.ts";
import { waitForSuccess } from "../receipt.ts";
import { faucetSync } from "../token/faucet.ts";

/** What the deployer holds after the token's deployment. */
export const TEST_INITIAL_SUPPLY_WEI = parseEther("1000000");

export interface TestChain {
  /** The chain, with the token deployed; its RPC URL answers when started with `http`. */
  chain: TabulaChain;
  /** The node's unlocked accounts; the first deployed the token and holds its supply. */
  accounts: Address[];
  token: Address;
  /** A client on the chain, sending from `account` (local, or an unlocked address) when given. */
  client(account?: Account | Address): TabulaClient;
  /** The same chain with some contracts left out, to meet a partial deployment. */
  without(...names: ContractName[]): TabulaChain;
  /** Gives each address `tokens` (default 1000 TAB, from the token's faucet; 0 for none) and `eth` for gas (default 10). */
  fund(addresses: readonly Address[], amounts?: { tokens?: bigint; eth?: bigint }): Promise<void>;
  /** Moves the chain's clock `seconds` ahead and mines a block. */
  advance(seconds: number | bigint): Promise<void>;
  close(): Promise<void>;
}

/** The market's parameters on a test chain (as contracts/deploy/market.ts gives local chains). */
export const TEST_MARKET_PARAMETERS = {
  minStake: parseEther("100"),
  collateralBps: 20_000,
  protocolFeeBps: 100,
  auditWindowSeconds: 120,
  unbondingDelaySeconds: 300,
  challengeBond: parseEther("0.01"),
} as const;

/** The bandwidth channel's confirmation and challenge windows on a test chain (as local chains deploy it). */
export const TEST_CHANNEL_WINDOWS = { confirmSeconds: 3600n, challengeSeconds: 24n * 3600n } as const;

/** The lottery's reveal, claim and sharing windows on a test chain (as local chains deploy it). */
export const TEST_LOTTERY_WINDOWS = {
  revealSeconds: 3600n,
  claimSeconds: 24n * 3600n,
  shareSeconds: 24n * 3600n,
} as const;

/** Who receives the market's protocol fees on a test chain. */
export const TEST_TREASURY: Address = "0x00000000000000000000000000000000007ea5e7";

/**
 * Hardhat's EVM in this process with the platform token deployed, its faucet on or off: chain actions run against
 * real contract code and real balances. With `http`, the EVM also answers JSON-RPC on a free loopback port, for
 * code that dials the chain's URL itself (wagmi, the burner's provider). With `market`, the operator registry and the
 * storage market are deployed too, with {@link TEST_MARKET_PARAMETERS}, the first account as owner. With
 * `channels`, the operator registry, the bandwidth channel (with {@link TEST_CHANNEL_WINDOWS}), the hash-chain
 * channel, the Merkle channel and the lottery (with {@link TEST_LOTTERY_WINDOWS}).
 */
export async function startTestChain(
  options: { faucet?: boolean; http?: boolean; market?: boolean; channels?: boolean } = {},
): Promise<TestChain> {
  let transport: Transport;
  let rpcUrl = "http://127.0.0.1:8545";
  let close: () => Promise<void>;
  if (options.http) {
    const server = await hre.network.createServer(undefined, "127.0.0.1", 0);
    const { address, port } = await server.listen();
    rpcUrl = `http://${address}:${port}`;
    transport = http(rpcUrl);
    close = () => server.close();
  } else {
    const connection = await hre.network.create();
    transport = custom(connection.provider);
    close = () => connection.close();
  }
  const bare = createTabulaClient({ chain: chainFromConfig({ id: 1, name: "", rpcUrl, local: true }), transport });
  const accounts = await getAddresses(bare);
  const deployer = accounts[0] as Address;
  const { bytecode } = await hre.artifacts.readArtifact("Token");
  const hash = await deployContract(bare, {
    abi: tokenAbi,
    bytecode: bytecode as Hex,
    args: [deployer, TEST_INITIAL_SUPPLY_WEI, options.faucet ?? true],
    account: deployer,
    chain: null,
  });
  const { contractAddress } = await waitForSuccess(bare, { hash, what: "Deploying the token" });
  const token = contractAddress as Address;
  const addresses: Record<string, Address> = { Token: token };
  const deploy = async (
    name: string,
    abi:
      | typeof operatorRegistryAbi
      | typeof storageMarketAbi
      | typeof bandwidthChannelAbi
      | typeof hashChainChannelAbi
      | typeof merkleChannelAbi
      | typeof lotteryAbi,
    args: unknown[],
  ) => {
    const artifact = await hre.artifacts.readArtifact(name);
    const deployed = await deployContract(bare, {
      abi,
      bytecode: artifact.bytecode as Hex,
      args: args as never,
      account: deployer,
      chain: null,
    });
    const receipt = await waitForSuccess(bare, { hash: deployed, what: `Deploying ${name}` });
    return receipt.contractAddress as Address;
  };
  if (options.market || options.channels) {
    addresses.OperatorRegistry = await deploy("OperatorRegistry", operatorRegistryAbi, []);
  }
  if (options.channels) {
    addresses.BandwidthChannel = await deploy("BandwidthChannel", bandwidthChannelAbi, [
      token,
      addresses.OperatorRegistry,
      TEST_CHANNEL_WINDOWS.confirmSeconds,
      TEST_CHANNEL_WINDOWS.challengeSeconds,
    ]);
    addresses.HashChainChannel = await deploy("HashChainChannel", hashChainChannelAbi, [
      token,
      addresses.OperatorRegistry,
    ]);
    addresses.MerkleChannel = await deploy("MerkleChannel", merkleChannelAbi, [token, addresses.OperatorRegistry]);
    addresses.Lottery = await deploy("Lottery", lotteryAbi, [
      token,
      addresses.OperatorRegistry,
      TEST_LOTTERY_WINDOWS.revealSeconds,
      TEST_LOTTERY_WINDOWS.claimSeconds,
      TEST_LOTTERY_WINDOWS.shareSeconds,
    ]);
  }
  if (options.market) {
    addresses.StorageMarket = await deploy("StorageMarket", storageMarketAbi, [
      token,
      addresses.OperatorRegistry,
      deployer,
      TEST_TREASURY,
      TEST_MARKET_PARAMETERS,
    ]);
  }
  const config = { id: await getChainId(bare), name: "Hardhat (in-process)", rpcUrl, local: true };
  const chain = chainFromConfig(config, addresses);
  return {
    chain,
    accounts,
    token,
    client: (account) =>
      createTabulaClient({ chain, transport, ...(account ? { account: parseAccount(account) } : {}) }),
    async fund(addresses, amounts = {}) {
      const client = createTabulaClient({ chain, transport });
      const tokens = amounts.tokens ?? parseEther("1000");
      for (const address of addresses) {
        if (tokens > 0n) {
          await faucetSync(createTabulaClient({ chain, transport, account: parseAccount(deployer) }), {
            to: address,
            amount: tokens,
          });
        }
        await client.request({
          method: "hardhat_setBalance" as never,
          params: [address, `0x${(amounts.eth ?? parseEther("10")).toString(16)}`] as never,
        });
      }
    },
    async advance(seconds) {
      const client = createTabulaClient({ chain, transport });
      await client.request({ method: "evm_increaseTime" as never, params: [Number(seconds)] as never });
      await client.request({ method: "evm_mine" as never, params: [] as never });
    },
    without: (...names) => ({
      ...chain,
      contracts: Object.fromEntries(
        Object.entries(chain.contracts).filter(([name]) => !names.includes(name as ContractName)),
      ),
    }),
    close,
  };
}
