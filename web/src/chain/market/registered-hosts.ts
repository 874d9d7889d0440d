import type { Address, Chain, MulticallErrorType, ReadContractErrorType } from "viem";
import { multicall } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import {
  type HostPeerId,
  type HostPeerIdsErrorType,
  type HostPeerIdsParameters,
  hostPeerIds,
} from "./host-peer-ids.ts";
import { type HostStatus, hostStatus, hostStatusOf } from "./host-status.ts";

/** A host as a client ranks it: its owner, the peer id it advertises, its record and its reputation now. */
export interface RegisteredHost extends HostPeerId, HostStatus {}

export type RegisteredHostsParameters = HostPeerIdsParameters;

export type RegisteredHostsReturnType = RegisteredHost[];

export type RegisteredHostsErrorType = HostPeerIdsErrorType | ReadContractErrorType | MulticallErrorType;

/**
 * Every host registered in the StorageMarket, in the order they registered, with its latest peer id (from its
 * events) and its status (price, stake, locked collateral, capacity and use, reputation counters). The statuses
 * are read in one multicall where the chain names a Multicall3 contract, else all at once.
 */
export async function registeredHosts(
  client: TabulaClient,
  parameters: RegisteredHostsParameters = {},
): Promise<RegisteredHostsReturnType> {
  const peers = await hostPeerIds(client, parameters);
  const statuses = await hostStatuses(
    client,
    peers.map((p) => p.host),
  );
  return peers.map((peer, i) => ({ ...peer, ...(statuses[i] as HostStatus) })).filter((host) => host.registered);
}

async function hostStatuses(client: TabulaClient, hosts: readonly Address[]): Promise<HostStatus[]> {
  if (hosts.length === 0) return [];
  if (!(client.chain as Chain).contracts?.multicall3) {
    return await Promise.all(hosts.map((host) => hostStatus(client, host)));
  }
  const market = deployedContract(client.chain, "StorageMarket");
  const read = { address: market.address, abi: market.abi } as const;
  const [infos, reputations] = await Promise.all([
    multicall(client, {
      contracts: hosts.map((host) => ({ ...read, functionName: "hostInfo", args: [host] }) as const),
      allowFailure: false,
    }),
    multicall(client, {
      contracts: hosts.map((host) => ({ ...read, functionName: "reputation", args: [host] }) as const),
      allowFailure: false,
    }),
  ]);
  return infos.map((info, i) => hostStatusOf(info, reputations[i] as (typeof reputations)[number]));
}
