import type { Account, Address } from "viem";
import type { TabulaClient } from "../client.ts";
import { UnbondingNotReadyError } from "./errors.ts";
import { writeMarket } from "./write-market.ts";

/** Withdraws the stake whose unbonding delay has passed. */
export async function withdrawStake(client: TabulaClient, parameters: { account?: Account | Address } = {}) {
  return await writeMarket(client, {
    functionName: "withdrawStake",
    args: [],
    account: parameters.account,
    errors: {
      StorageMarketUnbondingNotReady: ([host, readyAt], cause) =>
        new UnbondingNotReadyError({ host: host as Address, readyAt: readyAt as bigint, cause }),
    },
  });
}
