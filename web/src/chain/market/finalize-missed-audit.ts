import type { Account, Address, Hash } from "viem";
import type { TabulaClient } from "../client.ts";
import { writeMarket } from "./write-market.ts";

/** After a missed window (anyone may send it): the collateral and unproven escrow go to the client. */
export async function finalizeMissedAudit(
  client: TabulaClient,
  parameters: { dealId: bigint; account?: Account | Address },
): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "finalizeMissedAudit",
    args: [parameters.dealId],
    account: parameters.account,
  });
}
