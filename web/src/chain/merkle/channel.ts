import type { Address, Hex, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** A Merkle channel as the contract keeps it (`getChannel`; a zero payer means no such channel). */
export interface MerkleChannelInfo {
  payer: Address;
  /** Unix s: payees redeem before it, the payer takes back what is left after it. */
  expiresAt: bigint;
  /** Funds not yet redeemed nor reclaimed. */
  remaining: bigint;
  root: Hex;
}

export type GetMerkleChannelErrorType = ReadContractErrorType;

/** Reads Merkle channel `channelId`. */
export async function getMerkleChannel(
  client: TabulaClient,
  parameters: { channelId: Hex },
): Promise<MerkleChannelInfo> {
  const contract = deployedContract(client.chain, "MerkleChannel");
  const c = await readContract(client, {
    address: contract.address,
    abi: contract.abi,
    functionName: "getChannel",
    args: [parameters.channelId],
  });
  return { payer: c.payer, expiresAt: BigInt(c.expiresAt), remaining: c.remaining, root: c.root };
}

/** What is left of `payee`'s allocation in channel `channelId`: what its unredeemed tokens can still draw on. */
export async function merkleAllocationOf(
  client: TabulaClient,
  parameters: { channelId: Hex; payee: Address },
): Promise<bigint> {
  const contract = deployedContract(client.chain, "MerkleChannel");
  return await readContract(client, {
    address: contract.address,
    abi: contract.abi,
    functionName: "allocationOf",
    args: [parameters.channelId, parameters.payee],
  });
}
