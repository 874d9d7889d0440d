import type { Address, Hex, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** A hash-chain channel as the contract keeps it (`getChannel`; a zero payer means no such channel). */
export interface HashChainChannelInfo {
  payer: Address;
  payee: Address;
  /** Unix s: the payee redeems before it, the payer reclaims after it. */
  expiresAt: bigint;
  /** Redeemed or reclaimed. */
  closed: boolean;
  units: number;
  unitValue: bigint;
  anchor: Hex;
}

export type GetHashChainChannelErrorType = ReadContractErrorType;

/** Reads hash-chain channel `channelId`. */
export async function getHashChainChannel(
  client: TabulaClient,
  parameters: { channelId: Hex },
): Promise<HashChainChannelInfo> {
  const contract = deployedContract(client.chain, "HashChainChannel");
  const c = await readContract(client, {
    address: contract.address,
    abi: contract.abi,
    functionName: "getChannel",
    args: [parameters.channelId],
  });
  return {
    payer: c.payer,
    payee: c.payee,
    expiresAt: BigInt(c.expiresAt),
    closed: c.closed,
    units: Number(c.units),
    unitValue: c.unitValue,
    anchor: c.anchor,
  };
}
