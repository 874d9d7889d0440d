import type { Account, Address, Hash, SimulateContractErrorType, WriteContractErrorType } from "viem";
import { simulateContract, writeContract } from "viem/actions";
import { type DeployedContractErrorType, deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

export interface AuthorizeOperatorParameters {
  /** The key the tab keeps. */
  operator: Address;
  /** A bit set of {@link OperatorRole} (./roles.ts); 0 revokes. */
  roles: number;
  /** Unix seconds after which the authorization lapses by itself. */
  expiresAt: bigint;
  /** The owner's wallet; the client's account when left out. */
  account?: Account | Address;
}

export type AuthorizeOperatorErrorType = DeployedContractErrorType | SimulateContractErrorType | WriteContractErrorType;

/** The owner authorizes (or, with `roles: 0`, revokes) the tab's operator key: one transaction, one wallet prompt. */
export async function authorizeOperator(client: TabulaClient, parameters: AuthorizeOperatorParameters): Promise<Hash> {
  const registry = deployedContract(client.chain, "OperatorRegistry");
  const account = parameters.account ?? client.account;
  const { request } = await simulateContract(client, {
    address: registry.address,
    abi: registry.abi,
    functionName: "setOperator",
    args: [parameters.operator, parameters.roles, Number(parameters.expiresAt)],
    ...(account ? { account } : {}),
  });
  return await writeContract(client, request);
}
