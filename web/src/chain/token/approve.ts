import type { Account, Address, Hash, SimulateContractErrorType, WriteContractErrorType } from "viem";
import { simulateContract, writeContract } from "viem/actions";
import { type DeployedContractErrorType, deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { NoAccountError } from "../errors.ts";

export interface ApproveParameters {
  spender: Address;
  /** The allowance to set (not added to the current one). */
  value: bigint;
  account?: Account | Address;
}

export type ApproveErrorType =
  | DeployedContractErrorType
  | NoAccountError
  | SimulateContractErrorType
  | WriteContractErrorType;

/** Sets how many token base units `spender` may move from the account. */
export async function approve(client: TabulaClient, parameters: ApproveParameters): Promise<Hash> {
  const token = deployedContract(client.chain, "Token");
  const account = parameters.account ?? client.account;
  if (!account) throw new NoAccountError({ action: "Setting an allowance" });
  const { request } = await simulateContract(client, {
    address: token.address,
    abi: token.abi,
    functionName: "approve",
    args: [parameters.spender, parameters.value],
    account,
  });
  return await writeContract(client, request);
}
