import type { Account, Address, Hash } from "viem";
import type { storageMarketAbi } from "../abi.ts";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { NoAccountError } from "../errors.ts";
import { allowance } from "../token/allowance.ts";
import { signPermit } from "../token/sign-permit.ts";
import {
  type RevertMappers,
  type WriteName,
  type WriteTabulaErrorType,
  type WriteTabulaParameters,
  writeTabula,
} from "../write.ts";

export type { RevertMappers };
export type MarketWriteName = WriteName<typeof storageMarketAbi>;
export type WriteMarketParameters<name extends MarketWriteName> = Omit<
  WriteTabulaParameters<"StorageMarket", name>,
  "contract"
>;
export type WriteMarketErrorType = WriteTabulaErrorType;

/**
 * Simulates a StorageMarket call, then sends it. A revert the caller named in `errors` becomes that named error and
 * nothing is sent; any other revert is thrown as viem decoded it.
 */
export async function writeMarket<name extends MarketWriteName>(
  client: TabulaClient,
  parameters: WriteMarketParameters<name>,
): Promise<Hash> {
  return await writeTabula(client, { ...parameters, contract: "StorageMarket" } as never);
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
