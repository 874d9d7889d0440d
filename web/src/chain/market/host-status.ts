import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** What the Share storage page shows of a host: its record and its reputation counters. */
export interface HostStatus {
  registered: boolean;
  capacityBytes: bigint;
  usedBytes: bigint;
  pricePerGiBMonth: bigint;
  stake: bigint;
  /** Part of the stake that running deals locked as collateral. */
  lockedCollateral: bigint;
  unbonding: bigint;
  unbondingReadyAt: bigint;
  activeDeals: bigint;
  auditsPassed: number;
  auditsFailed: number;
  dealsCompleted: number;
  timesSlashed: number;
  /** Paid by other clients, in token base units. */
  paidVolume: bigint;
}

/** Reads a host's record and reputation. */
export async function hostStatus(client: TabulaClient, host: Address): Promise<HostStatus> {
  const market = deployedContract(client.chain, "StorageMarket");
  const read = { address: market.address, abi: market.abi, args: [host] } as const;
  const [info, reputation] = await Promise.all([
    readContract(client, { ...read, functionName: "hostInfo" }),
    readContract(client, { ...read, functionName: "reputation" }),
  ]);
  return hostStatusOf(info, reputation);
}

/** A host's status from its `hostInfo` and `reputation` records, however they were read (one by one or batched). */
export function hostStatusOf(
  info: Omit<HostStatus, "auditsPassed" | "auditsFailed" | "dealsCompleted" | "timesSlashed" | "paidVolume">,
  reputation: Pick<HostStatus, "auditsPassed" | "auditsFailed" | "dealsCompleted" | "timesSlashed" | "paidVolume">,
): HostStatus {
  return {
    registered: info.registered,
    capacityBytes: info.capacityBytes,
    usedBytes: info.usedBytes,
    pricePerGiBMonth: info.pricePerGiBMonth,
    stake: info.stake,
    lockedCollateral: info.lockedCollateral,
    unbonding: info.unbonding,
    unbondingReadyAt: info.unbondingReadyAt,
    activeDeals: info.activeDeals,
    auditsPassed: reputation.auditsPassed,
    auditsFailed: reputation.auditsFailed,
    dealsCompleted: reputation.dealsCompleted,
    timesSlashed: reputation.timesSlashed,
    paidVolume: reputation.paidVolume,
  };
}

export type HostStatusErrorType = ReadContractErrorType;
