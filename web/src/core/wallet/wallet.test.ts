import { type Address, getAddress, verifyTypedData } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BURNER_CONNECTOR_ID } from "../../chain/burner.ts";
import { BURNER_FAUCET_TOKEN_WEI, BURNER_TOP_UP_ETH_WEI } from "../../chain/constants.ts";
import { topUpSync } from "../../chain/eth/top-up.ts";
import { startTestChain, type TestChain } from "../../chain/testing/hardhat.ts";
import { createWagmiConfig } from "../../chain/wagmi.ts";
import { VAULT_TYPED_DATA } from "../../lib/crypto/key-vault.ts";
import { WALLET_PREFERENCE_KEY, Wallet, type WalletSnapshot } from "./wallet.ts";

function memoryStorage(): Pick<Storage, "getItem" | "setItem" | "removeItem"> & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
  };
}

/** Resolves with the first snapshot that `test` accepts, checked on every change. */
function until(wallet: Wallet, test: (s: WalletSnapshot) => boolean): Promise<WalletSnapshot> {
  return new Promise((resolve) => {
    const check = () => {
      if (!test(wallet.snapshot)) return;
      wallet.removeEventListener("change", check);
      resolve(wallet.snapshot);
    };
    wallet.addEventListener("change", check);
    check();
  });
}

describe("Wallet", () => {
  let chain: TestChain;
  beforeAll(async () => {
    chain = await startTestChain({ http: true });
  });
  afterAll(() => chain.close());

  function burnerWallet(storage = memoryStorage()) {
    const burner = privateKeyToAccount(generatePrivateKey());
    const config = createWagmiConfig({ chain: chain.chain, local: true, burner });
    return { burner, storage, wallet: new Wallet({ config, chain: chain.chain, storage, now: () => 42 }) };
  }

  it("offers the burner on a local chain, connects it by default and funds it with the transactions shown", async () => {
    const { burner, storage, wallet } = burnerWallet();
    try {
      expect(wallet.snapshot.choices).toEqual([
        { id: BURNER_CONNECTOR_ID, name: "Burner account (this tab)", kind: "burner" },
      ]);
      await wallet.restore();
      const funded = await until(wallet, (s) => s.tokens === BURNER_FAUCET_TOKEN_WEI);
      expect(funded).toMatchObject({
        status: "connected",
        address: getAddress(burner.address),
        chainId: chain.chain.id,
        connectorId: BURNER_CONNECTOR_ID,
        wrongChain: false,
        eth: BURNER_TOP_UP_ETH_WEI,
        busy: false,
      });
      expect(funded.error).toBeUndefined();
      const funder = getAddress(chain.accounts[0] as Address);
      expect(funded.activity.map((a) => a.text)).toEqual([
        `Received 10 ETH from local account ${funder}`,
        "Received 1000 TAB from the local faucet",
      ]);
      for (const a of funded.activity)
        expect(a).toMatchObject({ at: 42, tx: expect.stringMatching(/^0x[0-9a-f]{64}$/) });
      expect(storage.items.get(WALLET_PREFERENCE_KEY)).toBe(BURNER_CONNECTOR_ID);

      // Balances follow new blocks: a transfer to the burner shows without being asked for.
      await topUpSync(chain.client(), { from: funder, to: burner.address, value: 1n });
      await until(wallet, (s) => s.eth === BURNER_TOP_UP_ETH_WEI + 1n);

      const signature = await wallet.signTypedData(VAULT_TYPED_DATA);
      expect(await verifyTypedData({ ...VAULT_TYPED_DATA, address: burner.address, signature })).toBe(true);

      await wallet.disconnect();
      expect(wallet.snapshot).toMatchObject({ status: "disconnected", busy: false });
      expect(wallet.snapshot.eth).toBeUndefined();
      expect(wallet.snapshot.tokens).toBeUndefined();
      expect(storage.items.has(WALLET_PREFERENCE_KEY)).toBe(false);
    } finally {
      wallet.stop();
    }
  });

  it("waits a moment for a remembered wallet to announce itself, then gives up without connecting", async () => {
    const storage = memoryStorage();
    storage.setItem(WALLET_PREFERENCE_KEY, "io.metamask");
    const { wallet } = burnerWallet(storage);
    try {
      const started = performance.now();
      await wallet.restore();
      expect(performance.now() - started).toBeGreaterThanOrEqual(900);
      expect(wallet.snapshot.status).toBe("disconnected");
      const controller = new AbortController();
      const restoring = wallet.restore({ signal: controller.signal });
      controller.abort(new Error("page closed"));
      await expect(restoring).rejects.toThrow("page closed");
    } finally {
      wallet.stop();
    }
  });
});
