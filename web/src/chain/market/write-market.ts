import type {
  Account,
  Address,
  ContractFunctionArgs,
  ContractFunctionName,
  Hash,
  SimulateContractErrorType,
  WriteContractErrorType,
} from "viem";
import { simulateContract, writeContract } from "viem/actions";
import type { storageMarketAbi } from "../abi.ts";
import { type DeployedContractErrorType, deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { NoAccountError, revertOf } from "../errors.ts";
import { allowance } from "../token/allowance.ts";
import { signPermit } from "../token/sign-permit.ts";

type MarketAbi = typeof storageMarketAbi;
export type MarketWriteName = ContractFunctionName<MarketAbi, "nonpayable">;

/** Turns one custom error of the market (by name) into the app's named error, from its decoded arguments. */
export type RevertMappers = Partial<Record<string, (args: readonly unknown[], cause: unknown) => Error>>;

export interface WriteMarketParameters<name extends MarketWriteName> {
  functionName: name;
  args: ContractFunctionArgs<MarketAbi, "nonpayable", name>;
  account?: Account | Address | undefined;
  /** Simulate against the pending block (a call that reads the hash of the block just mined). */
  pending?: boolean;
  errors?: RevertMappers;
}

export type WriteMarketErrorType = DeployedContractErrorType | SimulateContractErrorType | WriteContractErrorType;

/**
 * Simulates a StorageMarket call, then sends it. A revert the caller named in `errors` becomes that named error and
 * nothing is sent; any other revert is thrown as viem decoded it.
 */
export async function writeMarket<name extends MarketWriteName>(
  client: TabulaClient,
  parameters: WriteMarketParameters<name>,
): Promise<Hash> {
  const market = deployedContract(client.chain, "StorageMarket");
  const account = parameters.account ?? client.account;
  let request: unknown;
  try {
    ({ request } = await simulateContract(client, {
      address: market.address,
      abi: market.abi,
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

/**
 * The owner's permit for the market to pull `amount` (one signature, no approval transaction), in the shape the
 * market's `…permit` parameters take. A permit sets the market's allowance; it grants `amount` plus `auditBudget`,
 * which the call leaves as allowance: the owner's budget for challenge bonds. By default that is the allowance
 * standing now, so staking or escrowing never spends or wipes a budget the owner set.
 */
export async function marketPermit(
  client: TabulaClient,
  parameters: {
    account: Account | Address | undefined;
    amount: bigint;
    auditBudget?: bigint;
    deadline: bigint;
    action: string;
  },
) {
  const { account, amount, deadline, action } = parameters;
  if (!account) throw new NoAccountError({ action });
  const market = deployedContract(client.chain, "StorageMarket");
  const owner = typeof account === "string" ? account : account.address;
  const auditBudget = parameters.auditBudget ?? (await allowance(client, { owner, spender: market.address }));
  if (auditBudget < 0n) throw new RangeError(`auditBudget must not be negative, got ${auditBudget}`);
  const value = amount + auditBudget;
  const permit = await signPermit(client, { spender: market.address, value, deadline, account });
  return { account, permit: { value, deadline, v: permit.v, r: permit.r, s: permit.s } };
}
