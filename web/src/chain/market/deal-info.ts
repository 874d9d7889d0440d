import type { Address, Hex, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** `IStorageMarket.DealStatus`. */
export const DealStatus = {
  None: 0,
  Proposed: 1,
  Active: 2,
  Completed: 3,
  Ended: 4,
  Slashed: 5,
  Cancelled: 6,
} as const;

/** A deal as the market keeps it (`dealInfo`). */
export interface DealInfo {
  status: number;
  client: Address;
  host: Address;
  shardRoot: Hex;
  shardSizeBytes: bigint;
  durationSeconds: bigint;
  price: bigint;
  acceptBy: bigint;
  startedAt: bigint;
  endsAt: bigint;
  /** The EIP-712 struct hash of the terms σ must sign. */
  receiptHash: Hex;
}

/** Reads deal `dealId` (status None when there is no such deal). */
export async function dealInfo(client: TabulaClient, dealId: bigint): Promise<DealInfo> {
  const market = deployedContract(client.chain, "StorageMarket");
  const d = await readContract(client, {
    address: market.address,
    abi: market.abi,
    functionName: "dealInfo",
    args: [dealId],
  });
  return {
    status: d.status,
    client: d.client,
    host: d.host,
    shardRoot: d.shardRoot,
    shardSizeBytes: d.shardSizeBytes,
    durationSeconds: d.durationSeconds,
    price: d.price,
    acceptBy: d.acceptBy,
    startedAt: d.startedAt,
    endsAt: d.endsAt,
    receiptHash: d.receiptHash,
  };
}

export type DealInfoErrorType = ReadContractErrorType;
