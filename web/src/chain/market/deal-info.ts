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

/** The name of a deal's status number ("None" for one the market does not know). */
export function dealStatusName(status: number): keyof typeof DealStatus {
  return (Object.keys(DealStatus) as (keyof typeof DealStatus)[])[status] ?? "None";
}

/** A deal as the market keeps it (`dealInfo`). */
export interface DealInfo {
  status: number;
  client: Address;
  host: Address;
  shardRoot: Hex;
  shardSizeBytes: bigint;
  durationSeconds: bigint;
  price: bigint;
  /** Pay the host has proven so far (up to its last answered audit), and what it already claimed of it. */
  earned: bigint;
  claimed: bigint;
  acceptBy: bigint;
  startedAt: bigint;
  endsAt: bigint;
  /** Collateral the deal locked from the host's stake (slashed to the client on a missed audit). */
  collateral: bigint;
  /** Bond a challenge of this deal puts up (paid to the host when it answers). */
  challengeBond: bigint;
  /** Seconds the host has to answer a challenge once its seed is fixed. */
  auditWindowSeconds: bigint;
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
    earned: d.earned,
    claimed: d.claimed,
    acceptBy: d.acceptBy,
    startedAt: d.startedAt,
    endsAt: d.endsAt,
    collateral: d.collateral,
    challengeBond: d.challengeBond,
    auditWindowSeconds: d.auditWindowSeconds,
    receiptHash: d.receiptHash,
  };
}

export type DealInfoErrorType = ReadContractErrorType;
