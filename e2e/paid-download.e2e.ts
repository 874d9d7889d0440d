import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { type Address, createPublicClient, http, parseEther, parseEventLogs } from "viem";
import type { ProgressSignal } from "../scripts/lib/progress-watch.ts";
import type { Stack } from "../scripts/lib/stack.ts";
import { bandwidthChannelAbi, tokenAbi } from "../web/src/chain/abi.ts";
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
import { connectedWallet } from "./paid-hosts.ts";

const FILE_BYTES = 16 * 1024 * 1024;
const HOSTS = 6;
/** What each host asks per MB (10^6 bytes) of pieces it serves. */
const PRICE = "0.001";
const PRICE_WEI = parseEther(PRICE);
/** The channel's challenge window on the local chain (contracts/deploy/payments.ts). */
const CHALLENGE_WINDOW_SECONDS = 24 * 60 * 60;
/** A step fails once nothing it shows (bytes, pushes, channels) has changed for this long. */
const STALL_MS = 120_000;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Opens a host tab with a funded wallet, asks `PRICE` per MB for downloads, and switches Share storage on. */
async function startChargingHost(browser: Browser, appUrl: string): Promise<{ page: Page; owner: Address }> {
  const page = await browser.open(appUrl);
  const owner = await connectedWallet(page);
  await page.getByRole("link", { name: "Share storage" }).click();
  await page.getByTestId("retrieval-price").fill(PRICE);
  await page.getByTestId("save-retrieval-price").click();
  // Charging authorizes the tab's key to be paid (one transaction) before the terms are announced.
  await untilStalled(
    "the host charging for downloads",
    page.locator(`[data-testid="retrieval-mode"][data-charged="${PRICE_WEI}"]`),
    { progress: [markup(page, '[data-testid="host"]', "the host page")], stallMs: STALL_MS },
  );
  await page.getByTestId("quota").fill("256");
  await page.getByTestId("save-quota").click();
  await page.getByTestId("share-storage").check();
  await page.locator('[data-testid="host"]:not([data-announcements="0"])').waitFor({ timeout: STALL_MS });
  return { page, owner };
}

