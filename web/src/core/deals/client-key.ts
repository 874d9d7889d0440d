/**
 * The tab's key for the client's routine transactions: the owner's audit rounds (challenges, seeds, penalties,
 * ending deals whose shards moved) are sent by the operator key the key vault derives, so a browser wallet is not
 * asked at every check. The owner authorizes it for the Client role, on top of any role it already has (the same
 * key answers audits when the tab hosts for pay), and gives it ETH for gas. Bonds still come from the owner's
 * allowance: tokens only move to and from the owner.
 */
import type { Hash } from "viem";
import { getBlock } from "viem/actions";
import { createTabulaClient } from "../../chain/client.ts";
import { operatorRoles } from "../../chain/operators/operator-roles.ts";
import { OperatorRole } from "../../chain/operators/roles.ts";
import { enableKeyRoles, KEY_GAS_WEI, KEY_ROLE_VALIDITY_SECONDS, type KeyRoleParts } from "../wallet/key-roles.ts";

/** How long the Client role lasts before the owner renews it. */
export const CLIENT_KEY_VALIDITY_SECONDS = KEY_ROLE_VALIDITY_SECONDS;
/** ETH the owner gives the key when it holds less than half of it. */
export const CLIENT_KEY_GAS_WEI = KEY_GAS_WEI;

export type ClientKeyParts = KeyRoleParts;

/** The key's client for the rounds, when the owner authorized it for the Client role now; undefined otherwise. */
export async function clientKey(parts: Omit<ClientKeyParts, "owner"> & { owner: `0x${string}` }) {
  const now = (await getBlock(parts.reader)).timestamp;
  const { roles } = await operatorRoles(parts.reader, { owner: parts.owner, operator: parts.key.address, now });
  if ((roles & OperatorRole.Client) === 0) return undefined;
  return createTabulaClient({ chain: parts.reader.chain, account: parts.key });
}

/** Authorizes the key for the Client role (keeping its other roles) and gives it gas, each only when needed. */
export async function enableClientKey(parts: ClientKeyParts): Promise<Hash[]> {
  return await enableKeyRoles(parts, OperatorRole.Client, "the audit rounds");
}
