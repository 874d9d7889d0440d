import type { Account, Address, Hash, Hex } from "viem";
import type { TabulaClient } from "../client.ts";
import { writeMarket } from "./write-market.ts";

/** Changes the host's peer id, capacity and price (per GiB per month); deals already proposed keep their price. */
export async function updateHost(
  client: TabulaClient,
  parameters: { peerId: Hex; capacityBytes: bigint; pricePerGiBMonth: bigint; account?: Account | Address },
): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "updateHost",
    args: [parameters.peerId, parameters.capacityBytes, parameters.pricePerGiBMonth],
    account: parameters.account,
  });
}
