import type { Account, Address, Hash } from "viem";
import type { TabulaClient } from "../client.ts";
import { InsufficientFreeStakeError } from "./errors.ts";
import { writeMarket } from "./write-market.ts";

/** Starts unbonding `amount` of the host's free stake (stake no running deal has locked). */
export async function beginUnbonding(
  client: TabulaClient,
  parameters: { amount: bigint; account?: Account | Address },
): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "beginUnbonding",
    args: [parameters.amount],
    account: parameters.account,
    errors: {
      StorageMarketInsufficientFreeStake: ([host, freeStake, required], cause) =>
        new InsufficientFreeStakeError({
          host: host as Address,
          freeStake: freeStake as bigint,
          required: required as bigint,
          cause,
        }),
    },
  });
}
