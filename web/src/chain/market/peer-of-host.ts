import { type Address, hexToBytes, type ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { peerIdFromBytes } from "../../lib/peer-id.ts";
import { type DeployedContractErrorType, deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

export interface PeerOfHostParameters {
  /** The host's owner address, as deal terms name it. */
  host: Address;
}

/** The libp2p peer id string; `undefined` when the address is no registered host or its bytes are no peer id. */
export type PeerOfHostReturnType = string | undefined;

export type PeerOfHostErrorType = DeployedContractErrorType | ReadContractErrorType;

/** The peer id a host advertises now in the StorageMarket, as the string tabs dial. */
export async function peerOfHost(
  client: TabulaClient,
  parameters: PeerOfHostParameters,
): Promise<PeerOfHostReturnType> {
  const market = deployedContract(client.chain, "StorageMarket");
  const info = await readContract(client, {
    address: market.address,
    abi: market.abi,
    functionName: "hostInfo",
    args: [parameters.host],
  });
  return info.registered ? peerIdFromBytes(hexToBytes(info.peerId)) : undefined;
}
