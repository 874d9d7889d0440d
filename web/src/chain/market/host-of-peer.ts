import type { Address } from "viem";
import type { TabulaClient } from "../client.ts";
import { type HostPeerIdsErrorType, type HostPeerIdsParameters, hostPeerIds } from "./host-peer-ids.ts";

export interface HostOfPeerParameters extends HostPeerIdsParameters {
  /** A libp2p peer id string. */
  peer: string;
}

/** The owner address; `undefined` when no registered host advertises the peer id now, or several do. */
export type HostOfPeerReturnType = Address | undefined;

export type HostOfPeerErrorType = HostPeerIdsErrorType;

/**
 * The registered host whose latest advertised peer id is `peer`. The chain does not check that a host owns the peer
 * id it registers, so a peer id that two hosts claim names neither.
 */
export async function hostOfPeer(
  client: TabulaClient,
  parameters: HostOfPeerParameters,
): Promise<HostOfPeerReturnType> {
  const { peer, ...range } = parameters;
  const claims = (await hostPeerIds(client, range)).filter((entry) => entry.peer === peer);
  return claims.length === 1 ? claims[0]?.host : undefined;
}
