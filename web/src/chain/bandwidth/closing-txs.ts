import type { Hash } from "viem";
import { getContractEvents } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** The transactions that closed, challenged, claimed on and settled channel `channelId`, whichever side sent them. */
export async function channelClosingTxs(
  client: TabulaClient,
  parameters: { channelId: bigint },
): Promise<{ what: "close" | "challenge" | "claim" | "settle"; hash: Hash }[]> {
  const contract = deployedContract(client.chain, "BandwidthChannel");
  const common = {
    address: contract.address,
    abi: contract.abi,
    fromBlock: 0n,
    strict: true,
    args: { channelId: parameters.channelId },
  } as const;
  const [closed, challenged, claimed, settled] = await Promise.all([
    getContractEvents(client, { ...common, eventName: "ChannelClosing" }),
    getContractEvents(client, { ...common, eventName: "ChannelChallenged" }),
    getContractEvents(client, { ...common, eventName: "UsageClaimed" }),
    getContractEvents(client, { ...common, eventName: "ChannelSettled" }),
  ]);
  return [
    ...closed.map((e) => ({ what: "close" as const, hash: e.transactionHash })),
    ...challenged.map((e) => ({ what: "challenge" as const, hash: e.transactionHash })),
    ...claimed.map((e) => ({ what: "claim" as const, hash: e.transactionHash })),
    ...settled.map((e) => ({ what: "settle" as const, hash: e.transactionHash })),
  ];
}
