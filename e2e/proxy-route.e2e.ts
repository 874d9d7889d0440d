import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { type Address, createPublicClient, http, parseEther } from "viem";
import type { ProgressSignal } from "../scripts/lib/progress-watch.ts";
import type { Stack } from "../scripts/lib/stack.ts";
import { bandwidthChannelAbi, tokenAbi } from "../web/src/chain/abi.ts";
import {
  attributes,
  type Browser,
  downloadWhileProgressing,
  launchBrowser,
  markup,
  peerIdOf,
  startTestStack,
  untilStalled,
} from "./harness.ts";
import { connectedWallet } from "./paid-hosts.ts";

const FILE_BYTES = 16 * 1024 * 1024;
/** What the sender asks per MB (10^6 bytes). */
const PRICE = "0.001";
const PRICE_WEI = parseEther(PRICE);
/** The channel's challenge window on the local chain (contracts/deploy/payments.ts). */
const CHALLENGE_WINDOW_SECONDS = 24 * 60 * 60;
/** A step fails once no tab has shown a byte or a state change for this long. */
const STALL_MS = 90_000;
/** The bandwidth channel's status numbers (IBandwidthChannel.Status). */
const SETTLED = 4;

/** The proxy's upstream leg: 110 % of what the downstream one is owed (BandwidthChannel.PROXY_LOCK_PERCENT). */
function routeLock(amount: bigint): bigint {
  return (amount * 110n) / 100n;
}

