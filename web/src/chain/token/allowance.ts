import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { type DeployedContractErrorType, deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

export interface AllowanceParameters {
  owner: Address;
  spender: Address;
}

/** Token base units `spender` may still move from `owner`. */
export type AllowanceReturnType = bigint;

export type AllowanceErrorType = DeployedContractErrorType | ReadContractErrorType;

/** Reads what `spender` may still take from `owner` (e.g. the market's audit budget of a client). */
export async function allowance(client: TabulaClient, parameters: AllowanceParameters): Promise<AllowanceReturnType> {
  const token = deployedContract(client.chain, "Token");
  return await readContract(client, {
    address: token.address,
    abi: token.abi,
    functionName: "allowance",
    args: [parameters.owner, parameters.spender],
  });
}
