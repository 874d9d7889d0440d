import type { Address } from "viem";
import { getContractEvents } from "viem/actions";
import type { bandwidthChannelAbi } from "../abi.ts";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** The payment contracts whose `ChannelOpened` event indexes both payer and payee. */
export type TwoPartyChannelContract = "BandwidthChannel" | "HashChainChannel";

/**
 * Every channel of `contract` that `account` opened as payer or was opened to as payee, from its `ChannelOpened`
 * events; a bytes32 id is given as its number.
 */
export async function channelsOf(
  client: TabulaClient,
  parameters: { contract: TwoPartyChannelContract; account: Address },
): Promise<{ channelId: bigint; role: "payer" | "payee" }[]> {
  const contract = deployedContract(client.chain, parameters.contract);
  const read = (args: { payer: Address } | { payee: Address }) =>
    getContractEvents(client, {
      address: contract.address,
      // Both events are `ChannelOpened(id indexed, payer indexed, payee indexed, …)`; only the id's type differs.
      abi: contract.abi as typeof bandwidthChannelAbi,
      eventName: "ChannelOpened",
      args,
      fromBlock: 0n,
      strict: true,
    });
  const [paid, paying] = await Promise.all([read({ payer: parameters.account }), read({ payee: parameters.account })]);
  return [
    ...paid.map((e) => ({ channelId: BigInt(e.args.channelId), role: "payer" as const })),
    ...paying.map((e) => ({ channelId: BigInt(e.args.channelId), role: "payee" as const })),
  ];
}
