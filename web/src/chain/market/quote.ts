import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** What `host` asks now for keeping `shardSizeBytes` for `durationSeconds`, in token base units. */
export async function quote(
  client: TabulaClient,
  parameters: { host: Address; shardSizeBytes: bigint; durationSeconds: bigint },
): Promise<bigint> {
  const market = deployedContract(client.chain, "StorageMarket");
  return await readContract(client, {
    address: market.address,
    abi: market.abi,
    functionName: "quote",
    args: [parameters.host, parameters.shardSizeBytes, parameters.durationSeconds],
  });
}

export type QuoteErrorType = ReadContractErrorType;
