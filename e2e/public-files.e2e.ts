import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import type { Stack } from "../scripts/lib/stack.ts";
import {
  type Browser,
  downloadWhileProgressing,
  launchBrowser,
  markup,
  startTestStack,
  untilStalled,
} from "./harness.ts";

const FILE_BYTES = 3 * 1024 * 1024 + 12_345;
/** Adding or fetching fails once its progress bar and bytes stand still this long. */
const STALL_MS = 60_000;

describe("public files: UnixFS through Helia, fetched by CID over bitswap", () => {
  let stack: Stack;
  let browser: Browser;
  before(async () => {
    stack = await startTestStack();
    browser = await launchBrowser();
    // Exercise the download path every browser has (Firefox and Safari lack the save dialog API).
    await browser.context.addInitScript({ content: "delete window.showSaveFilePicker;" });
  });
  after(async () => {
    await browser?.close();
    await stack?.stop();
  });

  async function direct(a: Page, b: Page): Promise<void> {
    const idB = (await b.getByTestId("peer-id").textContent())?.trim();
    await a.locator(`[data-testid="peer"][data-peer-id="${idB}"][data-kind="webrtc"]`).waitFor({ timeout: 60_000 });
  }

  it("adds a file in one tab and fetches it byte-identical in another", async () => {
    const content = randomBytes(FILE_BYTES);
    const a = await browser.open(stack.appUrl);
    const b = await browser.open(stack.appUrl);
    await direct(b, a);
    await a.goto(`${stack.appUrl}#/public`);

    await a
      .getByTestId("public-file-input")
      .setInputFiles({ name: "hello.bin", mimeType: "application/octet-stream", buffer: content });
    const added = a.locator('[data-testid="public-added"]:not([data-cid=""])');
    await untilStalled("adding hello.bin", added, {
      progress: [markup(a, '[data-testid="public-add"]', "the add's progress")],
      stallMs: STALL_MS,
    });
    const cid = (await added.getAttribute("data-cid")) ?? "";
    assert.match(cid, /^bafy/);
    // Published means pinned in the tab's Helia: nothing the tab cleans up deletes its blocks.
    const pinned = await a.evaluate(async () => {
      const { node } = (
        globalThis as unknown as {
          tabula: { node: { helia: { pins: { ls(): AsyncIterable<{ cid: { toString(): string } }> } } } };
        }
      ).tabula;
      const cids: string[] = [];
      for await (const pin of node.helia.pins.ls()) cids.push(pin.cid.toString());
      return cids;
    });
    assert.deepEqual(pinned, [cid]);

    await b.goto(`${stack.appUrl}#/public`);
    await b.getByTestId("public-cid-input").fill(cid);
    const { path } = await downloadWhileProgressing(
      "fetching hello.bin by CID",
      b,
      browser,
      () => b.getByRole("button", { name: "Fetch" }).click(),
      { progress: [markup(b, '[data-testid="public-fetch"]', "the fetch's progress")], stallMs: STALL_MS },
    );
    const fetched = await readFile(path);
    assert.equal(fetched.length, content.length);
    assert.equal(
      createHash("sha256").update(fetched).digest("hex"),
      createHash("sha256").update(content).digest("hex"),
    );
    await b.locator('[data-testid="public-fetch-status"][data-done="true"][data-error="false"]').waitFor();
  });

  it("names a malformed CID", async () => {
    const page = await browser.open(`${stack.appUrl}#/public`);
    await page.getByTestId("public-cid-input").fill("not-a-cid");
    await page.getByRole("button", { name: "Fetch" }).click();
    await page.locator('[data-testid="public-fetch-status"][data-error="true"]').waitFor();
    assert.match(
      (await page.getByTestId("public-fetch-status").textContent()) ?? "",
      /is not a CID.*Paste the whole content identifier/s,
    );
  });
});
