import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import * as dagCbor from "@ipld/dag-cbor";
import type { CID } from "multiformats/cid";
import type { Page } from "playwright-core";
import type { Stack } from "../scripts/lib/stack.ts";
import {
  type Browser,
  downloadWhileProgressing,
  launchBrowser,
  markup,
  openFiles,
  startTestStack,
  tabWork,
  untilStalled,
} from "./harness.ts";

const FILE_BYTES = 64 * 1024 * 1024;
/** Storing or reading the file fails once its stage bars, or its reads and writes of blocks, stand still this long. */
const STALL_MS = 60_000;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** Reads IndexedDB from inside the tab. */
async function manifestBytes(page: Page, cid: string): Promise<Uint8Array> {
  const bytes = await page.evaluate(async (cid) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open("tabula-files");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const value = await new Promise<Uint8Array>((resolve, reject) => {
      const req = db.transaction("manifests").objectStore("manifests").get(cid);
      req.onsuccess = () => resolve(req.result as Uint8Array);
      req.onerror = () => reject(req.error);
    });
    db.close();
    return Array.from(value);
  }, cid);
  return Uint8Array.from(bytes);
}

async function deleteBlocks(page: Page, cids: string[]): Promise<number> {
  return await page.evaluate(async (cids) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const req = indexedDB.open("tabula-files");
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
    const tx = db.transaction("blocks", "readwrite");
    for (const cid of cids) tx.objectStore("blocks").delete(cid);
    const left = await new Promise<number>((resolve) => {
      const req = tx.objectStore("blocks").count();
      req.onsuccess = () => resolve(req.result);
    });
    await new Promise((resolve) => {
      tx.oncomplete = resolve;
    });
    db.close();
    return left;
  }, cids);
}

describe("files: store, lose two shards, reload, get the file back", () => {
  let stack: Stack;
  let browser: Browser;
  let dir: string;

  before(async () => {
    stack = await startTestStack();
    browser = await launchBrowser();
    // Downloads go through a Blob and the browser's download manager, which the test can read back; the
    // streamed-to-disk path needs a save dialog nobody can click in a headless browser.
    await browser.context.addInitScript(() => {
      Object.defineProperty(window, "showSaveFilePicker", { value: undefined });
    });
    dir = await mkdtemp(join(tmpdir(), "tabula-files-e2e-"));
  });

  after(async () => {
    await browser?.close();
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("stores a 64 MiB file through the UI and gets it back byte-identical with two shards gone", async () => {
    const original = randomFillSync(new Uint8Array(FILE_BYTES));
    const path = join(dir, "holiday.mov");
    await writeFile(path, original);

    const page = await browser.open(stack.appUrl);
    await openFiles(page, stack.appUrl);
    await page.getByTestId("file-input").setInputFiles(path);
    await page.getByTestId("store-progress").waitFor({ timeout: 30_000 });
    const row = page.locator('[data-testid="file"][data-name="holiday.mov"]');
    await untilStalled("storing holiday.mov", row, {
      progress: [markup(page, '[data-testid="store-progress"]', "store progress"), tabWork(page)],
      stallMs: STALL_MS,
    });
    const cid = (await row.getAttribute("data-cid")) ?? "";
    assert.match(cid, /^bafy/);

    // Lose one data shard and one parity shard: every one of their pieces goes from IndexedDB.
    const manifest = dagCbor.decode(await manifestBytes(page, cid)) as {
      k: number;
      m: number;
      shards: { pieces: CID[] }[];
    };
    assert.equal(manifest.k, 4);
    assert.equal(manifest.m, 2);
    const lost = [1, 4].flatMap((s) => manifest.shards[s]?.pieces.map((p) => p.toString()) ?? []);
    const segments = manifest.shards[0]?.pieces.length ?? 0;
    assert.equal(lost.length, 2 * segments);
    assert.equal(await deleteBlocks(page, lost), 4 * segments, "only the four other shards are left");

    await page.reload();
    await openFiles(page, stack.appUrl);
    await row.waitFor({ timeout: 30_000 });
    const { download, path: saved } = await downloadWhileProgressing(
      "reading holiday.mov back",
      page,
      browser,
      () => row.getByTestId("download").click(),
      { progress: [tabWork(page)], stallMs: STALL_MS },
    );
    assert.equal(download.suggestedFilename(), "holiday.mov");
    const got = new Uint8Array(await readFile(saved));
    assert.equal(got.length, FILE_BYTES);
    assert.equal(sha256(got), sha256(original), "the file comes back byte-identical");
    await page.locator('[data-testid="downloaded"][data-damaged="1,4"]').waitFor({ timeout: 10_000 });
  });
});
