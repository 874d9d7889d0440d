import type { Account, Address, Hash } from "viem";
import type { TabulaClient } from "../client.ts";
import { marketPermit, writeMarket } from "./write-market.ts";

/** Adds `amount` to the host's stake with one permit signature. */
export async function addStake(
  client: TabulaClient,
  parameters: { amount: bigint; permitDeadline: bigint; account?: Account | Address },
): Promise<Hash> {
  const { account, permit } = await marketPermit(client, {
    account: parameters.account ?? client.account,
    amount: parameters.amount,
    deadline: parameters.permitDeadline,
    action: "Adding stake",
  });
  return await writeMarket(client, { functionName: "addStake", args: [parameters.amount, permit], account });
}
