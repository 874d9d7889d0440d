import type {
  Account,
  Address,
  Hash,
  ReadContractErrorType,
  SimulateContractErrorType,
  WriteContractErrorType,
} from "viem";
import { readContract, simulateContract, writeContract } from "viem/actions";
import { type DeployedContractErrorType, deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** Role bits of the OperatorRegistry: what an operator key may do for its owner. */
export const OperatorRole = {
  /** Sign receipts σ and answer audits. */
  Host: 1,
  /** Challenge the owner's deals and end them. */
  Client: 2,
  /** Sign usage units, tokens and tickets; close and reveal. */
  Payer: 4,
  /** Countersign units, confirm, redeem and claim. */
  Payee: 8,
} as const;

export interface AuthorizeOperatorParameters {
  /** The key the tab keeps. */
  operator: Address;
  /** A bit set of {@link OperatorRole}; 0 revokes. */
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

/** What `owner` granted `operator` now: its roles (0 when none, revoked or expired) and expiry. */
export async function operatorRoles(
  client: TabulaClient,
  parameters: { owner: Address; operator: Address; now: bigint },
): Promise<{ roles: number; expiresAt: bigint }> {
  const registry = deployedContract(client.chain, "OperatorRegistry");
  const { roles, expiresAt } = await readContract(client, {
    address: registry.address,
    abi: registry.abi,
    functionName: "authorization",
    args: [parameters.owner, parameters.operator],
  });
  return { roles: BigInt(expiresAt) > parameters.now ? roles : 0, expiresAt: BigInt(expiresAt) };
}

export type OperatorRolesErrorType = ReadContractErrorType;
