import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

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
