/**
 * The tab's operator key takes on roles as the user needs them: the owner authorizes it for a role on top of the
 * roles it already has, and gives it ETH for the routine transactions it sends. Each step happens only when needed,
 * so a key already set up costs no transaction and no wallet prompt.
 */
import type { Account, Hash, LocalAccount } from "viem";
import { getBalance, getBlock } from "viem/actions";
import type { TabulaClient } from "../../chain/client.ts";
import { topUp } from "../../chain/eth/top-up.ts";
import { authorizeOperator } from "../../chain/operators/authorize-operator.ts";
import { operatorRoles } from "../../chain/operators/operator-roles.ts";
import { waitForSuccess } from "../../chain/receipt.ts";

/** How long a role lasts before the owner renews it. */
export const KEY_ROLE_VALIDITY_SECONDS = 365n * 24n * 3600n;
/** ETH the owner gives the key when it holds less than half of it. */
export const KEY_GAS_WEI = 20_000_000_000_000_000n;

export interface KeyRoleParts {
  reader: TabulaClient;
  owner: TabulaClient<Account>;
  key: LocalAccount;
}

/** Authorizes the key for `roles` (keeping its other roles) and gives it gas, each only when needed. */
export async function enableKeyRoles(parts: KeyRoleParts, roles: number, purpose: string): Promise<Hash[]> {
  const { reader, owner, key } = parts;
  const sent: Hash[] = [];
  const now = (await getBlock(reader)).timestamp;
  const current = await operatorRoles(reader, { owner: owner.account.address, operator: key.address, now });
  if ((current.roles & roles) !== roles) {
    const hash = await authorizeOperator(owner, {
      operator: key.address,
      roles: current.roles | roles,
      expiresAt: now + KEY_ROLE_VALIDITY_SECONDS,
    });
    await waitForSuccess(reader, { hash, what: `Authorizing this tab's key for ${purpose}` });
    sent.push(hash);
  }
  if ((await getBalance(reader, { address: key.address })) < KEY_GAS_WEI / 2n) {
    const hash = await topUp(owner, { from: owner.account, to: key.address, value: KEY_GAS_WEI });
    await waitForSuccess(reader, { hash, what: `Giving this tab's key ETH for ${purpose}` });
    sent.push(hash);
  }
  return sent;
}
