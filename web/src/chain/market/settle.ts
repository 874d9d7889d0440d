import type { Account, Address, Hash } from "viem";
import type { TabulaClient } from "../client.ts";
import { NotDealClientError } from "./errors.ts";
import { type RevertMappers, writeMarket } from "./write-market.ts";

const notClient: RevertMappers = {
  StorageMarketNotDealClient: ([dealId, account], cause) =>
    new NotDealClientError({ dealId: dealId as bigint, account: account as Address, cause }),
};

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
