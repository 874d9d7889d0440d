import type { Account, Address, Hash } from "viem";
import type { TabulaClient } from "../client.ts";
import { NothingToClaimError } from "./errors.ts";
import { writeMarket } from "./write-market.ts";

/** Pays the host (owner, never its operator) every proven, unclaimed earning of these deals in one transaction. */
export async function claimEarnings(
  client: TabulaClient,
  parameters: { dealIds: readonly bigint[]; account?: Account | Address },
): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "claimEarnings",
    args: [parameters.dealIds],
    account: parameters.account,
    errors: { StorageMarketNothingToClaim: (_args, cause) => new NothingToClaimError({ cause }) },
  });
}
