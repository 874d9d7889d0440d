import assert from "node:assert/strict";
import { randomFillSync } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { type Address, createPublicClient, encodeFunctionData, type Hex, http, parseEther, parseEventLogs } from "viem";
import type { ProgressSignal } from "../scripts/lib/progress-watch.ts";
import type { Stack } from "../scripts/lib/stack.ts";
import { bandwidthChannelAbi, tokenAbi } from "../web/src/chain/abi.ts";
import { attributes, type Browser, launchBrowser, markup, startTestStack, untilStalled } from "./harness.ts";
import { connectedWallet } from "./paid-hosts.ts";

const MiB = 1024 * 1024;
const FILE_BYTES = 64 * MiB;
const PRICE = "0.001";
const PRICE_WEI = parseEther(PRICE);
/** The sender never runs more than this ahead of what it was paid (core/payments/bandwidth-payee.ts). */
const MAX_CREDIT_BYTES = 4 * MiB;
/** The channel's challenge window on the local chain (contracts/deploy/payments.ts). */
const CHALLENGE_WINDOW_SECONDS = 24 * 60 * 60;
/** Past a closed lot's reveal and claim windows on the local chain (contracts/deploy/payments.ts). */
const LOT_WINDOWS_SECONDS = 60 * 60 + 24 * 60 * 60;
/** A step fails once neither tab has shown a byte or a state change for this long. */
const STALL_MS = 90_000;

/**
 * Turns the receiver's tab into a cheating payer: its payments go through a wrapper that keeps the first unit both
 * sides signed (`globalThis.firstAgreed`), past `stopAt` bytes hands over no more units, and with `tamper` changes
 * a byte of the first ticket's signature in every lottery payment. The honest code is
 * untouched; only what the tab sends changes, as a modified client's would.
 */
async function cheat(page: Page, how: { stopAt?: number; tamper?: boolean } = {}): Promise<void> {
  await page.evaluate(
    ({ stopAt, tamper }) => {
      const scope = globalThis as unknown as {
        tabula: { transferPayments: { payer: (...args: unknown[]) => Promise<object> } };
        firstAgreed?: unknown;
      };
      const payments = scope.tabula.transferPayments;
      const original = payments.payer.bind(payments);
      payments.payer = async (...args: unknown[]) => {
        const payer = await original(...args);
        return new Proxy(payer, {
          get(target, property) {
            if (property === "gate") {
              return () => {
                const gate = (target as { gate(): { received(position: number): Promise<unknown> } }).gate();
                return {
                  ...gate,
                  received: async (position: number) => {
                    const agreed = (target as { agreed?: { usage: { sequence: bigint } } }).agreed;
                    if (agreed && agreed.usage.sequence > 0n && !scope.firstAgreed) scope.firstAgreed = agreed;
                    if (stopAt !== null && position > stopAt) return undefined;
                    const payment = (await gate.received(position)) as { scheme: string; data: Uint8Array } | undefined;
                    if (!payment || !tamper) return payment;
                    // A byte of the first ticket's signature changes (its 65-byte string follows its 32-byte nonce):
                    // the message still reads, and the first ticket of every message no longer verifies, even a
                    // message that hands over earlier tickets again after a reconnection.
                    const data = payment.data.slice();
                    const nonce = data.findIndex((byte, i) => byte === 0x58 && data[i + 1] === 0x20);
                    const signature = nonce + 2 + 32 + 2;
                    data[signature + 10] = (data[signature + 10] as number) ^ 0xff;
                    return { ...payment, data };
                  },
                };
              };
            }
            const value = Reflect.get(target, property, target);
            return typeof value === "function" ? value.bind(target) : value;
          },
        });
      };
    },
    { stopAt: how.stopAt ?? null, tamper: how.tamper ?? false },
  );
}

