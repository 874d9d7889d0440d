import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { devAccounts } from "../scripts/lib/chain.ts";
import { freePort } from "../scripts/lib/ports.ts";
import { startRelay } from "../scripts/lib/relay.ts";
import type { Stack } from "../scripts/lib/stack.ts";
import { injectedWalletScript } from "./fixtures/injected-wallet.ts";
import { type Browser, launchBrowser, startTestStack } from "./harness.ts";

const ROOT = join(import.meta.dirname, "..");

describe("faults a user can meet", () => {
  let browser: Browser;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });

  it("npm start names a port that is already taken and exits cleanly", async () => {
    const blocker = createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, "127.0.0.1", resolve));
    try {
      const child = spawn(
        process.execPath,
        [
          join(ROOT, "scripts", "start.ts"),
          "--relay-port",
          String(port),
          "--chain-port",
          String(await freePort()),
          "--app-port",
          String(await freePort()),
        ],
        {
          cwd: ROOT,
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      let output = "";
      child.stdout.on("data", (d: Buffer) => (output += d));
      child.stderr.on("data", (d: Buffer) => (output += d));
      const code = await new Promise<number | null>((resolve) => child.once("exit", resolve));
      assert.equal(code, 1);
      assert.match(output, new RegExp(`port ${port} on 127\\.0\\.0\\.1 \\(relay\\) is already in use`));
      assert.doesNotMatch(output, /Error: |at .*\.ts:\d+/, "a sentence, not a stack trace");
    } finally {
      blocker.close();
    }
  });

  describe("with a local stack", () => {
    let stack: Stack | undefined;
    afterEach(async () => {
      await stack?.stop();
      stack = undefined;
    });

    it("shows a clear error, not a blank page, when config.json is unreadable", async () => {
      stack = await startTestStack({ files: { "config.json": "{ this is not json" } });
      const page = await browser.open(stack.appUrl);
      const error = page.getByTestId("fatal-error");
      await error.waitFor();
      const text = (await error.textContent()) ?? "";
      assert.match(text, /configuration could not be read/);
      assert.match(text, /config\.json .* is not valid JSON/);
      assert.match(text, /fix or replace it and reload/);
      await page.close();
    });

    it("says when no relay is reachable, retries with backoff, and reserves once the relay is up", async () => {
      const relayPort = await freePort();
      stack = await startTestStack({ configure: (c) => ({ ...c, relays: [`/ip4/127.0.0.1/tcp/${relayPort}/ws`] }) });
      const page = await browser.open(stack.appUrl);
      const status = page.getByTestId("relay-status");
      await page.locator('[data-testid="relay-status"][data-state="unreachable"]').waitFor({ timeout: 30_000 });
      assert.match((await status.textContent()) ?? "", /other tabs can't find you\. Retrying in \d+\s*s \(attempt 1\)/);
      await page
        .locator('[data-testid="relay-status"][data-state="unreachable"]', { hasText: "attempt 2" })
        .waitFor({ timeout: 30_000 });
      const relay = await startRelay({ host: "127.0.0.1", port: relayPort });
      try {
        await page.locator('[data-testid="relay-status"][data-state="reserved"]').waitFor({ timeout: 60_000 });
      } finally {
        await page.close();
        await relay.stop();
      }
    });

    it("asks a wallet on another chain to switch, then shows its balances", async () => {
      stack = await startTestStack();
      const [, account] = await devAccounts(stack.chain.rpcUrl);
      assert.ok(account);
      await browser.context.addInitScript({
        content: injectedWalletScript({ rpcUrl: stack.chain.rpcUrl, account, startChainId: 1 }),
      });
      const page = await browser.open(stack.appUrl);
      // The burner connects by default on a local chain; the user picks their browser wallet instead.
      await page.locator('[data-testid="wallet"][data-status="connected"]').waitFor({ timeout: 30_000 });
      await page.getByRole("button", { name: "Disconnect" }).click();
      await page.getByRole("button", { name: "Test Wallet" }).click();
      await page.getByTestId("wrong-chain").waitFor();
      assert.match(
        (await page.getByTestId("wrong-chain").textContent()) ?? "",
        /on chain 1; Tabula here runs on Local Hardhat chain \(31337\)/,
      );
      await page.getByRole("button", { name: "Switch to Local Hardhat chain" }).click();
      await page.getByTestId("eth-balance").waitFor();
      assert.equal(
        (await page.getByTestId("wallet-address").textContent())?.trim().toLowerCase(),
        account.toLowerCase(),
      );
      assert.equal(await page.getByTestId("wrong-chain").count(), 0);
      await page.locator('[data-testid="eth-balance"][data-wei]').waitFor();
      const wei = BigInt((await page.getByTestId("eth-balance").getAttribute("data-wei")) ?? "0");
      assert.ok(wei > 0n, "the development account's ETH balance is shown");
      await page.close();
    });
  });
});
