import { type Chain, defineChain } from "viem";
import type { TabulaConfig } from "../lib/config.ts";
import { type ContractName, contractsFromAddresses, type TabulaContract, type TabulaContracts } from "./contracts.ts";
import { ContractNotDeployedError } from "./errors.ts";

/** A viem chain that carries Tabula's deployed contracts, typed with their ABIs, and whether it is a dev chain. */
export interface TabulaChain extends Chain {
  contracts: TabulaContracts;
  /** A development chain: unlocked accounts fund burners, the token has a faucet. */
  local: boolean;
}

/** The viem chain described by the run-time config, with the contracts deployed on it. */
export function chainFromConfig(config: TabulaConfig["chain"], addresses: TabulaConfig["contracts"] = {}): TabulaChain {
  return {
    ...defineChain({
      id: config.id,
      name: config.name,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [config.rpcUrl] } },
      ...(config.explorerUrl ? { blockExplorers: { default: { name: "Explorer", url: config.explorerUrl } } } : {}),
      testnet: config.local,
    }),
    contracts: contractsFromAddresses(addresses),
    local: config.local,
  };
}

export type DeployedContractErrorType = ContractNotDeployedError;

/** The contract `name` on `chain`; {@link ContractNotDeployedError} naming both when the chain lacks it. */
export function deployedContract<name extends ContractName>(chain: TabulaChain, name: name): TabulaContract<name> {
  const contract = chain.contracts[name] as TabulaContract<name> | undefined;
  if (!contract) throw new ContractNotDeployedError({ contract: name, chainId: chain.id });
  return contract;
}
