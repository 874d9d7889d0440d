import type {
  Abi,
  Account,
  Address,
  ContractFunctionArgs,
  ContractFunctionName,
  Hash,
  SimulateContractErrorType,
  WriteContractErrorType,
} from "viem";
import { simulateContract, writeContract } from "viem/actions";
import { type DeployedContractErrorType, deployedContract } from "./chain.ts";
import type { TabulaClient } from "./client.ts";
import type { CONTRACT_ABIS, ContractName } from "./contracts.ts";
import { revertOf } from "./errors.ts";

/** Turns one custom error of a contract (by name) into the app's named error, from its decoded arguments. */
export type RevertMappers = Partial<Record<string, (args: readonly unknown[], cause: unknown) => Error>>;

export type WriteName<abi extends Abi> = ContractFunctionName<abi, "nonpayable">;

export interface WriteTabulaParameters<
  contract extends ContractName,
  name extends WriteName<(typeof CONTRACT_ABIS)[contract]>,
> {
  contract: contract;
  functionName: name;
  args: ContractFunctionArgs<(typeof CONTRACT_ABIS)[contract], "nonpayable", name>;
  account?: Account | Address | undefined;
  /** Simulate against the pending block (a call that reads the hash of the block just mined). */
  pending?: boolean;
  errors?: RevertMappers;
}

export type WriteTabulaErrorType = DeployedContractErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Simulates a call of one of Tabula's contracts, then sends it. A revert the caller named in `errors` becomes that
 * named error and nothing is sent; any other revert is thrown as viem decoded it.
 */
export async function writeTabula<
  contract extends ContractName,
  name extends WriteName<(typeof CONTRACT_ABIS)[contract]>,
>(client: TabulaClient, parameters: WriteTabulaParameters<contract, name>): Promise<Hash> {
  const deployed = deployedContract(client.chain, parameters.contract);
  const account = parameters.account ?? client.account;
  let request: unknown;
  try {
    ({ request } = await simulateContract(client, {
      address: deployed.address,
      abi: deployed.abi,
      functionName: parameters.functionName,
      args: parameters.args,
      ...(account ? { account } : {}),
      ...(parameters.pending ? { blockTag: "pending" as const } : {}),
    } as never));
  } catch (error) {
    const revert = revertOf(error);
    const mapped = revert && parameters.errors?.[revert.errorName];
    if (revert && mapped) throw mapped(revert.args, error);
    throw error;
  }
  return await writeContract(client, request as never);
}
