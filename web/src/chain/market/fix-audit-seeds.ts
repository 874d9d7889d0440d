import type { Account, Address, Hash } from "viem";
import type { TabulaClient } from "../client.ts";
import { AuditSeedExpiredError } from "./errors.ts";
import { writeMarket } from "./write-market.ts";

/** Fixes the seeds of challenged deals (their seed block must be mined), which starts each host's answer window. */
export async function fixAuditSeeds(
  client: TabulaClient,
  parameters: { dealIds: readonly bigint[]; account?: Account | Address },
): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "fixAuditSeeds",
    args: [parameters.dealIds],
    account: parameters.account,
    // Runs in the block after the seed block: simulate on top of the latest one.
    pending: true,
    errors: {
      StorageMarketAuditSeedExpired: ([dealId, seedBlock], cause) =>
        new AuditSeedExpiredError({ dealId: dealId as bigint, seedBlock: seedBlock as bigint, cause }),
    },
  });
}
