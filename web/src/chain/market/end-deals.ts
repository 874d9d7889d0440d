import type { Account, Address, Hash } from "viem";
import type { TabulaClient } from "../client.ts";
import { notClient } from "./revert-mappers.ts";
import { writeMarket } from "./write-market.ts";

/** Ends a file's deals early (client or its client operator): the host is paid up to now, the rest refunded. */
export async function endDeals(
  client: TabulaClient,
  parameters: { dealIds: readonly bigint[]; account?: Account | Address },
): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "endDeals",
    args: [parameters.dealIds],
    account: parameters.account,
    errors: notClient,
  });
}
