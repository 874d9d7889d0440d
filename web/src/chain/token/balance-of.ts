import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { type DeployedContractErrorType, deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

export interface BalanceOfParameters {
  /** The holder. */
  address: Address;
  /** The balance at this block; the latest when left out. */
  blockNumber?: bigint;
}

/** The holder's balance in token base units (wei of TAB). */
export type BalanceOfReturnType = bigint;

export type BalanceOfErrorType = DeployedContractErrorType | ReadContractErrorType;

/** Reads how many tokens `address` holds. */
export async function balanceOf(client: TabulaClient, parameters: BalanceOfParameters): Promise<BalanceOfReturnType> {
  const token = deployedContract(client.chain, "Token");
  return await readContract(client, {
    address: token.address,
    abi: token.abi,
    functionName: "balanceOf",
    args: [parameters.address],
    ...(parameters.blockNumber === undefined ? {} : { blockNumber: parameters.blockNumber }),
  });
}
