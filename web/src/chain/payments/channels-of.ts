import type { Address } from "viem";
import { getContractEvents } from "viem/actions";
import type { bandwidthChannelAbi } from "../abi.ts";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** The payment contracts whose channels have a payer and payees. */
export type ChannelContract = "BandwidthChannel" | "HashChainChannel" | "MerkleChannel" | "Lottery";

/**
 * Every channel of `contract` that `account` opened as payer or was opened to as payee, from its events
 * (`ChannelOpened`; for a Merkle channel `PayeeAllocated`; for a lottery lot `LotCreated` and `PayeeCovered`); a
 * bytes32 id is given as its number.
 */
export async function channelsOf(
  client: TabulaClient,
  parameters: { contract: ChannelContract; account: Address },
): Promise<{ channelId: bigint; role: "payer" | "payee" }[]> {
  if (parameters.contract === "MerkleChannel") return await merkleChannelsOf(client, parameters.account);
  if (parameters.contract === "Lottery") return await lotsOf(client, parameters.account);
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

async function merkleChannelsOf(
  client: TabulaClient,
  account: Address,
): Promise<{ channelId: bigint; role: "payer" | "payee" }[]> {
  const contract = deployedContract(client.chain, "MerkleChannel");
  const common = { address: contract.address, abi: contract.abi, fromBlock: 0n, strict: true } as const;
  const [paid, paying] = await Promise.all([
    getContractEvents(client, { ...common, eventName: "ChannelOpened", args: { payer: account } }),
    getContractEvents(client, { ...common, eventName: "PayeeAllocated", args: { payee: account } }),
  ]);
  return [
    ...paid.map((e) => ({ channelId: BigInt(e.args.channelId), role: "payer" as const })),
    ...paying.map((e) => ({ channelId: BigInt(e.args.channelId), role: "payee" as const })),
  ];
}

async function lotsOf(
  client: TabulaClient,
  account: Address,
): Promise<{ channelId: bigint; role: "payer" | "payee" }[]> {
  const contract = deployedContract(client.chain, "Lottery");
  const common = { address: contract.address, abi: contract.abi, fromBlock: 0n, strict: true } as const;
  const [paid, paying] = await Promise.all([
    getContractEvents(client, { ...common, eventName: "LotCreated", args: { payer: account } }),
    getContractEvents(client, { ...common, eventName: "PayeeCovered", args: { payee: account } }),
  ]);
  return [
    ...paid.map((e) => ({ channelId: e.args.lotId, role: "payer" as const })),
    ...paying.map((e) => ({ channelId: e.args.lotId, role: "payee" as const })),
  ];
}
