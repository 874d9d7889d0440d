import type { Account, Address, Hash } from "viem";
import type { TabulaClient } from "../client.ts";
import { writeMarket } from "./write-market.ts";

/**
 * Completes a deal whose term is over and that no audit holds open (anyone may send it; the host's key does): the
 * host is paid the rest of its escrow and its collateral is freed.
 */
export async function completeDeal(
  client: TabulaClient,
  parameters: { dealId: bigint; account?: Account | Address },
): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "completeDeal",
    args: [parameters.dealId],
    account: parameters.account,
  });
}
