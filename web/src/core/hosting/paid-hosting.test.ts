import { type Account, type Address, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployedContract } from "../../chain/chain.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { operatorRoles } from "../../chain/operators/operator-roles.ts";
import { startTestChain, TEST_MARKET_PARAMETERS, type TestChain } from "../../chain/testing/hardhat.ts";
import { balanceOf } from "../../chain/token/balance-of.ts";
import { fromHex } from "../../lib/bytes.ts";
import { deriveVault, VAULT_TYPED_DATA } from "../../lib/crypto/key-vault.ts";
import { HOST_OPERATOR_ROLES, OPERATOR_GAS_WEI, PaidHosting } from "./paid-hosting.ts";

const MIN = TEST_MARKET_PARAMETERS.minStake;

describe("paid hosting: the owner stakes and authorizes the tab's key, every token accounted for", () => {
  let chain: TestChain;
  const owner = privateKeyToAccount(generatePrivateKey());
  let hosting: PaidHosting;
  let market: Address;
  const balance = (address: Address) => balanceOf(chain.client(), { address });
  beforeAll(async () => {
    chain = await startTestChain({ market: true });
    market = deployedContract(chain.chain, "StorageMarket").address;
    await chain.fund([owner.address]);
    hosting = new PaidHosting({
      reader: chain.client(),
      owner: async () => chain.client(owner) as TabulaClient<Account>,
      signTypedData: (typedData) => owner.signTypedData(typedData),
      peerId: new Uint8Array([0, 36, 8, 1]),
    });
  });
  afterAll(() => chain.close());

  it("refuses a stake below the minimum with a named reason, and sends nothing", async () => {
    await hosting.start({ capacityBytes: 1n << 30n, pricePerGiBMonth: parseEther("2"), stake: MIN - 1n });
    expect(hosting.snapshot.error).toMatch(
      /would stake 99.999999999999999999 TAB; the market asks for at least 100 TAB/,
    );
    expect(hosting.snapshot.activity).toEqual([]);
    expect(await balance(owner.address)).toBe(parseEther("1000"));
    expect(hosting.snapshot.busy).toBe(false);
  });

  it("stakes with one permit, registers, authorizes the vault's operator key, and shows each transaction", async () => {
    const marketBefore = await balance(market);
    await hosting.start({ capacityBytes: 1n << 30n, pricePerGiBMonth: parseEther("2"), stake: 2n * MIN });
    const snapshot = hosting.snapshot;
    expect(snapshot.error).toBeUndefined();
    expect(await balance(owner.address)).toBe(parseEther("1000") - 2n * MIN);
    expect(await balance(market)).toBe(marketBefore + 2n * MIN);
    expect(snapshot.status).toMatchObject({ registered: true, stake: 2n * MIN, pricePerGiBMonth: parseEther("2") });
    // The operator is the vault's key for this chain: the same wallet on another device derives the same one.
    const vault = await deriveVault(fromHex(await owner.signTypedData(VAULT_TYPED_DATA)));
    const expected = privateKeyToAccount(await vault.operatorKey(chain.chain.id)).address;
    expect(snapshot.operator).toBe(expected);
    expect(snapshot.operatorRoles).toBe(HOST_OPERATOR_ROLES);
    const onChain = await operatorRoles(chain.client(), { owner: owner.address, operator: expected, now: 0n });
    expect(onChain.roles).toBe(HOST_OPERATOR_ROLES);
    expect(snapshot.activity.map((a) => a.text)).toEqual([
      "Gave this tab's key 0.02 ETH for its transactions",
      `Authorized this tab's key ${expected}`,
      "Staked 200 TAB and registered as a host",
    ]);
    // The key has the ETH to answer audits on its own.
    expect(snapshot.operatorEth).toBe(OPERATOR_GAS_WEI);
    expect(snapshot.operatorLowOnGas).toBe(false);
    for (const a of snapshot.activity) expect(a.tx).toMatch(/^0x[0-9a-f]{64}$/);

    // A reloaded tab finds its record and its key's roles on the chain, and takes paid pushes again.
    const reloaded = new PaidHosting({
      reader: chain.client(),
      owner: async () => chain.client(owner) as TabulaClient<Account>,
      signTypedData: (typedData) => owner.signTypedData(typedData),
      peerId: new Uint8Array([0, 36, 8, 1]),
    });
    await reloaded.sync();
    expect(reloaded.snapshot).toMatchObject({ operator: expected, operatorRoles: HOST_OPERATOR_ROLES });
    expect(reloaded.snapshot.status?.registered).toBe(true);

    // Starting again (a reloaded tab) sends nothing more.
    await hosting.start({ capacityBytes: 1n << 30n, pricePerGiBMonth: parseEther("2"), stake: 2n * MIN });
    expect(hosting.snapshot.activity).toHaveLength(3);
    expect(await balance(owner.address)).toBe(parseEther("1000") - 2n * MIN);
  });

  it("adds stake, unbonds free stake and withdraws it after the delay, back to the owner", async () => {
    await hosting.addStake(MIN);
    expect(hosting.snapshot.status?.stake).toBe(3n * MIN);
    expect(await balance(owner.address)).toBe(parseEther("1000") - 3n * MIN);
    await hosting.unbond(MIN);
    expect(hosting.snapshot.status).toMatchObject({ stake: 2n * MIN, unbonding: MIN });
    await hosting.withdraw();
    expect(hosting.snapshot.error).toMatch(/withdrawable from/);
    await chain.advance(TEST_MARKET_PARAMETERS.unbondingDelaySeconds);
    await hosting.withdraw();
    expect(hosting.snapshot.error).toBeUndefined();
    expect(hosting.snapshot.status).toMatchObject({ stake: 2n * MIN, unbonding: 0n });
    expect(await balance(owner.address)).toBe(parseEther("1000") - 2n * MIN);
    expect(hosting.snapshot.activity.map((a) => a.text).slice(0, 3)).toEqual([
      "Withdrew 100 TAB of stake",
      "Began unbonding 100 TAB",
      "Added 100 TAB of stake",
    ]);
  });
});
