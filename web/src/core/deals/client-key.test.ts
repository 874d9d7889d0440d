import type { Account } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBalance, getBlock } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TabulaClient } from "../../chain/client.ts";
import { authorizeOperator } from "../../chain/operators/authorize-operator.ts";
import { operatorRoles } from "../../chain/operators/operator-roles.ts";
import { OperatorRole } from "../../chain/operators/roles.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { startTestChain, type TestChain } from "../../chain/testing/hardhat.ts";
import { CLIENT_KEY_GAS_WEI, clientKey, enableClientKey } from "./client-key.ts";

describe("the tab's key for the owner's audit rounds", () => {
  let chain: TestChain;
  const owner = privateKeyToAccount(generatePrivateKey());
  const key = privateKeyToAccount(generatePrivateKey());
  let wallet: TabulaClient<Account>;
  beforeAll(async () => {
    chain = await startTestChain({ market: true });
    await chain.fund([owner.address]);
    wallet = chain.client(owner) as TabulaClient<Account>;
  });
  afterAll(() => chain.close());

  it("is used only once authorized for the Client role, keeps the key's other roles, and gets gas once", async () => {
    const now = (await getBlock(chain.client())).timestamp;
    await waitForSuccess(chain.client(), {
      hash: await authorizeOperator(wallet, {
        operator: key.address,
        roles: OperatorRole.Host,
        expiresAt: now + 3600n,
      }),
      what: "a hosting key",
    });
    expect(await clientKey({ reader: chain.client(), owner: owner.address, key })).toBeUndefined();

    const sent = await enableClientKey({ reader: chain.client(), owner: wallet, key });
    expect(sent).toHaveLength(2);
    const { roles } = await operatorRoles(chain.client(), { owner: owner.address, operator: key.address, now });
    expect(roles).toBe(OperatorRole.Host | OperatorRole.Client);
    expect(await getBalance(chain.client(), { address: key.address })).toBe(CLIENT_KEY_GAS_WEI);
    const client = await clientKey({ reader: chain.client(), owner: owner.address, key });
    expect(client?.account.address).toBe(key.address);

    // Nothing more to send the second time.
    expect(await enableClientKey({ reader: chain.client(), owner: wallet, key })).toEqual([]);
  });
});
