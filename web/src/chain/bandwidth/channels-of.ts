import type { Address } from "viem";
import { getContractEvents } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** Every channel `account` opened as payer or was opened to as payee, from the contract's `ChannelOpened` events. */
export async function channelsOf(
  client: TabulaClient,
  parameters: { account: Address },
): Promise<{ channelId: bigint; role: "payer" | "payee" }[]> {
  const contract = deployedContract(client.chain, "BandwidthChannel");
  const read = (args: { payer: Address } | { payee: Address }) =>
    getContractEvents(client, {
      address: contract.address,
      abi: contract.abi,
      eventName: "ChannelOpened",
      args,
      fromBlock: 0n,
      strict: true,
    });
  const [paid, paying] = await Promise.all([read({ payer: parameters.account }), read({ payee: parameters.account })]);
  return [
    ...paid.map((e) => ({ channelId: e.args.channelId, role: "payer" as const })),
    ...paying.map((e) => ({ channelId: e.args.channelId, role: "payee" as const })),
  ];
}
