import type { Address, GetContractEventsErrorType } from "viem";
import { getContractEvents } from "viem/actions";
import { type DeployedContractErrorType, deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { type DealInfo, type DealInfoErrorType, dealInfo } from "./deal-info.ts";

export interface HostDealsParameters {
  /** The host's owner address. */
  host: Address;
  /** First block to read events from (the market's deployment block saves a scan from genesis). */
  fromBlock?: bigint;
}

/** A deal a host accepted, as the market keeps it now. */
export interface HostDeal extends DealInfo {
  dealId: bigint;
}

export type HostDealsReturnType = HostDeal[];

export type HostDealsErrorType = DeployedContractErrorType | GetContractEventsErrorType | DealInfoErrorType;

/**
 * Every deal `host` accepted (its `DealAccepted` events, the host an indexed topic), oldest first, each with its state
 * now: what the Share storage page sums into active deals, earned, claimable and claimed.
 */
export async function hostDeals(client: TabulaClient, parameters: HostDealsParameters): Promise<HostDealsReturnType> {
  const market = deployedContract(client.chain, "StorageMarket");
  const logs = await getContractEvents(client, {
    address: market.address,
    abi: market.abi,
    eventName: "DealAccepted",
    args: { host: parameters.host },
    fromBlock: parameters.fromBlock ?? 0n,
    strict: true,
  });
  return await Promise.all(
    logs.map(async (log) => ({ dealId: log.args.dealId, ...(await dealInfo(client, log.args.dealId)) })),
  );
}
