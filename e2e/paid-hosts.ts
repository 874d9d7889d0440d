import type { Page } from "playwright-core";
import { type Address, parseEther } from "viem";
import { type Browser, markup, untilStalled } from "./harness.ts";

/** What the local chain's faucet gives a new burner wallet. */
export const FAUCET_TOKEN_WEI = parseEther("1000");
/** What each host stakes. */
export const STAKE = parseEther("150");
/** ROLE_HOST | ROLE_PAYEE: sign receipts and answer audits, be paid per byte. */
export const HOST_OPERATOR_ROLES = 1 | 8;
const QUOTA_MIB = 256;
/** A step fails once what its page shows has not changed for this long. */
const STALL_MS = 90_000;

/**
 * A host tab: shares storage, then stakes with its burner wallet and authorizes its operator key on the Share
 * storage page, at `price` TAB per GiB-month; resolves once it is registered and announcing.
 */
export async function startPaidHost(
  browser: Browser,
  appUrl: string,
  price: string,
): Promise<{ page: Page; owner: Address }> {
  const page = await browser.open(appUrl);
  const owner = await connectedWallet(page);
  await page.getByRole("link", { name: "Share storage" }).click();
  await page.getByTestId("quota").fill(String(QUOTA_MIB));
  await page.getByTestId("save-quota").click();
  await page.getByTestId("share-storage").check();
  await page.locator('[data-testid="host"][data-enabled="true"]').waitFor();
  await stakeFromHostPage(page, price);
  await page.locator('[data-testid="host"]:not([data-announcements="0"])').waitFor({ timeout: STALL_MS });
  return { page, owner };
}

/** Waits on the overview until the tab's burner wallet is connected and funded by the faucet; its address. */
export async function connectedWallet(page: Page): Promise<Address> {
  await page.locator('[data-testid="wallet"][data-status="connected"]').waitFor({ timeout: STALL_MS });
  await page.locator(`[data-testid="token-balance"][data-wei="${FAUCET_TOKEN_WEI}"]`).waitFor({ timeout: STALL_MS });
  return ((await page.getByTestId("wallet-address").textContent())?.trim() ?? "") as Address;
}

/** Stakes from a host tab already on its Share storage page, with its connected wallet, at `price` TAB per GiB-month. */
export async function stakeFromHostPage(page: Page, price: string): Promise<void> {
  await page.getByTestId("host-price").fill(price);
  await page.getByTestId("host-stake").fill("150");
  await page.getByTestId("start-paid-hosting").click();
  await untilStalled(
    "staking and authorizing the host's key",
    page.locator(
      `[data-testid="paid-hosting"][data-registered="true"][data-roles="${HOST_OPERATOR_ROLES}"][data-busy="false"]`,
    ),
    { progress: [markup(page, '[data-testid="paid-hosting"]', "the paid hosting panel")], stallMs: STALL_MS },
  );
}
