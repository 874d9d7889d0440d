import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { peerIdFromString } from "@libp2p/peer-id";
import type { Page } from "playwright-core";
import { type Address, bytesToHex, createPublicClient, type Hash, http, parseEther } from "viem";
import type { Stack } from "../scripts/lib/stack.ts";
import { operatorRegistryAbi, storageMarketAbi, tokenAbi } from "../web/src/chain/abi.ts";
import { type Browser, launchBrowser, peerIdOf, startTestStack } from "./harness.ts";

const FAUCET_TOKEN_WEI = parseEther("1000");
/** ROLE_HOST | ROLE_PAYEE: sign receipts and answer audits, be paid per byte. */
const HOST_OPERATOR_ROLES = 1 | 8;
/** Each step is one or two transactions on the local chain: this long without the page moving on is a failure. */
const STEP_MS = 30_000;

describe("host for pay: the Share storage page stakes and authorizes the tab's key", () => {
  let stack: Stack;
  let browser: Browser;

  before(async () => {
    stack = await startTestStack();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("stakes with the burner, authorizes the vault's key, adds stake and unbonds, every token accounted for", async () => {
    const chain = createPublicClient({ transport: http(stack.chain.rpcUrl) });
    const market = stack.contracts.StorageMarket as Address;
    const registry = stack.contracts.OperatorRegistry as Address;
    const token = stack.contracts.Token as Address;
    const balance = (address: Address) =>
      chain.readContract({ address: token, abi: tokenAbi, functionName: "balanceOf", args: [address] });

    const page: Page = await browser.open(stack.appUrl);
    await page.locator('[data-testid="wallet"][data-status="connected"]').waitFor({ timeout: STEP_MS });
    await page.locator(`[data-testid="token-balance"][data-wei="${FAUCET_TOKEN_WEI}"]`).waitFor({ timeout: STEP_MS });
    const owner = ((await page.getByTestId("wallet-address").textContent())?.trim() ?? "") as Address;
    const peerId = await peerIdOf(page);
    const marketBefore = await balance(market);
    await page.getByRole("link", { name: "Share storage" }).click();

    // Not a number: refused on the page, nothing sent.
    await page.getByTestId("host-stake").fill("lots");
    await page.getByTestId("start-paid-hosting").click();
    await page.getByText("Stake: type an amount of TAB above zero").waitFor({ timeout: STEP_MS });
    assert.equal(await balance(owner), FAUCET_TOKEN_WEI);

    await page.getByTestId("host-price").fill("2.5");
    await page.getByTestId("host-stake").fill("150");
    await page.getByTestId("start-paid-hosting").click();
    const panel = page.locator(
      `[data-testid="paid-hosting"][data-registered="true"][data-roles="${HOST_OPERATOR_ROLES}"][data-busy="false"]`,
    );
    await panel.waitFor({ timeout: 2 * STEP_MS });

    // The stake moved from the owner to the market, to the last unit.
    assert.equal(await balance(owner), FAUCET_TOKEN_WEI - parseEther("150"));
    assert.equal(await balance(market), marketBefore + parseEther("150"));
    const info = await chain.readContract({
      address: market,
      abi: storageMarketAbi,
      functionName: "hostInfo",
      args: [owner],
    });
    assert.equal(info.stake, parseEther("150"));
    assert.equal(info.pricePerGiBMonth, parseEther("2.5"));
    assert.equal(info.peerId, bytesToHex(peerIdFromString(peerId).toMultihash().bytes));
    // The tab's key is authorized for its roles, and the page names it.
    const operator = (await panel.getAttribute("data-operator")) as Address;
    assert.match(operator, /^0x[0-9a-fA-F]{40}$/);
    assert.notEqual(operator.toLowerCase(), owner.toLowerCase());
    const granted = await chain.readContract({
      address: registry,
      abi: operatorRegistryAbi,
      functionName: "authorization",
      args: [owner, operator],
    });
    assert.equal(granted.roles, HOST_OPERATOR_ROLES);
    // Every transaction is shown, each mined from the owner to where it names.
    const shown = await page
      .locator('[data-testid="paid-activity"] li')
      .evaluateAll((items) => items.map((li) => li.getAttribute("data-tx")));
    assert.equal(shown.length, 3);
    const sentTo = await Promise.all(
      shown.map(async (hash) => {
        const receipt = await chain.getTransactionReceipt({ hash: hash as Hash });
        assert.equal(receipt.status, "success");
        assert.equal(receipt.from.toLowerCase(), owner.toLowerCase());
        return receipt.to?.toLowerCase();
      }),
    );
    // Newest first: the key's gas for answering audits, its authorization, the stake.
    assert.deepEqual(sentTo, [operator.toLowerCase(), registry.toLowerCase(), market.toLowerCase()]);

    await page.getByTestId("add-stake-amount").fill("10");
    await page.getByTestId("add-stake").click();
    await page.locator(`[data-testid="host-status"][data-stake="${parseEther("160")}"]`).waitFor({ timeout: STEP_MS });
    assert.equal(await balance(owner), FAUCET_TOKEN_WEI - parseEther("160"));

    await page.getByTestId("unbond-amount").fill("25");
    await page.getByTestId("unbond").click();
    await page
      .locator(`[data-testid="host-status"][data-stake="${parseEther("135")}"][data-unbonding="${parseEther("25")}"]`)
      .waitFor({ timeout: STEP_MS });
    // Unbonding keeps the tokens in the market until the delay has passed.
    assert.equal(await balance(market), marketBefore + parseEther("160"));
    await page.getByTestId("withdraw-stake").waitFor({ timeout: STEP_MS });
    assert.equal(await page.locator('[data-testid="paid-activity"] li').count(), 5);

    // Reloaded, the tab finds its stake and its key's authorization on the chain, with nothing sent.
    await page.reload();
    await page
      .locator(
        `[data-testid="paid-hosting"][data-registered="true"][data-roles="${HOST_OPERATOR_ROLES}"][data-operator="${operator}"]`,
      )
      .waitFor({ timeout: STEP_MS });
    await page.locator(`[data-testid="host-status"][data-stake="${parseEther("135")}"]`).waitFor({ timeout: STEP_MS });
    assert.equal(await page.getByTestId("start-paid-hosting").count(), 0);
    assert.equal(await balance(owner), FAUCET_TOKEN_WEI - parseEther("160"));
  });
});
