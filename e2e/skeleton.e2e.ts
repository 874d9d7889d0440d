import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { Stack } from "../scripts/lib/stack.ts";
import { type Browser, launchBrowser, startTestStack } from "./harness.ts";

const MIN_ETH_WEI = 10n ** 18n;
const FAUCET_TOKEN_WEI = 1000n * 10n ** 18n;

async function peerId(page: Page): Promise<string> {
  const locator = page.getByTestId("peer-id");
  await locator.waitFor();
  return (await locator.textContent())?.trim() ?? "";
}

describe("walking skeleton: two tabs on the local stack", () => {
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

  it("connects two tabs directly over WebRTC and funds each tab's burner", async () => {
    const [a, b] = [await browser.open(stack.appUrl), await browser.open(stack.appUrl)] as [Page, Page];
    const [idA, idB] = [await peerId(a), await peerId(b)];
    assert.match(idA, /^12D3KooW/);
    assert.notEqual(idA, idB, "each tab is its own peer");

    for (const page of [a, b]) {
      await page.locator('[data-testid="relay-status"][data-state="reserved"]').waitFor({ timeout: 30_000 });
    }
    // Each tab lists the other as a direct WebRTC peer.
    await a.locator(`[data-testid="peer"][data-peer-id="${idB}"][data-kind="webrtc"]`).waitFor({ timeout: 60_000 });
    await b.locator(`[data-testid="peer"][data-peer-id="${idA}"][data-kind="webrtc"]`).waitFor({ timeout: 60_000 });

    const addresses = new Set<string>();
    for (const page of [a, b]) {
      await page.locator('[data-testid="wallet"][data-status="connected"]').waitFor({ timeout: 30_000 });
      const address = (await page.getByTestId("wallet-address").textContent())?.trim() ?? "";
      assert.match(address, /^0x[0-9a-fA-F]{40}$/);
      addresses.add(address);
      await page.locator(`[data-testid="token-balance"][data-wei="${FAUCET_TOKEN_WEI}"]`).waitFor({ timeout: 30_000 });
      const eth = BigInt((await page.getByTestId("eth-balance").getAttribute("data-wei")) ?? "0");
      assert.ok(eth >= MIN_ETH_WEI, `burner holds ETH for gas (has ${eth})`);
      // The funding transactions are shown.
      assert.match((await page.getByTestId("wallet-activity").textContent()) ?? "", /0x[0-9a-f]{64}/);
    }
    assert.equal(addresses.size, 2, "each tab has its own burner");
  });
});
