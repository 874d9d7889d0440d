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
import {
  bandwidthChannelAbi,
  hashChainChannelAbi,
  lotteryAbi,
  merkleChannelAbi,
  tokenAbi,
} from "../web/src/chain/abi.ts";
import {
  attributes,
  type Browser,
  downloadWhileProgressing,
  launchBrowser,
  markup,
  startTestStack,
  untilStalled,
} from "./harness.ts";
import { connectedWallet } from "./paid-hosts.ts";

const FILE_BYTES = 64 * 1024 * 1024;
/** What the sender asks per MB (10^6 bytes). */
const PRICE = "0.001";
const PRICE_WEI = parseEther(PRICE);
/** The channel's challenge window on the local chain (contracts/deploy/payments.ts). */
const CHALLENGE_WINDOW_SECONDS = 24 * 60 * 60;
/** The schemes that pay one unit per MB: their contract, and how the page and the test name them. */
const TOKEN_SCHEMES = {
  "hash-chain": { contract: "HashChainChannel", name: "a hash chain", token: "preimage" },
  merkle: { contract: "MerkleChannel", name: "Merkle tokens", token: "token" },
} as const;
/** A step fails once neither tab has shown a byte or a state change for this long. */
const STALL_MS = 90_000;

function sendProgress(from: Page, to: Page): ProgressSignal[] {
  return [
    attributes(to, '[data-testid="receive"]', ["data-state"], "receiver state"),
    attributes(to, '[data-testid="receive-progress"]', ["data-bytes"], "bytes received"),
    attributes(to, '[data-testid="receive-payment"]', ["data-paid-bytes"], "bytes the receiver paid for"),
    attributes(
      from,
      '[data-testid="send-payment"]',
      ["data-paid-bytes", "data-closed"],
      "bytes the sender was paid for",
    ),
    markup(from, '[data-testid="channels"]', "the sender's channels"),
  ];
}

/** Tickets a new lottery lot holds (core/payments/cost.ts LOT_TICKETS). */
const LOT_TICKETS = 100;
/** Past a closed lot's reveal and claim windows on the local chain (contracts/deploy/payments.ts). */
const LOT_WINDOWS_SECONDS = 60 * 60 + 24 * 60 * 60;

