import type { Hash, Hex } from "viem";
import { getContractEvents } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** How a closed hash-chain channel ended: redeemed (units paid, the rest refunded) or reclaimed whole. */
export type HashChainOutcome =
  | { how: "redeemed"; depth: bigint; paid: bigint; refunded: bigint; hash: Hash }
  | { how: "reclaimed"; amount: bigint; hash: Hash };

/** The event that closed channel `channelId`, if it is closed. */
export async function hashChainOutcome(
  client: TabulaClient,
  parameters: { channelId: Hex },
): Promise<HashChainOutcome | undefined> {
  const contract = deployedContract(client.chain, "HashChainChannel");
  const common = { address: contract.address, abi: contract.abi, fromBlock: 0n, strict: true } as const;
  const [redeemed] = await getContractEvents(client, {
    ...common,
    eventName: "ChannelRedeemed",
    args: { channelId: parameters.channelId },
  });
  if (redeemed) {
    const { depth, paid, refunded } = redeemed.args;
    return { how: "redeemed", depth, paid, refunded, hash: redeemed.transactionHash };
  }
  const [reclaimed] = await getContractEvents(client, {
    ...common,
    eventName: "ChannelReclaimed",
    args: { channelId: parameters.channelId },
  });
  if (reclaimed) return { how: "reclaimed", amount: reclaimed.args.amount, hash: reclaimed.transactionHash };
  return undefined;
}