describe("proxy route: a third tab carries a paid send between two tabs that cannot reach each other", () => {
  let stack: Stack;
  let senderBrowser: Browser;
  let proxyBrowser: Browser;
  let receiverBrowser: Browser;
  let dir: string;

  before(async () => {
    stack = await startTestStack();
    [senderBrowser, proxyBrowser, receiverBrowser] = await Promise.all([
      launchBrowser(),
      launchBrowser(),
      launchBrowser(),
    ]);
    await receiverBrowser.context.addInitScript({ content: "delete window.showSaveFilePicker;" });
    dir = await mkdtemp(join(tmpdir(), "tabula-proxy-route-e2e-"));
  });

  after(async () => {
    await Promise.all([senderBrowser?.close(), proxyBrowser?.close(), receiverBrowser?.close()]);
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("routes 16 MiB through the proxy tab: the receiver pays it 110 %, it pays the sender, every leg settles to the last unit", async () => {
    const chain = createPublicClient({ transport: http(stack.chain.rpcUrl) });
    const token = stack.contracts.Token as Address;
    const channels = stack.contracts.BandwidthChannel as Address;
    const balance = (address: Address) =>
      chain.readContract({ address: token, abi: tokenAbi, functionName: "balanceOf", args: [address] });
    const supply = () => chain.readContract({ address: token, abi: tokenAbi, functionName: "totalSupply" });
    const channel = (channelId: bigint) =>
      chain.readContract({
        address: channels,
        abi: bandwidthChannelAbi,
        functionName: "getChannel",
        args: [channelId],
      });

    const original = randomFillSync(new Uint8Array(FILE_BYTES));
    const path = join(dir, "routed.bin");
    await writeFile(path, original);

    const from = await senderBrowser.open(stack.appUrl);
    const payee = await connectedWallet(from);
    const senderId = await peerIdOf(from);
    const via = await proxyBrowser.open(stack.appUrl);
    const proxy = await connectedWallet(via);
    const proxyId = await peerIdOf(via);
    const to = await receiverBrowser.open(stack.appUrl);
    const payer = await connectedWallet(to);

    // The proxy tab switches carrying on (its key is authorized to be paid and to pay: one transaction).
    await via.getByRole("link", { name: "Money" }).click();
    await via.getByTestId("carry-transfers").check();
    await untilStalled(
      "the proxy switching carrying on",
      via.locator('[data-testid="carry-status"][data-active="true"]'),
      {
        progress: [attributes(via, '[data-testid="carry-status"]', ["data-busy"], "the carry switch")],
        stallMs: STALL_MS,
      },
    );

    // The receiver's tab cannot reach the sender's directly (neither dial nor address works); it knows the proxy
    // tab as a peer that carries.
    await to.evaluate((unreachable) => {
      const node = (globalThis as unknown as { tabula: { node: Record<string, unknown> } }).tabula.node;
      for (const method of ["dialDirect", "directTarget"]) {
        const original = (node[method] as (...args: unknown[]) => Promise<unknown>).bind(node);
        node[method] = (peer: string, ...rest: unknown[]) =>
          peer === unreachable
            ? Promise.reject(new Error("this peer cannot be reached directly"))
            : original(peer, ...rest);
      }
    }, senderId);
    await to.waitForFunction(
      (peer) =>
        (globalThis as unknown as { tabula: { node: { peersSpeaking(p: string): Promise<string[]> } } }).tabula.node
          .peersSpeaking("/tabula/transfer-proxy/1.0.0")
          .then((peers) => peers.includes(peer)),
      proxyId,
      { timeout: STALL_MS, polling: 500 },
    );

    const before = {
      payee: await balance(payee),
      payer: await balance(payer),
      proxy: await balance(proxy),
      held: await balance(channels),
      supply: await supply(),
    };

    await from.getByRole("link", { name: "Send" }).click();
    await from.getByTestId("send-price").fill(PRICE);
    await from.getByTestId("send-input").setInputFiles(path);
    await untilStalled("the paid link", from.getByTestId("send-link"), {
      progress: [markup(from, '[data-testid="send"]', "the send page")],
      stallMs: STALL_MS,
    });
    await to.goto(await from.getByTestId("send-link").inputValue());

    // The receiver sees the route and its cost before a byte moves: 110 % of the sender's price, through a channel.
    const amount = (BigInt(FILE_BYTES) * PRICE_WEI + 999_999n) / 1_000_000n;
    await untilStalled(
      "the route through the proxy",
      to.locator(`[data-testid="receive-route"][data-proxy-peer="${proxyId}"][data-proxy="${proxy}"]`),
      {
        progress: [markup(to, '[data-testid="receive"]', "the receive page")],
        stallMs: STALL_MS,
        explain: async () => (await to.getByTestId("receive").textContent()) ?? "",
      },
    );
    await to
      .locator(`[data-testid="receive-quote"][data-scheme="bandwidth"][data-cost="${routeLock(amount)}"]`)
      .waitFor({ timeout: STALL_MS });
    await to.getByTestId("accept").click();
    const progress: ProgressSignal[] = [
      attributes(to, '[data-testid="receive"]', ["data-state"], "receiver state"),
      attributes(to, '[data-testid="receive-progress"]', ["data-bytes"], "bytes received"),
      attributes(to, '[data-testid="receive-payment"]', ["data-paid-bytes"], "bytes the receiver paid for"),
      attributes(
        from,
        '[data-testid="send-payment"]',
        ["data-paid-bytes", "data-closed"],
        "bytes the sender was paid for",
      ),
      markup(via, '[data-testid="channels"]', "the proxy's channels"),
    ];
    const started = performance.now();
    await untilStalled("the routed send", to.locator('[data-testid="receive"][data-state="done"]'), {
      progress,
      stallMs: STALL_MS,
    });
    console.log(`# 16 MiB routed through a proxy tab in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const { path: savedPath } = await downloadWhileProgressing(
      "saving routed.bin",
      to,
      receiverBrowser,
      () => to.getByTestId("save-received").click(),
      { progress, stallMs: STALL_MS },
    );
    assert.equal(
      createHash("sha256")
        .update(await readFile(savedPath))
        .digest("hex"),
      createHash("sha256").update(original).digest("hex"),
      "byte-identical",
    );

    // The upstream leg pays the proxy; its route's downstream leg pays the sender.
    const upstreamId = BigInt((await to.getByTestId("receive-payment").getAttribute("data-channel")) ?? "0");
    const route = await chain.readContract({
      address: channels,
      abi: bandwidthChannelAbi,
      functionName: "getRoute",
      args: [upstreamId],
    });
    const downstreamId = route.downstreamId;
    assert.equal(route.amount, amount);
    const [up, down] = [await channel(upstreamId), await channel(downstreamId)];
    assert.equal(up.payer, payer);
    assert.equal(up.payee, proxy);
    assert.equal(down.payer, proxy);
    assert.equal(down.payee, payee);

    // Both payees close their leg when the transfer is over; after the challenge window their tabs settle on their own.
    await via
      .locator(`[data-testid="channel"][data-channel="${upstreamId}"][data-role="payee"][data-proxy="${proxy}"]`)
      .waitFor({
        timeout: STALL_MS,
      });
    await untilStalled(
      "both legs closing",
      Promise.all(
        [upstreamId, downstreamId].map(async (id) => {
          while ((await channel(id)).status !== 3) await new Promise((resolve) => setTimeout(resolve, 500));
        }),
      ),
      { progress, stallMs: STALL_MS },
    );
    await chain.request({ method: "evm_increaseTime" as never, params: [CHALLENGE_WINDOW_SECONDS + 10] as never });
    await chain.request({ method: "evm_mine" as never, params: [] as never });
    const settledOn = (page: Page, id: bigint, role: string) =>
      page.locator(`[data-testid="channel"][data-channel="${id}"][data-role="${role}"][data-status="Settled"]`);
    await untilStalled("the proxy settling the upstream leg", settledOn(via, upstreamId, "payee"), {
      progress: [markup(via, '[data-testid="channels"]', "the proxy's channels")],
      stallMs: STALL_MS,
    });
    await from.getByRole("link", { name: "Money" }).click();
    await untilStalled("the sender settling the downstream leg", settledOn(from, downstreamId, "payee"), {
      progress: [markup(from, '[data-testid="channels"]', "the sender's channels")],
      stallMs: STALL_MS,
    });
    assert.equal((await channel(upstreamId)).status, SETTLED);
    assert.equal((await channel(downstreamId)).status, SETTLED);

    // Every token accounted for: the sender got the exact price of the bytes, the proxy 10 % of it on top, the
    // receiver paid both, the channels hold nothing more and nothing was burned.
    const toSender = (BigInt(FILE_BYTES) * PRICE_WEI) / 1_000_000n;
    const toProxy = (BigInt(FILE_BYTES) * routeLock(PRICE_WEI)) / 1_000_000n;
    assert.equal((await balance(payee)) - before.payee, toSender, "the sender earned the bytes' price");
    assert.equal((await balance(proxy)) - before.proxy, toProxy - toSender, "the proxy kept its 10 %");
    assert.equal(before.payer - (await balance(payer)), toProxy, "the receiver paid 110 %");
    assert.equal(await balance(channels), before.held, "the channels hold nothing more");
    assert.equal(await supply(), before.supply, "nothing burned");
    // The proxy's money page shows both legs of the route.
    await via
      .locator(
        `[data-testid="channel"][data-channel="${downstreamId}"][data-role="payer"][data-route-payee="${payee}"]`,
      )
      .waitFor();
  });
});