describe("paid send: tab to tab, paid per byte over a bandwidth channel, a hash chain, Merkle tokens or lottery tickets", () => {
  let stack: Stack;
  let sender: Browser;
  let receiver: Browser;
  let dir: string;

  before(async () => {
    stack = await startTestStack();
    [sender, receiver] = await Promise.all([launchBrowser(), launchBrowser()]);
    await receiver.context.addInitScript({ content: "delete window.showSaveFilePicker;" });
    dir = await mkdtemp(join(tmpdir(), "tabula-paid-send-e2e-"));
  });

  after(async () => {
    await Promise.all([sender?.close(), receiver?.close()]);
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /**
   * A 64 MiB file on disk, the sender's tab on its Send page and the receiver's tab, both with funded wallets, and
   * the balances before: of both owners, of the contract `held` that locks the payment, and the token's supply.
   */
  async function openPaidSend(sender: Browser, receiver: Browser, name: string, held: Address) {
    const chain = createPublicClient({ transport: http(stack.chain.rpcUrl) });
    const token = stack.contracts.Token as Address;
    const balance = (address: Address) =>
      chain.readContract({ address: token, abi: tokenAbi, functionName: "balanceOf", args: [address] });
    const supply = () => chain.readContract({ address: token, abi: tokenAbi, functionName: "totalSupply" });

    const original = randomFillSync(new Uint8Array(FILE_BYTES));
    const path = join(dir, name);
    await writeFile(path, original);
    const digest = createHash("sha256").update(original).digest("hex");

    const from = await sender.open(stack.appUrl);
    const payee = await connectedWallet(from);
    await from.getByRole("link", { name: "Send" }).click();
    const to = await receiver.open(stack.appUrl);
    const payer = await connectedWallet(to);
    const before = {
      payee: await balance(payee),
      payer: await balance(payer),
      held: await balance(held),
      supply: await supply(),
    };
    return { chain, balance, supply, path, digest, from, to, payee, payer, before };
  }

  it("sends 64 MiB for 0.001 TAB per MB: the receiver sees the cost first, both sign as the bytes flow, the channel settles to the last unit", async () => {
    const channels = stack.contracts.BandwidthChannel as Address;
    const { chain, balance, supply, path, digest, from, to, payee, payer, before } = await openPaidSend(
      sender,
      receiver,
      "paid.bin",
      channels,
    );

    await from.getByTestId("send-price").fill(PRICE);
    await from.getByTestId("send-input").setInputFiles(path);
    // Making the link paid authorizes the tab's key to be paid (one transaction) before the link shows.
    await untilStalled("the paid link", from.getByTestId("send-link"), {
      progress: [markup(from, '[data-testid="send"]', "the send page")],
      stallMs: STALL_MS,
    });
    const link = await from.getByTestId("send-link").inputValue();
    await to.goto(link);

    // The cost before a byte moves: 64 MiB at the price, rounded up, is what the channel locks.
    const cost = (BigInt(FILE_BYTES) * PRICE_WEI + 999_999n) / 1_000_000n;
    const quote = to.locator(`[data-testid="receive-quote"][data-cost="${cost}"]`);
    await quote.waitFor({ timeout: STALL_MS });
    assert.match((await quote.textContent()) ?? "", new RegExp(payee));
    await to.getByTestId("accept").click();
    const started = performance.now();
    await untilStalled("the paid send", to.locator('[data-testid="receive"][data-state="done"]'), {
      progress: sendProgress(from, to),
      stallMs: STALL_MS,
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(`# 64 MiB paid over a bandwidth channel in ${seconds.toFixed(1)} s, channel opened included`);
    const channelId = BigInt((await to.getByTestId("receive-payment").getAttribute("data-channel")) ?? "0");
    assert.ok(channelId > 0n, "the receiver shows its channel");

    // The sender is paid for every byte, then closes the channel with the last unit both signed.
    const exact = (BigInt(FILE_BYTES) * PRICE_WEI) / 1_000_000n;
    await untilStalled(
      "the sender closing the channel",
      from.locator(
        `[data-testid="send-payment"][data-closed="true"][data-paid-bytes="${FILE_BYTES}"][data-earned="${exact}"]`,
      ),
      { progress: sendProgress(from, to), stallMs: STALL_MS },
    );
    await to
      .locator(`[data-testid="receive-payment"][data-paid-bytes="${FILE_BYTES}"][data-paid="${exact}"]`)
      .waitFor();
    const row = `[data-testid="channel"][data-channel="${channelId}"]`;
    await from.locator(`${row}[data-role="payee"][data-status="Closing"]`).waitFor({ timeout: STALL_MS });

    const { download: saved, path: savedPath } = await downloadWhileProgressing(
      "saving paid.bin",
      to,
      receiver,
      () => to.getByTestId("save-received").click(),
      { progress: sendProgress(from, to), stallMs: STALL_MS },
    );
    assert.equal(saved.suggestedFilename(), "paid.bin");
    const got = await readFile(savedPath);
    assert.equal(createHash("sha256").update(got).digest("hex"), digest, "byte-identical");

    // While the challenge window runs, the deposit stays locked.
    assert.equal(await balance(channels), before.held + cost);
    // After it, the sender's tab settles on its own.
    await chain.request({ method: "evm_increaseTime" as never, params: [CHALLENGE_WINDOW_SECONDS + 10] as never });
    await chain.request({ method: "evm_mine" as never, params: [] as never });
    await untilStalled("the sender's tab settling", from.locator(`${row}[data-status="Settled"]`), {
      progress: [markup(from, '[data-testid="channels"]', "the sender's channels")],
      stallMs: STALL_MS,
    });
    const settleTx = (await from
      .locator(`${row} [data-testid="channel-tx"][data-what="settle"]`)
      .getAttribute("title")) as `0x${string}`;
    const receipt = await chain.getTransactionReceipt({ hash: settleTx });
    const [settled] = parseEventLogs({ abi: bandwidthChannelAbi, logs: receipt.logs, eventName: "ChannelSettled" });
    assert.deepEqual(settled?.args, { channelId, paid: exact, refunded: cost - exact, burned: 0n, disputed: false });

    // Every token accounted for, to the last unit: the payer paid the exact price of the bytes, the sender got it,
    // the channel holds nothing, and nothing was burned.
    assert.equal((await balance(payee)) - before.payee, exact, "the sender earned the bytes' price");
    assert.equal(before.payer - (await balance(payer)), exact, "the receiver paid the bytes' price");
    assert.equal(await balance(channels), before.held, "the channel holds nothing more");
    assert.equal(await supply(), before.supply, "nothing burned");
    await Promise.all([from.close(), to.close()]);
  });

  for (const scheme of ["hash-chain", "merkle"] as const) {
    it(`sends 64 MiB paid through ${TOKEN_SCHEMES[scheme].name} the receiver picks: one ${TOKEN_SCHEMES[scheme].token} per MB, redeemed once`, async () => {
      // Wallets of their own: the first test's wallets no longer hold what the faucet gives.
      const [sender, receiver] = await Promise.all([launchBrowser(), launchBrowser()]);
      try {
        await receiver.context.addInitScript({ content: "delete window.showSaveFilePicker;" });
        await sendThroughTokens(sender, receiver, scheme);
      } finally {
        await Promise.all([sender.close(), receiver.close()]);
      }
    });
  }

  /** A paid send through a scheme that pays one unit per MB: a hash chain or Merkle tokens. */
  async function sendThroughTokens(sender: Browser, receiver: Browser, scheme: "hash-chain" | "merkle"): Promise<void> {
    const { contract, name } = TOKEN_SCHEMES[scheme];
    const held = stack.contracts[contract] as Address;
    const file = `${scheme}.bin`;
    const { chain, balance, supply, path, digest, from, to, payee, payer, before } = await openPaidSend(
      sender,
      receiver,
      file,
      held,
    );

    // The link takes every scheme (the default); the receiver picks this one.
    await from.getByTestId("send-price").fill(PRICE);
    for (const each of ["bandwidth", "hash-chain", "merkle"]) {
      assert.equal(await from.getByTestId(`send-scheme-${each}`).isChecked(), true);
    }
    await from.getByTestId("send-input").setInputFiles(path);
    await untilStalled("the paid link", from.getByTestId("send-link"), {
      progress: [markup(from, '[data-testid="send"]', "the send page")],
      stallMs: STALL_MS,
    });
    await to.goto(await from.getByTestId("send-link").inputValue());
    await to.locator('[data-testid="receive-quote"][data-scheme="bandwidth"]').waitFor({ timeout: STALL_MS });
    await to.getByTestId("receive-scheme").selectOption(scheme);

    // One unit per MB, the last one whole: 64 MiB is 68 units at the price, all locked up front.
    const units = BigInt(Math.ceil(FILE_BYTES / 1_000_000));
    const cost = units * PRICE_WEI;
    const quote = to.locator(`[data-testid="receive-quote"][data-scheme="${scheme}"][data-cost="${cost}"]`);
    await quote.waitFor({ timeout: STALL_MS });
    assert.match((await quote.textContent()) ?? "", new RegExp(name));
    await to.getByTestId("accept").click();
    const started = performance.now();
    await untilStalled("the paid send", to.locator('[data-testid="receive"][data-state="done"]'), {
      progress: sendProgress(from, to),
      stallMs: STALL_MS,
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(`# 64 MiB paid through ${name} in ${seconds.toFixed(1)} s, deposit locked included`);
    const payment = to.locator(`[data-testid="receive-payment"][data-scheme="${scheme}"]`);
    const channelId = BigInt((await payment.getAttribute("data-channel")) ?? "0");
    assert.ok(channelId > 0n, "the receiver shows what it locked");

    // Every MB was paid for; the sender redeems once the transfer is over.
    await untilStalled(
      "the sender redeeming",
      from.locator(
        `[data-testid="send-payment"][data-closed="true"][data-paid-bytes="${FILE_BYTES}"][data-earned="${cost}"]`,
      ),
      { progress: sendProgress(from, to), stallMs: STALL_MS },
    );
    await to.locator(`[data-testid="receive-payment"][data-paid-bytes="${FILE_BYTES}"][data-paid="${cost}"]`).waitFor();
    const row = `[data-testid="channel"][data-scheme="${scheme}"][data-channel="${channelId}"]`;
    await from.locator(`${row}[data-role="payee"][data-status="Redeemed"][data-amount="${cost}"]`).waitFor();
    // The payer's tab reads how its payment ended on its next look at the chain.
    await untilStalled(
      "the receiver's tab seeing the redemption",
      to.locator(`${row}[data-role="payer"][data-status="Redeemed"]`),
      { progress: [markup(to, '[data-testid="channels"]', "the receiver's channels")], stallMs: STALL_MS },
    );

    const { download: saved, path: savedPath } = await downloadWhileProgressing(
      `saving ${file}`,
      to,
      receiver,
      () => to.getByTestId("save-received").click(),
      { progress: sendProgress(from, to), stallMs: STALL_MS },
    );
    assert.equal(saved.suggestedFilename(), file);
    const got = await readFile(savedPath);
    assert.equal(createHash("sha256").update(got).digest("hex"), digest, "byte-identical");

    const redeemTx = (await from
      .locator(`${row} [data-testid="channel-tx"][data-what="redeem"]`)
      .getAttribute("title")) as `0x${string}`;
    const receipt = await chain.getTransactionReceipt({ hash: redeemTx });
    const id = `0x${channelId.toString(16).padStart(64, "0")}`;
    if (scheme === "hash-chain") {
      const [redeemed] = parseEventLogs({ abi: hashChainChannelAbi, logs: receipt.logs, eventName: "ChannelRedeemed" });
      assert.deepEqual(redeemed?.args, { channelId: id, payee, depth: units, paid: cost, refunded: 0n });
    } else {
      const [redeemed] = parseEventLogs({ abi: merkleChannelAbi, logs: receipt.logs, eventName: "TokensRedeemed" });
      assert.deepEqual(redeemed?.args, { channelId: id, payee, tokens: units, paid: cost });
    }

    // Every token accounted for: the receiver paid one unit per MB, the sender got it, the contract holds nothing
    // more, nothing was burned.
    assert.equal((await balance(payee)) - before.payee, cost, "the sender earned every unit");
    assert.equal(before.payer - (await balance(payer)), cost, "the receiver paid every unit");
    assert.equal(await balance(held), before.held, `the ${contract} holds nothing more`);

    // The money screens add it up: the sender earned the cost, the receiver paid it and has nothing locked.
    await from.getByRole("link", { name: "Money" }).click();
    await from.locator(`[data-testid="money-total"][data-scheme="${scheme}"][data-earned="${cost}"]`).waitFor();
    await to.getByRole("link", { name: "Money" }).click();
    await to
      .locator(`[data-testid="money-total"][data-scheme="${scheme}"][data-paid="${cost}"][data-locked="0"]`)
      .waitFor();
    assert.equal(await supply(), before.supply, "nothing burned");
    await Promise.all([from.close(), to.close()]);
  }
  it("sends 64 MiB, then 32 MB and 10 MB, paid in lottery tickets: one lot serves the first two and is drawn full, a second is drawn on request, and every token is accounted for", async () => {
    const [sender, receiver] = await Promise.all([launchBrowser(), launchBrowser()]);
    try {
      await receiver.context.addInitScript({ content: "delete window.showSaveFilePicker;" });
      await sendThroughLottery(sender, receiver);
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
    }
  });

  /**
   * Three paid sends in lottery tickets between the same two tabs. The first lot (100 tickets) pays the 68 MB of
   * the first file and the 32 of the second, so it is full and its draw pays the sender whatever the winning index;
   * the third file opens a second lot, drawn when the receiver asks, whose 10 tickets win with 10 chances in 100.
   */
  async function sendThroughLottery(sender: Browser, receiver: Browser): Promise<void> {
    const lottery = stack.contracts.Lottery as Address;
    const { chain, balance, supply, path, digest, from, to, payee, payer, before } = await openPaidSend(
      sender,
      receiver,
      "lottery.bin",
      lottery,
    );
    await from.getByTestId("send-price").fill(PRICE);
    assert.equal(await from.getByTestId("send-scheme-lottery").isChecked(), true);
    const files = [
      { name: "lottery.bin", path, digest, bytes: FILE_BYTES },
      ...(await Promise.all(
        [
          ["lottery-2.bin", 32_000_000],
          ["lottery-3.bin", 10_000_000],
        ].map(async ([name, bytes]) => {
          const data = randomFillSync(new Uint8Array(bytes as number));
          const at = join(dir, name as string);
          await writeFile(at, data);
          return {
            name: name as string,
            path: at,
            digest: createHash("sha256").update(data).digest("hex"),
            bytes: bytes as number,
          };
        }),
      )),
    ];
    const lots: bigint[] = [];
    for (const [i, file] of files.entries()) {
      await from.getByTestId("send-input").setInputFiles(file.path);
      const outgoing = from.locator('[data-testid="outgoing"]', { hasText: file.name });
      await untilStalled("the paid link", outgoing.getByTestId("send-link"), {
        progress: [markup(from, '[data-testid="send"]', "the send page")],
        stallMs: STALL_MS,
      });
      await to.goto(await outgoing.getByTestId("send-link").inputValue());
      await to.locator('[data-testid="receive-quote"][data-scheme="bandwidth"]').waitFor({ timeout: STALL_MS });
      await to.getByTestId("receive-scheme").selectOption("lottery");
      // One ticket per MB, worth the MB's price in expectation; a new lot locks its value, a fine and a cover.
      const units = BigInt(Math.ceil(file.bytes / 1_000_000));
      const cost = units * PRICE_WEI;
      const deposit = 3n * BigInt(LOT_TICKETS) * PRICE_WEI;
      const quote = to.locator(
        `[data-testid="receive-quote"][data-scheme="lottery"][data-cost="${cost}"][data-deposit="${deposit}"]`,
      );
      await quote.waitFor({ timeout: STALL_MS });
      assert.match((await quote.textContent()) ?? "", /lottery tickets/);
      await to.getByTestId("accept").click();
      const started = performance.now();
      await untilStalled(`the paid send of ${file.name}`, to.locator('[data-testid="receive"][data-state="done"]'), {
        progress: sendProgress(from, to),
        stallMs: STALL_MS,
      });
      const seconds = (performance.now() - started) / 1000;
      console.log(`# ${file.bytes} bytes paid in lottery tickets in ${seconds.toFixed(1)} s, lot funded included`);
      const payment = to.locator(
        `[data-testid="receive-payment"][data-scheme="lottery"][data-paid-bytes="${file.bytes}"][data-paid="${cost}"]`,
      );
      await payment.waitFor({ timeout: STALL_MS });
      lots.push(BigInt((await payment.getAttribute("data-channel")) ?? "0"));
      // The sender was handed a ticket for every MB: worth the cost in expectation.
      await outgoing
        .locator(`[data-testid="send-payment"][data-paid-bytes="${file.bytes}"][data-earned="${cost}"]`)
        .waitFor({ timeout: STALL_MS });
      const { download: saved, path: savedPath } = await downloadWhileProgressing(
        `saving ${file.name}`,
        to,
        receiver,
        () => to.getByTestId("save-received").click(),
        { progress: sendProgress(from, to), stallMs: STALL_MS },
      );
      assert.equal(saved.suggestedFilename(), file.name);
      const got = await readFile(savedPath);
      assert.equal(createHash("sha256").update(got).digest("hex"), file.digest, `${file.name} byte-identical`);
      if (i === 0) {
        // While the lot is drawn on, its value, fine and cover stay locked.
        assert.equal(await balance(lottery), before.held + deposit);
      }
    }
    const [first, , second] = lots as [bigint, bigint, bigint];
    assert.equal(lots[1], first, "the second file drew on the first lot, which had room for it");
    assert.notEqual(second, first, "the third file needed a lot of its own");
    const lotValue = BigInt(LOT_TICKETS) * PRICE_WEI;
    const lotRow = (page: Page, lotId: bigint) =>
      page.locator(`[data-testid="channel"][data-scheme="lottery"][data-channel="${lotId}"]`);
    const channelsProgress = [
      markup(from, '[data-testid="channels"]', "the sender's channels"),
      markup(to, '[data-testid="channels"]', "the receiver's channels"),
    ];

    // The full lot is drawn on its own; every index is the sender's, so its tab redeems the whole lot.
    await untilStalled(
      "the full lot drawn and redeemed",
      lotRow(from, first).and(from.locator('[data-status="Redeemed"]')),
      {
        progress: channelsProgress,
        stallMs: STALL_MS,
      },
    );
    assert.equal(await lotRow(from, first).getAttribute("data-amount"), lotValue.toString());

    // The second lot is drawn when the receiver asks, on its Money page.
    await to.getByRole("link", { name: "Money" }).click();
    await lotRow(to, second).getByTestId("channel-draw").click();
    await untilStalled(
      "the second lot drawn",
      lotRow(to, second).locator('[data-testid="lot"]:not([data-winning=""])'),
      {
        progress: channelsProgress,
        stallMs: STALL_MS,
      },
    );
    const winning = Number(await lotRow(to, second).getByTestId("lot").getAttribute("data-winning"));
    const drawn = await chain.readContract({
      address: lottery,
      abi: lotteryAbi,
      functionName: "getLot",
      args: [second],
    });
    assert.equal(drawn.winningIndex, winning, "the page shows the drawn index");
    // The sender holds indices 0..9 of the second lot: it is paid the lot exactly when one of them was drawn.
    const secondWon = winning < 10;
    if (secondWon) {
      await untilStalled(
        "the second lot redeemed",
        lotRow(from, second).and(from.locator('[data-status="Redeemed"]')),
        {
          progress: channelsProgress,
          stallMs: STALL_MS,
        },
      );
    }
    // Each ticket is worth a lot value over the lot's size: the 110 tickets' expectation is the 110 MB's price.
    const expected = (110n * lotValue) / BigInt(LOT_TICKETS);
    const paid = lotValue + (secondWon ? lotValue : 0n);
    console.log(
      `# lottery: 110 tickets worth ${expected} in expectation; the draws paid ${paid} (second lot's index ${winning})`,
    );
    assert.equal(expected, 110n * PRICE_WEI);

    // After the claim window the receiver's tab takes back what nobody won: the fines and covers, and the second
    // lot's value unless it was won.
    await chain.request({ method: "evm_increaseTime" as never, params: [LOT_WINDOWS_SECONDS + 10] as never });
    await chain.request({ method: "evm_mine" as never, params: [] as never });
    for (const lotId of [first, second]) {
      await untilStalled(`lot ${lotId} finished`, lotRow(to, lotId).and(to.locator('[data-status="Finished"]')), {
        progress: channelsProgress,
        stallMs: STALL_MS,
      });
    }
    for (const lotId of [first, second]) {
      const finishTx = (await lotRow(to, lotId)
        .locator('[data-testid="channel-tx"][data-what="finish"]')
        .getAttribute("title")) as `0x${string}`;
      const receipt = await chain.getTransactionReceipt({ hash: finishTx });
      const [finished] = parseEventLogs({ abi: lotteryAbi, logs: receipt.logs, eventName: "LotFinished" });
      const won = lotId === first || secondWon;
      assert.deepEqual(finished?.args, { lotId, refunded: won ? 2n * lotValue : 3n * lotValue, burned: 0n });
    }

    // Every token accounted for: the sender got exactly the lots it won, the receiver paid exactly that, the lottery
    // holds nothing more, nothing was burned.
    assert.equal((await balance(payee)) - before.payee, paid, "the sender earned the lots it won");
    assert.equal(before.payer - (await balance(payer)), paid, "the receiver paid the lots it lost");
    assert.equal(await balance(lottery), before.held, "the Lottery holds nothing more");
    assert.equal(await supply(), before.supply, "nothing burned");
    await from.getByRole("link", { name: "Money" }).click();
    await from.locator(`[data-testid="money-total"][data-scheme="lottery"][data-earned="${paid}"]`).waitFor();
    await to
      .locator(`[data-testid="money-total"][data-scheme="lottery"][data-paid="${paid}"][data-locked="0"]`)
      .waitFor();
    await Promise.all([from.close(), to.close()]);
  }
});
