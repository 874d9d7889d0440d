import { type Address, type GetContractEventsErrorType, type Hex, hexToBytes } from "viem";
import { getContractEvents } from "viem/actions";
import { peerIdFromBytes } from "../../lib/peer-id.ts";
import { type DeployedContractErrorType, deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** A registered host's owner address and the peer id it advertises now. */
export interface HostPeerId {
  /** The owner address (stakes, is paid, is named in deal terms). */
  host: Address;
  /** The peer id bytes as registered: the multihash of the libp2p peer id. */
  peerId: Hex;
  /** The libp2p peer id string tabs dial; `undefined` when the bytes are not a peer id. */
  peer: string | undefined;
  /** Block of the host's registration. */
  registeredAt: bigint;
}

export interface HostPeerIdsParameters {
  /** First block to read events from (the market's deployment block saves a scan from genesis). */
  fromBlock?: bigint;
  /** Last block to read events from; the latest by default. */
  toBlock?: bigint;
}

export type HostPeerIdsReturnType = HostPeerId[];

export type HostPeerIdsErrorType = DeployedContractErrorType | GetContractEventsErrorType;

/**
 * Every host registered in the StorageMarket with the peer id of its last `HostRegistered` or `HostUpdated` event,
 * in the order they registered. The peer id is what the host claims: the chain does not check that it owns it.
 */
export async function hostPeerIds(
  client: TabulaClient,
  parameters: HostPeerIdsParameters = {},
): Promise<HostPeerIdsReturnType> {
  const market = deployedContract(client.chain, "StorageMarket");
  const range = { fromBlock: parameters.fromBlock ?? 0n, toBlock: parameters.toBlock ?? ("latest" as const) };
  const query = { address: market.address, abi: market.abi, ...range, strict: true } as const;
  const [registered, updated] = await Promise.all([
    getContractEvents(client, { ...query, eventName: "HostRegistered" }),
    getContractEvents(client, { ...query, eventName: "HostUpdated" }),
  ]);
  const byHost = new Map<Address, HostPeerId>();
  for (const log of registered) {
    const { host, peerId } = log.args;
    byHost.set(host, { host, peerId, peer: undefined, registeredAt: log.blockNumber });
  }
  const changes = [...registered, ...updated].sort(
    (a, b) => compare(a.blockNumber, b.blockNumber) || a.logIndex - b.logIndex,
  );
  for (const { args } of changes) {
    const entry = byHost.get(args.host);
    if (entry) entry.peerId = args.peerId;
  }
  return [...byHost.values()].map((entry) => ({ ...entry, peer: peerIdFromBytes(hexToBytes(entry.peerId)) }));
}

function compare(a: bigint, b: bigint): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
