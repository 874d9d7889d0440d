import assert from "node:assert/strict";
import { randomFillSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { type Address, createPublicClient, http } from "viem";
import type { ProgressSignal } from "../scripts/lib/progress-watch.ts";
import type { Stack } from "../scripts/lib/stack.ts";
import { storageMarketAbi, tokenAbi } from "../web/src/chain/abi.ts";
import {
  attributes,
  type Browser,
  launchBrowser,
  markup,
  openFiles,
  peerIdOf,
  startTestStack,
  tabWork,
  untilStalled,
} from "./harness.ts";
import { FAUCET_TOKEN_WEI, STAKE, startPaidHost } from "./paid-hosts.ts";

const FILE_BYTES = 4 * 1024 * 1024;
const HOSTS = 6;
/** A step fails once what its page shows (transactions, pushes, activity) has not changed for this long. */
const STALL_MS = 90_000;

/** What a page shows in `selector`: each transaction, push and state change changes it. */
function shows(page: Page, selector: string, name: string): ProgressSignal {
  return markup(page, selector, name);
}

describe("paid storage: six staked host tabs, an owner who pays, every token accounted for", () => {
  let stack: Stack;
  let hostsBrowser: Browser;
  let ownerBrowser: Browser;
  let dir: string;

  before(async () => {
    stack = await startTestStack();
    [hostsBrowser, ownerBrowser] = await Promise.all([launchBrowser(), launchBrowser()]);
    dir = await mkdtemp(join(tmpdir(), "tabula-paid-e2e-"));
  });

  after(async () => {
    await Promise.all([hostsBrowser?.close(), ownerBrowser?.close()]);
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("quotes, escrows every deal with one transaction, activates them with the hosts' σ, and verifies σ", async () => {
    const chain = createPublicClient({ transport: http(stack.chain.rpcUrl) });
    const market = stack.contracts.StorageMarket as Address;
    const token = stack.contracts.Token as Address;
    const treasury = await chain.readContract({ address: market, abi: storageMarketAbi, functionName: "treasury" });
    const balance = (address: Address) =>
      chain.readContract({ address: token, abi: tokenAbi, functionName: "balanceOf", args: [address] });

    // Six staked hosts, each its own burner wallet.
    const marketAtStart = await balance(market);
    const hosts: { page: Page; owner: Address }[] = [];
    for (let i = 0; i < HOSTS; i++) hosts.push(await startPaidHost(hostsBrowser, stack.appUrl, "2"));
    const hostIds = await Promise.all(hosts.map((h) => peerIdOf(h.page)));
    for (const h of hosts) assert.equal(await balance(h.owner), FAUCET_TOKEN_WEI - STAKE);
    assert.equal(await balance(market), marketAtStart + BigInt(HOSTS) * STAKE);

    // The owner switches paid storage on and stores a file: the page quotes it before anything is paid.
    const owner = await ownerBrowser.open(stack.appUrl);
    await owner.locator('[data-testid="wallet"][data-status="connected"]').waitFor({ timeout: STALL_MS });
    await owner.locator(`[data-testid="token-balance"][data-wei="${FAUCET_TOKEN_WEI}"]`).waitFor({ timeout: STALL_MS });
    const payer = ((await owner.getByTestId("wallet-address").textContent())?.trim() ?? "") as Address;
    await openFiles(owner, stack.appUrl);
    await untilStalled(
      "the owner finding the six hosts",
      owner.locator(`[data-testid="network-files"][data-hosts="${HOSTS}"]`),
      {
        progress: [attributes(owner, '[data-testid="network-files"]', ["data-hosts"], "hosts the owner knows")],
        stallMs: STALL_MS,
      },
    );
    await owner.getByTestId("paid-storage").check();
    const path = join(dir, "paid.bin");
    await writeFile(path, randomFillSync(new Uint8Array(FILE_BYTES)));
    await owner.getByTestId("file-input").setInputFiles(path);
    const row = owner.locator('[data-testid="file"][data-name="paid.bin"]');
    await untilStalled("storing paid.bin", row, {
      progress: [markup(owner, '[data-testid="store-progress"]', "store progress"), tabWork(owner)],
      stallMs: STALL_MS,
    });
    const cid = (await row.getAttribute("data-cid")) ?? "";
    const quote = owner.locator(`[data-testid="paid-quote"][data-cid="${cid}"][data-state="ready"]`);
    await untilStalled("quoting the paid upload", quote, {
      progress: [shows(owner, '[data-testid="paid-quote"]', "the quote")],
      stallMs: STALL_MS,
    });
    const chosen = await quote
      .locator('[data-testid="quote-host"][data-chosen="true"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-host")));
    assert.equal(chosen.length, HOSTS);
    assert.deepEqual(new Set(chosen), new Set(hostIds));
    const total = BigInt((await quote.getAttribute("data-total")) ?? "0");
    assert.ok(total > 0n);
    // Nothing moved while the quote waits for the owner.
    assert.equal(await balance(payer), FAUCET_TOKEN_WEI);

    await quote.getByTestId("confirm-quote").click();
    const netRow = owner.locator(`[data-testid="network-file"][data-cid="${cid}"]`);
    await untilStalled(
      "escrowing, pushing and activating six deals",
      owner.locator(`[data-testid="network-file"][data-cid="${cid}"][data-live="${HOSTS}"]`),
      { progress: [shows(owner, '[data-testid="network-files"]', "the network files panel")], stallMs: STALL_MS },
    );
    const upload = owner.locator(`[data-testid="activity"][data-kind="upload"][data-cid="${cid}"][data-done="true"]`);
    await upload.waitFor({ timeout: STALL_MS });
    assert.equal(await upload.getAttribute("data-error"), "");
    // Two transactions: one escrow, one acceptance, each naming all six deals.
    const txs = await upload
      .locator('[data-testid="deal-tx"]')
      .evaluateAll((items) => items.map((li) => [li.getAttribute("data-what"), li.getAttribute("data-deals")]));
    assert.deepEqual(
      txs.map(([what]) => what),
      ["propose", "accept"],
    );
    const dealIds = (txs[0]?.[1] ?? "").split(",").map(BigInt);
    assert.equal(dealIds.length, HOSTS);
    assert.equal(txs[1]?.[1], txs[0]?.[1]);

    // Every token: the owner paid exactly the quoted total into the market; hosts and treasury have not moved yet.
    assert.equal(await balance(payer), FAUCET_TOKEN_WEI - total);
    assert.equal(await balance(market), marketAtStart + BigInt(HOSTS) * STAKE + total);
    for (const h of hosts) assert.equal(await balance(h.owner), FAUCET_TOKEN_WEI - STAKE);
    assert.equal(await balance(treasury), 0n);
    let priced = 0n;
    for (const id of dealIds) {
      const deal = await chain.readContract({
        address: market,
        abi: storageMarketAbi,
        functionName: "dealInfo",
        args: [id],
      });
      assert.equal(deal.status, 2, `deal ${id} is active`);
      assert.equal(deal.client.toLowerCase(), payer.toLowerCase());
      assert.ok(hosts.some((h) => h.owner.toLowerCase() === deal.host.toLowerCase()));
      priced += deal.price;
    }
    assert.equal(priced, total);

    // Each shard shows its deal; "verify" checks σ against the chain.
    const deals = netRow.locator('[data-testid="deal"][data-accepted="true"]');
    assert.equal(await deals.count(), HOSTS);
    await deals.first().getByTestId("verify-deal").click();
    await netRow
      .locator('[data-testid="deal-verified"][data-valid="true"][data-status="Active"]')
      .waitFor({ timeout: STALL_MS });
  });
});