describe("paid download: hosts that charge per MB served, a reader that pays each through a channel", () => {
  let stack: Stack;
  let hostsBrowser: Browser;
  let ownerBrowser: Browser;
  let readerBrowser: Browser;
  let dir: string;

  before(async () => {
    stack = await startTestStack();
    [hostsBrowser, ownerBrowser, readerBrowser] = await Promise.all([
      launchBrowser(),
      launchBrowser(),
      launchBrowser(),
    ]);
    await readerBrowser.context.addInitScript({ content: "delete window.showSaveFilePicker;" });
    dir = await mkdtemp(join(tmpdir(), "tabula-paid-download-e2e-"));
  });

  after(async () => {
    await Promise.all([hostsBrowser?.close(), ownerBrowser?.close(), readerBrowser?.close()]);
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("downloads 16 MiB from four of six hosts, paying each for the bytes it served; every channel settles to the last unit", async () => {
    const chain = createPublicClient({ transport: http(stack.chain.rpcUrl) });
    const token = stack.contracts.Token as Address;
    const channels = stack.contracts.BandwidthChannel as Address;
    const balance = (address: Address) =>
      chain.readContract({ address: token, abi: tokenAbi, functionName: "balanceOf", args: [address] });
    const supply = () => chain.readContract({ address: token, abi: tokenAbi, functionName: "totalSupply" });

    const original = randomFillSync(new Uint8Array(FILE_BYTES));
    const path = join(dir, "paid-read.bin");
    await writeFile(path, original);

    // Six hosts, each charging for what it serves; the terms travel in their announcements.
    const hosts: { page: Page; owner: Address }[] = [];
    for (let i = 0; i < HOSTS; i++) hosts.push(await startChargingHost(hostsBrowser, stack.appUrl));
    const hostIds = await Promise.all(hosts.map((h) => peerIdOf(h.page)));
    const ownerOf = new Map(hostIds.map((id, i) => [id, hosts[i]?.owner as Address]));

    // The owner stores the file on the six hosts (storing is free here) and shares the link.
    const owner = await ownerBrowser.open(stack.appUrl);
    await openFiles(owner, stack.appUrl);
    await untilStalled(
      "the owner finding the six hosts",
      owner.locator(`[data-testid="network-files"][data-hosts="${HOSTS}"]`),
      {
        progress: [attributes(owner, '[data-testid="network-files"]', ["data-hosts"], "hosts the owner knows")],
        stallMs: STALL_MS,
      },
    );
    await owner.getByTestId("file-input").setInputFiles(path);
    const row = owner.locator('[data-testid="file"][data-name="paid-read.bin"]');
    await untilStalled("storing paid-read.bin", row, {
      progress: [markup(owner, '[data-testid="store-progress"]', "store progress"), tabWork(owner)],
      stallMs: STALL_MS,
    });
    const cid = (await row.getAttribute("data-cid")) ?? "";
    await untilStalled(
      "placing paid-read.bin on six hosts",
      owner.locator(`[data-testid="network-file"][data-cid="${cid}"][data-live="6"]`),
      {
        progress: [markup(owner, '[data-testid="activity"][data-kind="upload"]', "the upload")],
        stallMs: STALL_MS,
      },
    );
    await row.getByTestId("share").click();
    const link = (await owner.locator('[data-testid="share-link"] input').inputValue()).trim();

    // The reader, with a funded wallet and nothing but the link.
    const reader = await readerBrowser.open(stack.appUrl);
    const payer = await connectedWallet(reader);
    const before = {
      payer: await balance(payer),
      hosts: await Promise.all(hosts.map((h) => balance(h.owner))),
      held: await balance(channels),
      supply: await supply(),
    };
    await reader.goto(link);
    await reader.getByTestId("open-shared").waitFor();
    // Before a byte moves, the page says the hosts charge for downloads, and how much per MB at most.
    await reader
      .locator(`[data-testid="retrieval-prices"][data-hosts="${HOSTS}"][data-most="${PRICE_WEI}"]`)
      .waitFor({ timeout: STALL_MS });
    const download = reader.waitForEvent("download", { timeout: 0 });
    await reader.getByTestId("open-shared").click();
    const progress: ProgressSignal[] = [
      markup(reader, '[data-testid="network-activity"]', "the download's activity"),
      markup(reader, '[data-testid="channels"]', "the reader's channels"),
    ];
    const saved = await untilStalled("the paid download", download, { progress, stallMs: STALL_MS });
    const got = new Uint8Array(await readFile(await saved.path()));
    assert.equal(got.length, FILE_BYTES);
    assert.equal(sha256(got), sha256(original), "byte-identical");

    // Four hosts streamed a shard each, each through a channel of its own, all four opened by the reader's wallet
    // in one transaction (one signature for the download).
    const fetches = await reader.locator('[data-testid="host-fetch"][data-state="done"]').evaluateAll((els) =>
      els.map((el) => ({
        host: el.getAttribute("data-host") ?? "",
        bytes: BigInt(el.getAttribute("data-bytes") ?? "0"),
        scheme: el.getAttribute("data-scheme"),
        tx: (el.getAttribute("data-tx") ?? "") as `0x${string}`,
      })),
    );
    assert.equal(fetches.length, 4, "one stream per shard the decoder needs");
    assert.equal(new Set(fetches.map((f) => f.host)).size, 4);
    assert.equal(new Set(fetches.map((f) => f.tx)).size, 1, "the hosts' channels opened in one transaction");
    const receipt = await chain.getTransactionReceipt({ hash: fetches[0]?.tx as `0x${string}` });
    assert.equal(receipt.from.toLowerCase(), payer.toLowerCase(), "the reader's wallet opened them");
    const events = parseEventLogs({ abi: bandwidthChannelAbi, logs: receipt.logs, eventName: "ChannelOpened" });
    assert.equal(events.length, 4, "one channel per host, no more");
    const opened: bigint[] = [];
    for (const fetch of fetches) {
      assert.equal(fetch.scheme, "bandwidth");
      const event = events.find((e) => e.args.payee === ownerOf.get(fetch.host));
      assert.ok(event, `a channel pays host ${fetch.host.slice(-8)}, which served`);
      assert.equal(event.args.payer, payer);
      opened.push(event.args.channelId as bigint);
    }

    // Each host closed its channel when its fetch ended; after the challenge window its tab settles on its own.
    // The reader's Money page shows each channel as the chain has it.
    await reader.getByRole("link", { name: "Money" }).click();
    const rows = (status: string) =>
      opened.map((id) =>
        reader.locator(`[data-testid="channel"][data-channel="${id}"][data-role="payer"][data-status="${status}"]`),
      );
    const moneyPage = [markup(reader, '[data-testid="channels"]', "the reader's channels")];
    for (const closing of rows("Closing")) {
      await untilStalled("the hosts closing their channels", closing, { progress: moneyPage, stallMs: STALL_MS });
    }
    await chain.request({ method: "evm_increaseTime" as never, params: [CHALLENGE_WINDOW_SECONDS + 10] as never });
    await chain.request({ method: "evm_mine" as never, params: [] as never });
    for (const settled of rows("Settled")) {
      await untilStalled("the hosts settling", settled, { progress: moneyPage, stallMs: STALL_MS });
    }

    // Every token accounted for: each host was paid the price of the bytes it served, the reader paid their sum,
    // the channels hold nothing, and nothing was burned.
    let total = 0n;
    for (const fetch of fetches) {
      const exact = (fetch.bytes * PRICE_WEI) / 1_000_000n;
      const index = hostIds.indexOf(fetch.host);
      const earned = (await balance(hosts[index]?.owner as Address)) - (before.hosts[index] as bigint);
      assert.equal(
        earned,
        exact,
        `host ${fetch.host.slice(-8)} earned the price of the ${fetch.bytes} bytes it served`,
      );
      total += exact;
    }
    for (const [index, host] of hosts.entries()) {
      if (fetches.some((f) => f.host === hostIds[index])) continue;
      assert.equal(await balance(host.owner), before.hosts[index], "a host that served nothing earned nothing");
    }
    assert.ok(total > 0n);
    assert.equal(before.payer - (await balance(payer)), total, "the reader paid what the hosts earned");
    assert.equal(await balance(channels), before.held, "the channels hold nothing more");
    assert.equal(await supply(), before.supply, "nothing burned");
  });
});
