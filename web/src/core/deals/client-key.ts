/**
 * The tab's key for the client's routine transactions: the owner's audit rounds (challenges, seeds, penalties,
 * ending deals whose shards moved) are sent by the operator key the key vault derives, so a browser wallet is not
 * asked at every check. The owner authorizes it for the Client role, on top of any role it already has (the same
 * key answers audits when the tab hosts for pay), and gives it ETH for gas. Bonds still come from the owner's
 * allowance: tokens only move to and from the owner.
 */
import type { Account, Hash, LocalAccount } from "viem";
import { getBalance, getBlock } from "viem/actions";
import { createTabulaClient, type TabulaClient } from "../../chain/client.ts";
import { topUp } from "../../chain/eth/top-up.ts";
import { authorizeOperator } from "../../chain/operators/authorize-operator.ts";
import { operatorRoles } from "../../chain/operators/operator-roles.ts";
import { OperatorRole } from "../../chain/operators/roles.ts";
import { waitForSuccess } from "../../chain/receipt.ts";

/** How long the Client role lasts before the owner renews it. */
export const CLIENT_KEY_VALIDITY_SECONDS = 365n * 24n * 3600n;
/** ETH the owner gives the key when it holds less than half of it. */
export const CLIENT_KEY_GAS_WEI = 20_000_000_000_000_000n;

export interface ClientKeyParts {
  reader: TabulaClient;
  owner: TabulaClient<Account>;
  key: LocalAccount;
}

/** The key's client for the rounds, when the owner authorized it for the Client role now; undefined otherwise. */
export async function clientKey(parts: Omit<ClientKeyParts, "owner"> & { owner: `0x${string}` }) {
  const now = (await getBlock(parts.reader)).timestamp;
  const { roles } = await operatorRoles(parts.reader, { owner: parts.owner, operator: parts.key.address, now });
  if ((roles & OperatorRole.Client) === 0) return undefined;
  return createTabulaClient({ chain: parts.reader.chain, account: parts.key });
}

/** Authorizes the key for the Client role (keeping its other roles) and gives it gas, each only when needed. */
export async function enableClientKey(parts: ClientKeyParts): Promise<Hash[]> {
  const { reader, owner, key } = parts;
  const sent: Hash[] = [];
  const now = (await getBlock(reader)).timestamp;
  const { roles } = await operatorRoles(reader, { owner: owner.account.address, operator: key.address, now });
  if ((roles & OperatorRole.Client) === 0) {
    const hash = await authorizeOperator(owner, {
      operator: key.address,
      roles: roles | OperatorRole.Client,
      expiresAt: now + CLIENT_KEY_VALIDITY_SECONDS,
    });
    await waitForSuccess(reader, { hash, what: "Authorizing this tab's key for the audit rounds" });
    sent.push(hash);
  }
  if ((await getBalance(reader, { address: key.address })) < CLIENT_KEY_GAS_WEI / 2n) {
    const hash = await topUp(owner, { from: owner.account, to: key.address, value: CLIENT_KEY_GAS_WEI });
    await waitForSuccess(reader, { hash, what: "Giving this tab's key ETH for the audit rounds" });
    sent.push(hash);
  }
  return sent;
}