describe("paid send against a cheating tab: each cheat is met by the rule that defeats it", () => {
  let stack: Stack;
  let dir: string;
  let path: string;

  before(async () => {
    stack = await startTestStack();
    dir = await mkdtemp(join(tmpdir(), "tabula-paid-cheats-e2e-"));
    path = join(dir, "cheat.bin");
    await writeFile(path, randomFillSync(new Uint8Array(FILE_BYTES)));
  });

  after(async () => {
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Two browsers with funded wallets, the sender on its Send page with a paid link the receiver opened. */
  async function paidLink(
    sender: Browser,
    receiver: Browser,
    how: { stopAt?: number; tamper?: boolean; scheme?: "bandwidth" | "lottery" } = {},
  ) {
    const chain = createPublicClient({ transport: http(stack.chain.rpcUrl) });
    const token = stack.contracts.Token as Address;
    const channels = stack.contracts.BandwidthChannel as Address;
    const balance = (address: Address) =>
      chain.readContract({ address: token, abi: tokenAbi, functionName: "balanceOf", args: [address] });
    // No save dialog: the receiver stages the file in the origin's private file system.
    await receiver.context.addInitScript({ content: "delete window.showSaveFilePicker;" });
    const from = await sender.open(stack.appUrl);
    const payee = await connectedWallet(from);
    await from.getByRole("link", { name: "Send" }).click();
    const to = await receiver.open(stack.appUrl);
    const payer = await connectedWallet(to);
    const before = { payee: await balance(payee), payer: await balance(payer), held: await balance(channels) };
    await cheat(to, how);
    await from.getByTestId("send-price").fill(PRICE);
    await from.getByTestId("send-input").setInputFiles(path);
    await untilStalled("the paid link", from.getByTestId("send-link"), {
      progress: [markup(from, '[data-testid="send"]', "the send page")],
      stallMs: STALL_MS,
    });
    // A hash change: the page (and the wrapper the receiver put on its payments) stays.
    await to.evaluate(
      (link) => {
        location.hash = new URL(link).hash;
      },
      await from.getByTestId("send-link").inputValue(),
    );
    await to.locator('[data-testid="receive-quote"][data-scheme="bandwidth"]').waitFor({ timeout: STALL_MS });
    if (how.scheme && how.scheme !== "bandwidth") {
      await to.getByTestId("receive-scheme").selectOption(how.scheme);
      await to.locator(`[data-testid="receive-quote"][data-scheme="${how.scheme}"]`).waitFor({ timeout: STALL_MS });
    }
    await to.getByTestId("accept").click();
    const progress = (page: Page = from): ProgressSignal[] => [
      attributes(to, '[data-testid="receive-progress"]', ["data-bytes"], "bytes received"),
      attributes(page, '[data-testid="send-payment"]', ["data-paid-bytes"], "bytes the sender was paid for"),
      markup(page, '[data-testid="channels"]', "the sender's channels"),
      markup(to, '[data-testid="receive"]', "the receive page"),
    ];
    return { chain, channels, balance, from, to, payee, payer, before, progress };
  }

  /**
   * Once channel `channelId` is closing, moves the chain past its challenge window and waits for the sender's tab
   * to settle it.
   */
  async function settle(
    chain: ReturnType<typeof createPublicClient>,
    page: Page,
    channelId: bigint,
    progress: ProgressSignal[],
  ) {
    const row = `[data-testid="channel"][data-scheme="bandwidth"][data-channel="${channelId}"]`;
    // The window runs from the close: the clock moves only once the channel is closing.
    await untilStalled("the channel closing", page.locator(`${row}[data-status="Closing"]`), {
      progress,
      stallMs: STALL_MS,
    });
    await chain.request({ method: "evm_increaseTime" as never, params: [CHALLENGE_WINDOW_SECONDS + 10] as never });
    await chain.request({ method: "evm_mine" as never, params: [] as never });
    await untilStalled("the sender's tab settling", page.locator(`${row}[data-status="Settled"]`), {
      progress,
      stallMs: STALL_MS,
    });
    const hash = (await page
      .locator(`${row} [data-testid="channel-tx"][data-what="settle"]`)
      .getAttribute("title")) as Hex;
    const receipt = await chain.getTransactionReceipt({ hash });
    const [settled] = parseEventLogs({ abi: bandwidthChannelAbi, logs: receipt.logs, eventName: "ChannelSettled" });
    assert.ok(settled, "the settle transaction settled the channel");
    return settled.args;
  }

  it("a receiver that stops paying mid-transfer: the sender stops within its credit, says why, and is paid exactly what was paid for", async () => {
    const [sender, receiver] = await Promise.all([launchBrowser(), launchBrowser()]);
    try {
      const stopAt = 8 * MiB;
      const { chain, channels, balance, from, to, payee, payer, before, progress } = await paidLink(sender, receiver, {
        stopAt,
      });
      // The sender waits for the payment that lets it go on, then stops and says why.
      await untilStalled("the sender stopping", from.getByTestId("send-stopped"), {
        progress: progress(),
        stallMs: STALL_MS,
      });
      assert.match((await from.getByTestId("send-stopped").textContent()) ?? "", /stopped paying/);
      const payment = from.getByTestId("send-payment");
      const paidBytes = BigInt((await payment.getAttribute("data-paid-bytes")) ?? "0");
      const sentBytes = BigInt((await from.getByTestId("outgoing").getAttribute("data-bytes")) ?? "0");
      assert.ok(paidBytes > 0n && paidBytes <= BigInt(stopAt), `paid for ${paidBytes} bytes, at most ${stopAt}`);
      assert.ok(sentBytes <= paidBytes + BigInt(MAX_CREDIT_BYTES), `sent ${sentBytes}, paid for ${paidBytes}`);
      assert.ok(sentBytes < BigInt(FILE_BYTES), "the file was not sent whole");
      // The receiver's page says the sender stopped for want of payment.
      await untilStalled("the receiver told why", to.locator('[data-testid="receive"][data-state="failed"]'), {
        progress: progress(),
        stallMs: STALL_MS,
      });
      assert.match((await to.getByTestId("receive-error").textContent()) ?? "", /pa(id|y)/i);

      // The sender closed the channel with the last unit both signed; it settles to exactly that.
      const channelId = BigInt((await to.getByTestId("receive-payment").getAttribute("data-channel")) ?? "0");
      const settled = await settle(chain, from, channelId, progress());
      const exact = (paidBytes * PRICE_WEI) / 1_000_000n;
      assert.equal(settled.paid, exact);
      assert.equal(settled.burned, 0n);
      assert.equal(settled.disputed, false);
      assert.equal((await balance(payee)) - before.payee, exact, "the sender earned what was paid for");
      assert.equal(before.payer - (await balance(payer)), exact, "the receiver paid what it received and paid for");
      assert.equal(await balance(channels), before.held, "the channel holds nothing more");
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
    }
  });

  it("a receiver that closes its channel with an old unit while the sender's tab is closed: the sender's tab, reopened, answers with the newer unit and is paid for it", async () => {
    const [sender, receiver] = await Promise.all([launchBrowser(), launchBrowser()]);
    try {
      const { chain, channels, balance, from, to, payee, payer, before, progress } = await paidLink(sender, receiver);
      // Once 24 MiB are paid for, the sender's tab goes away mid-transfer (its record of the last unit is kept).
      await untilStalled(
        "24 MiB paid for",
        from.locator(`xpath=//*[@data-testid="send-payment" and number(@data-paid-bytes) >= ${24 * MiB}]`),
        { progress: progress(), stallMs: STALL_MS },
      );
      const channelId = BigInt((await to.getByTestId("receive-payment").getAttribute("data-channel")) ?? "0");
      await from.close();

      // The receiver stops watching its channels and closes this one with the first unit both signed.
      const old = await to.evaluate(async () => {
        const scope = globalThis as unknown as {
          tabula: { transferPayments: { stop(): Promise<void> } };
          firstAgreed?: {
            usage: { channelId: bigint; sequence: bigint; totalBytes: bigint; time: bigint; link: string };
            payerSignature: string;
            payeeSignature: string;
          };
        };
        await scope.tabula.transferPayments.stop();
        const agreed = scope.firstAgreed;
        if (!agreed) throw new Error("no unit was signed by both sides");
        const { usage } = agreed;
        return {
          usage: {
            channelId: usage.channelId.toString(),
            sequence: usage.sequence.toString(),
            totalBytes: usage.totalBytes.toString(),
            time: usage.time.toString(),
            link: usage.link,
          },
          payerSignature: agreed.payerSignature,
          payeeSignature: agreed.payeeSignature,
        };
      });
      const usage = {
        channelId: BigInt(old.usage.channelId),
        sequence: BigInt(old.usage.sequence),
        totalBytes: BigInt(old.usage.totalBytes),
        time: BigInt(old.usage.time),
        link: old.usage.link as Hex,
      };
      assert.equal(usage.channelId, channelId);
      const data = encodeFunctionData({
        abi: bandwidthChannelAbi,
        functionName: "close",
        args: [channelId, usage as never, old.payerSignature as Hex, old.payeeSignature as Hex],
      });
      const closeTx = (await to.evaluate(
        async ({ to, data, from }) => {
          const scope = globalThis as unknown as {
            tabula: { account: { ownerClient(): Promise<{ request(args: unknown): Promise<unknown> }> } };
          };
          const client = await scope.tabula.account.ownerClient();
          return await client.request({ method: "eth_sendTransaction", params: [{ from, to, data }] });
        },
        { to: channels, data, from: payer },
      )) as Hex;
      const closing = await chain.waitForTransactionReceipt({ hash: closeTx });
      const [closed] = parseEventLogs({ abi: bandwidthChannelAbi, logs: closing.logs, eventName: "ChannelClosing" });
      assert.equal(closed?.args.totalBytes, usage.totalBytes, "closed with the old unit");

      // The sender's tab comes back: it finds the close, answers it with the newer unit it kept, and settles.
      const back = await sender.open(stack.appUrl);
      await back.locator('[data-testid="wallet"][data-status="connected"]').waitFor({ timeout: STALL_MS });
      await back.getByRole("link", { name: "Money" }).click();
      const row = `[data-testid="channel"][data-scheme="bandwidth"][data-channel="${channelId}"]`;
      const backProgress = [
        markup(back, '[data-testid="channels"]', "the sender's channels"),
        markup(to, '[data-testid="channels"]', "the receiver's channels"),
      ];
      await untilStalled(
        "the sender's tab answering the close",
        back.locator(`${row} [data-testid="channel-tx"][data-what="challenge"]`),
        {
          progress: backProgress,
          stallMs: STALL_MS,
        },
      );
      const challengeTx = (await back
        .locator(`${row} [data-testid="channel-tx"][data-what="challenge"]`)
        .getAttribute("title")) as Hex;
      const answered = await chain.getTransactionReceipt({ hash: challengeTx });
      const [challenged] = parseEventLogs({
        abi: bandwidthChannelAbi,
        logs: answered.logs,
        eventName: "ChannelChallenged",
      });
      const agreedBytes = challenged?.args.totalBytes ?? 0n;
      assert.ok(agreedBytes >= BigInt(24 * MiB), `answered with ${agreedBytes} bytes, at least the 24 MiB paid for`);
      assert.ok(agreedBytes > usage.totalBytes);

      const settled = await settle(chain, back, channelId, backProgress);
      const exact = (agreedBytes * PRICE_WEI) / 1_000_000n;
      assert.equal(settled.paid, exact, "paid for the newer unit, not the old one");
      assert.equal(settled.burned, 0n);
      assert.equal((await balance(payee)) - before.payee, exact, "the sender earned what was paid for");
      assert.equal(before.payer - (await balance(payer)), exact, "the receiver paid it, its old unit notwithstanding");
      assert.equal(await balance(channels), before.held, "the channel holds nothing more");
      await Promise.all([back.close(), to.close()]);
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
    }
  });
  it("a sender that claims more than it sent: the settlement pays only the count both signed, and the receiver's page shows the claim", async () => {
    const [sender, receiver] = await Promise.all([launchBrowser(), launchBrowser()]);
    try {
      const { chain, channels, balance, from, to, payee, payer, before, progress } = await paidLink(sender, receiver);
      await untilStalled("the paid send", to.locator('[data-testid="receive"][data-state="done"]'), {
        progress: progress(),
        stallMs: STALL_MS,
      });
      const channelId = BigInt((await to.getByTestId("receive-payment").getAttribute("data-channel")) ?? "0");
      const row = `[data-testid="channel"][data-scheme="bandwidth"][data-channel="${channelId}"]`;
      // The sender's tab closes the channel with the last unit both signed.
      await untilStalled("the sender closing", from.locator(`${row}[data-status="Closing"]`), {
        progress: progress(),
        stallMs: STALL_MS,
      });
      const read = () =>
        chain.readContract({
          address: channels,
          abi: bandwidthChannelAbi,
          functionName: "getChannel",
          args: [channelId],
        });
      const closing = await read();
      assert.equal(closing.agreedBytes, BigInt(FILE_BYTES));

      // The sender claims the most a one-sided claim may: its tolerance above what the receiver signed.
      const block = await chain.getBlock();
      const claim = {
        channelId,
        sequence: closing.agreedSequence + 1n,
        totalBytes: closing.agreedBytes + closing.lossToleranceBytes,
        time: block.timestamp,
        link: `0x${"00".repeat(32)}` as Hex,
      };
      const signature = (await from.evaluate(
        async ({ claim, chainId, contract }) => {
          const scope = globalThis as unknown as {
            tabula: {
              paidHosting: {
                operatorAccount(): Promise<{ signTypedData(parameters: unknown): Promise<string> }>;
              };
            };
          };
          const key = await scope.tabula.paidHosting.operatorAccount();
          return await key.signTypedData({
            domain: { name: "Tabula BandwidthChannel", version: "1", chainId, verifyingContract: contract },
            types: {
              Usage: [
                { name: "channelId", type: "uint256" },
                { name: "sequence", type: "uint64" },
                { name: "totalBytes", type: "uint128" },
                { name: "time", type: "uint64" },
                { name: "link", type: "bytes32" },
              ],
            },
            primaryType: "Usage",
            message: {
              channelId: BigInt(claim.channelId),
              sequence: BigInt(claim.sequence),
              totalBytes: BigInt(claim.totalBytes),
              time: BigInt(claim.time),
              link: claim.link,
            },
          });
        },
        {
          claim: {
            channelId: claim.channelId.toString(),
            sequence: claim.sequence.toString(),
            totalBytes: claim.totalBytes.toString(),
            time: claim.time.toString(),
            link: claim.link,
          },
          chainId: await chain.getChainId(),
          contract: channels,
        },
      )) as Hex;
      const none = { channelId: 0n, sequence: 0n, totalBytes: 0n, time: 0n, link: claim.link };
      const data = encodeFunctionData({
        abi: bandwidthChannelAbi,
        functionName: "submitClaim",
        args: [channelId, claim, signature, none, "0x"],
      });
      const claimTx = (await from.evaluate(
        async ({ to, data, from }) => {
          const scope = globalThis as unknown as {
            tabula: { account: { ownerClient(): Promise<{ request(args: unknown): Promise<unknown> }> } };
          };
          const client = await scope.tabula.account.ownerClient();
          return await client.request({ method: "eth_sendTransaction", params: [{ from, to, data }] });
        },
        { to: channels, data, from: payee },
      )) as Hex;
      const claimed = await chain.waitForTransactionReceipt({ hash: claimTx });
      assert.equal(claimed.status, "success");
      assert.equal((await read()).payeeBytes, claim.totalBytes, "the claim is on the chain");

      // The receiver's page shows the sender's claim.
      const receiverProgress = [markup(to, '[data-testid="channels"]', "the receiver's channels")];
      await untilStalled(
        "the receiver's tab showing the claim",
        to.locator(`${row} [data-testid="channel-tx"][data-what="claim"]`),
        {
          progress: receiverProgress,
          stallMs: STALL_MS,
        },
      );
      const settled = await settle(chain, from, channelId, progress());
      const exact = (BigInt(FILE_BYTES) * PRICE_WEI) / 1_000_000n;
      assert.equal(settled.paid, exact, "paid the count both signed, not the claim");
      assert.equal(settled.disputed, false);
      assert.equal(settled.burned, 0n);
      assert.equal((await balance(payee)) - before.payee, exact, "the sender gained nothing by its claim");
      assert.equal(before.payer - (await balance(payer)), exact, "the receiver paid what it received");
      assert.equal(await balance(channels), before.held, "the channel holds nothing more");
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
    }
  });
  it("a receiver that hands over tampered lottery tickets: the sender refuses the first by name and sends no more, and every token goes back to the receiver", async () => {
    const [sender, receiver] = await Promise.all([launchBrowser(), launchBrowser()]);
    try {
      const lottery = stack.contracts.Lottery as Address;
      const chainReader = createPublicClient({ transport: http(stack.chain.rpcUrl) });
      const lotteryHeld = () =>
        chainReader.readContract({
          address: stack.contracts.Token as Address,
          abi: tokenAbi,
          functionName: "balanceOf",
          args: [lottery],
        });
      const heldBefore = await lotteryHeld();
      const { chain, balance, from, to, payee, payer, before, progress } = await paidLink(sender, receiver, {
        tamper: true,
        scheme: "lottery",
      });
      await untilStalled("the sender refusing the ticket", from.getByTestId("send-refused"), {
        progress: progress(),
        stallMs: STALL_MS,
      });
      assert.match((await from.getByTestId("send-refused").textContent()) ?? "", /lottery ticket 0 is refused/);
      await untilStalled("the receiver told why", to.locator('[data-testid="receive"][data-state="failed"]'), {
        progress: progress(),
        stallMs: STALL_MS,
      });
      assert.match((await to.getByTestId("receive-error").textContent()) ?? "", /refused/);
      const sentBytes = BigInt((await from.getByTestId("outgoing").getAttribute("data-bytes")) ?? "0");
      assert.ok(sentBytes <= BigInt(MAX_CREDIT_BYTES), `sent ${sentBytes} bytes for no valid ticket`);
      assert.equal(await from.getByTestId("send-payment").getAttribute("data-paid-bytes"), "0");

      // The receiver has its lot drawn: the sender holds no ticket, so after the windows all of it comes back.
      const lotId = BigInt((await to.getByTestId("receive-payment").getAttribute("data-channel")) ?? "0");
      await to.getByRole("link", { name: "Money" }).click();
      const row = to.locator(`[data-testid="channel"][data-scheme="lottery"][data-channel="${lotId}"]`);
      await row.getByTestId("channel-draw").click();
      const moneyProgress = [markup(to, '[data-testid="channels"]', "the receiver's channels")];
      await untilStalled("the lot drawn", row.locator('[data-testid="lot"]:not([data-winning=""])'), {
        progress: moneyProgress,
        stallMs: STALL_MS,
      });
      await chain.request({ method: "evm_increaseTime" as never, params: [LOT_WINDOWS_SECONDS + 10] as never });
      await chain.request({ method: "evm_mine" as never, params: [] as never });
      await untilStalled("the lot finished", row.and(to.locator('[data-status="Finished"]')), {
        progress: moneyProgress,
        stallMs: STALL_MS,
      });
      // Every token accounted for: the receiver has all of it back, the sender was paid nothing.
      assert.equal(await balance(payer), before.payer, "the receiver has every token back");
      assert.equal(await balance(payee), before.payee, "the sender was paid nothing");
      assert.equal(await lotteryHeld(), heldBefore, "the lottery holds nothing more");
      await to.locator('[data-testid="money-total"][data-scheme="lottery"][data-paid="0"][data-locked="0"]').waitFor();
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
    }
  });
});
