import type { Address } from "viem";
import {
  bandwidthChannelAbi,
  hashChainChannelAbi,
  lotteryAbi,
  merkleChannelAbi,
  operatorRegistryAbi,
  storageMarketAbi,
  tabulaGovernorAbi,
  tabulaTimelockAbi,
  tokenAbi,
} from "./abi.ts";

/** Every contract the deploy script records (contracts/deploy), by the name it records it under, with its ABI. */
export const CONTRACT_ABIS = {
  Token: tokenAbi,
  OperatorRegistry: operatorRegistryAbi,
  StorageMarket: storageMarketAbi,
  BandwidthChannel: bandwidthChannelAbi,
  HashChainChannel: hashChainChannelAbi,
  MerkleChannel: merkleChannelAbi,
  Lottery: lotteryAbi,
  TabulaGovernor: tabulaGovernorAbi,
  TabulaTimelock: tabulaTimelockAbi,
} as const;

export type ContractName = keyof typeof CONTRACT_ABIS;

export const CONTRACT_NAMES = Object.keys(CONTRACT_ABIS) as ContractName[];

/** One deployed contract: its address on the chain and its ABI, so calls on it are fully typed. */
export interface TabulaContract<name extends ContractName = ContractName> {
  address: Address;
  abi: (typeof CONTRACT_ABIS)[name];
}

/** The contracts deployed on one chain; a chain may lack some (a partial deployment, or a chain of tokens only). */
export type TabulaContracts = { readonly [name in ContractName]?: TabulaContract<name> };

/** Types a deployments entry (name → address): known names get their ABI, unknown names are left out. */
export function contractsFromAddresses(addresses: Readonly<Record<string, Address>>): TabulaContracts {
  const contracts: { [name in ContractName]?: TabulaContract<name> } = {};
  for (const name of CONTRACT_NAMES) {
    const address = addresses[name];
    if (address) Object.assign(contracts, { [name]: { address, abi: CONTRACT_ABIS[name] } });
  }
  return contracts;
}
