import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** A deal's open audit as its host's tab needs it. */
export interface OpenAudit {
  dealId: bigint;
  /** The owner whose allowance put up the bond. */
  challenger: Address;
  seedBlock: bigint;
  /** Unix time the answer window closes; zero until the seed is fixed. */
  deadline: bigint;
  /** The chunk the host must prove. */
  leafIndex: bigint;
}

/** The deal's open audit, or undefined when none is open. */
export async function openAudit(client: TabulaClient, dealId: bigint): Promise<OpenAudit | undefined> {
  const market = deployedContract(client.chain, "StorageMarket");
  const info = await readContract(client, {
    address: market.address,
    abi: market.abi,
    functionName: "auditInfo",
    args: [dealId],
  });
  if (info.challenger === "0x0000000000000000000000000000000000000000") return undefined;
  const leafIndex = await readContract(client, {
    address: market.address,
    abi: market.abi,
    functionName: "auditLeafIndex",
    args: [dealId],
    blockTag: "pending",
  });
  return { dealId, challenger: info.challenger, seedBlock: info.seedBlock, deadline: info.deadline, leafIndex };
}

export type OpenAuditErrorType = ReadContractErrorType;
