import type { Address, Hex } from "viem";
import { getContractEvents, readContract } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import type { DealTerms } from "./storage-receipt.ts";

/** The states of `IStorageMarket.DealStatus`, by index. */
export const DEAL_STATUSES = ["None", "Proposed", "Active", "Completed", "Ended", "Slashed", "Cancelled"] as const;
export type DealStatus = (typeof DEAL_STATUSES)[number];

export interface FileDeal {
  dealId: bigint;
  client: Address;
  terms: DealTerms;
  status: DealStatus;
  /** When the host may stop storing the shard (Unix seconds); 0 until the deal is accepted. */
  endsAt: bigint;
  /** Block of the proposal. */
  blockNumber: bigint;
}

/**
 * Every deal ever proposed for the file whose manifest CID (binary bytes) is `manifestCid`, with its state now:
 * a tab holding only a share link finds the file's hosts and shard indices from the chain, no announcement
 * needed. `DealProposed` carries the manifest CID as an indexed topic, so one log query finds them.
 */
export async function fileDeals(
  client: TabulaClient,
  parameters: { manifestCid: Hex; fromBlock?: bigint },
): Promise<FileDeal[]> {
  const market = deployedContract(client.chain, "StorageMarket");
  const logs = await getContractEvents(client, {
    address: market.address,
    abi: market.abi,
    eventName: "DealProposed",
    // viem hashes an indexed `bytes` argument into its topic, as the contract did.
    args: { manifestCid: parameters.manifestCid },
    fromBlock: parameters.fromBlock ?? 0n,
    strict: true,
  });
  return await Promise.all(
    logs.map(async (log) => {
      const info = await readContract(client, {
        address: market.address,
        abi: market.abi,
        functionName: "dealInfo",
        args: [log.args.dealId],
      });
      return {
        dealId: log.args.dealId,
        client: log.args.client,
        terms: log.args.terms as DealTerms,
        status: DEAL_STATUSES[info.status] ?? "None",
        endsAt: info.endsAt,
        blockNumber: log.blockNumber,
      };
    }),
  );
}
