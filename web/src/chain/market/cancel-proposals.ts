import type { Account, Address, Hash } from "viem";
import type { TabulaClient } from "../client.ts";
import { notClient } from "./revert-mappers.ts";
import { writeMarket } from "./write-market.ts";

/** Cancels proposals no host accepted (also after their `acceptBy`): their escrow back in one transfer. */
export async function cancelProposals(
  client: TabulaClient,
  parameters: { dealIds: readonly bigint[]; account?: Account | Address },
): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "cancelProposals",
    args: [parameters.dealIds],
    account: parameters.account,
    errors: notClient,
  });
}
