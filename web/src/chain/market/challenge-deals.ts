import type { Account, Address, Hash } from "viem";
import type { TabulaClient } from "../client.ts";
import { notOperator } from "./revert-mappers.ts";
import { writeMarket } from "./write-market.ts";

export interface ChallengeParameters {
  dealIds: readonly bigint[];
  /** Whose allowance pays each deal's challenge bond: the sender, or the owner whose client operator it is. */
  bondPayer: Address;
  account?: Account | Address;
}

/**
 * Challenges deals (usually all of a file's) in one transaction, each bond pulled from `bondPayer`'s allowance to
 * the market (the client's audit budget). The audited leaf is drawn from the next block's hash: fix it with
 * {@link fixAuditSeeds} once that block is mined.
 */
export async function challengeDeals(client: TabulaClient, parameters: ChallengeParameters): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "challenge",
    args: [parameters.dealIds, parameters.bondPayer],
    account: parameters.account,
    errors: notOperator,
  });
}
