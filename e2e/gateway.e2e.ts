import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { importDirectory } from "../scripts/car.ts";
import type { Stack } from "../scripts/lib/stack.ts";
import { type Browser, launchBrowser, startTestStack } from "./harness.ts";

const ROOT = join(import.meta.dirname, "..");
const DIST = join(ROOT, "dist");

describe("the built site under an IPFS path gateway prefix", () => {
  let stack: Stack;
  let browser: Browser;
  let cid: string;

  before(async () => {
    cid = (await importDirectory(DIST)).root.toString();
    stack = await startTestStack({ prefix: `/ipfs/${cid}/` });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("references its assets by relative URLs only", async () => {
    const html = await readFile(join(DIST, "index.html"), "utf8");
    const urls = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1] ?? "");
    assert.ok(urls.length >= 2);
    for (const url of urls) assert.match(url, /^\.\//, `${url} is relative`);
  });

  it("runs from /ipfs/<cid>/: config, peer, relay and wallet all work, and no request leaves the prefix", async () => {
    assert.equal(stack.appUrl, `${new URL(stack.appUrl).origin}/ipfs/${cid}/`);
    const outside: string[] = [];
    const failed: string[] = [];
    browser.context.on("request", (request) => {
      const url = new URL(request.url());
      if (url.origin === new URL(stack.appUrl).origin && !url.pathname.startsWith(`/ipfs/${cid}/`))
        outside.push(url.pathname);
    });
    browser.context.on("response", (response) => {
      if (response.status() >= 400) failed.push(`${response.status()} ${response.url()}`);
    });
    const page = await browser.open(stack.appUrl);
    await page.getByTestId("peer-id").waitFor();
    await page.locator('[data-testid="relay-status"][data-state="reserved"]').waitFor({ timeout: 30_000 });
    await page.locator('[data-testid="token-balance"][data-wei]').waitFor({ timeout: 30_000 });
    // Hash routing: a route change stays inside the prefix.
    await page.goto(`${stack.appUrl}#/no-such-page`);
    await page.getByText("There is no page at /no-such-page").waitFor();
    assert.deepEqual(outside, []);
    assert.deepEqual(failed, []);
  });

  it("gives the same root CID when the same sources are built again", async () => {
    const outDir = await mkdtemp(join(tmpdir(), "tabula-rebuild-"));
    try {
      const vite = join(ROOT, "node_modules", "vite", "bin", "vite.js");
      const build = spawnSync(
        process.execPath,
        [vite, "build", "--outDir", outDir, "--emptyOutDir", "--logLevel", "error"],
        { cwd: ROOT, encoding: "utf8" },
      );
      assert.equal(build.status, 0, build.stderr);
      assert.equal((await importDirectory(outDir)).root.toString(), cid);
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });
});
