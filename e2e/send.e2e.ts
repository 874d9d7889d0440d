import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { chromiumProcesses, rssBytes } from "../scripts/lib/proc-stats.ts";
import type { ProgressSignal } from "../scripts/lib/progress-watch.ts";
import type { Stack } from "../scripts/lib/stack.ts";
import {
  attributes,
  type Browser,
  downloadWhileProgressing,
  launchBrowser,
  peerIdOf,
  startTestStack,
  untilStalled,
} from "./harness.ts";

const FILE_BYTES = 256 * 1024 * 1024;
/** The connection is cut once this much has arrived. */
const DROP_AT_BYTES = 96 * 1024 * 1024;
/** A multi-GB file: past 2^31 bytes, where signed 32-bit offsets or sizes would break. */
const LARGE_FILE_BYTES = 2 * 1024 * 1024 * 1024 + 64 * 1024 * 1024;
/**
 * A send fails once neither tab has shown a byte or a state change for this long. Bytes move every progress tick while
 * data flows; the longest quiet spell is the resume after a drop (a new connection, then a new session).
 */
const STALL_MS = 90_000;
/**
 * Neither browser's memory (all its processes) may grow by more than this while the large file moves: it streams
 * from disk to disk. (Each browser starts at ~1.2 GB summed over its processes here, shared pages counted in each.)
 */
const MAX_BROWSER_GROWTH_BYTES = 512 * 1024 * 1024;

/** Writes `bytes` random bytes to `path` in 64 MiB steps; resolves to their sha-256. */
async function writeRandomFile(path: string, bytes: number): Promise<string> {
  const hash = createHash("sha256");
  const out = createWriteStream(path);
  const chunk = new Uint8Array(64 * 1024 * 1024);
  for (let written = 0; written < bytes; written += chunk.length) {
    const part = chunk.subarray(0, Math.min(chunk.length, bytes - written));
    randomFillSync(part);
    hash.update(part);
    if (!out.write(part)) await new Promise<void>((resolve) => out.once("drain", () => resolve()));
  }
  await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  return hash.digest("hex");
}

async function sha256OfFile(path: string): Promise<{ digest: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 8 * 1024 * 1024 })) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { digest: hash.digest("hex"), bytes };
}

/** What moves while a file goes from `from` to `to`: the receiver's state and bytes, the sender's bytes. */
function sendProgress(from: Page, to: Page): ProgressSignal[] {
  return [
    attributes(to, '[data-testid="receive"]', ["data-state", "data-attempts", "data-interruptions"], "receiver state"),
    attributes(to, '[data-testid="receive-progress"]', ["data-bytes"], "bytes received"),
    attributes(from, '[data-testid="outgoing"]', ["data-bytes", "data-done"], "bytes the sender saw delivered"),
  ];
}

/** Resident memory of all of a browser's processes. */
function browserRss(browser: Browser): number {
  return [...chromiumProcesses(browser.userDataDir).keys()].reduce((total, pid) => total + rssBytes(pid), 0);
}

describe("send: tab to tab over WebRTC", () => {
  let stack: Stack;
  let sender: Browser;
  let receiver: Browser;
  let dir: string;

  before(async () => {
    stack = await startTestStack();
    [sender, receiver] = await Promise.all([launchBrowser(), launchBrowser()]);
    // Without a save dialog (headless, or Firefox/Safari) the receiver stages the files on disk (OPFS).
    await receiver.context.addInitScript({ content: "delete window.showSaveFilePicker;" });
    dir = await mkdtemp(join(tmpdir(), "tabula-send-e2e-"));
  });

  after(async () => {
    await Promise.all([sender?.close(), receiver?.close()]);
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("sends 256 MiB end-to-end encrypted, resumes after the connection drops, and the bytes match", async () => {
    const original = randomFillSync(new Uint8Array(FILE_BYTES));
    const path = join(dir, "footage.mov");
    await writeFile(path, original);
    const digest = createHash("sha256").update(original).digest("hex");

    const from = await sender.open(`${stack.appUrl}#/send`);
    await from.getByTestId("send-input").setInputFiles(path);
    const link = await from.getByTestId("send-link").inputValue();
    assert.match(link, /#\/receive\?t=[A-Za-z0-9_-]+$/);
    assert.ok(!link.includes(digest.slice(0, 8)));
    const senderId = await peerIdOf(from);

    const to = await receiver.open(link);
    await to.getByTestId("accept").click({ timeout: 60_000 });
    const started = performance.now();
    await to.locator('[data-testid="receive"][data-state="receiving"]').waitFor({ timeout: 60_000 });

    // Cut every connection to the sender once a good part has arrived, as a network drop would.
    await untilStalled(
      `the first ${DROP_AT_BYTES / 1024 / 1024} MiB`,
      to.waitForFunction(
        (bytes) =>
          Number(document.querySelector('[data-testid="receive-progress"]')?.getAttribute("data-bytes")) >= bytes,
        DROP_AT_BYTES,
        { timeout: 0, polling: 50 },
      ),
      { progress: sendProgress(from, to), stallMs: STALL_MS },
    );
    const cut = await to.evaluate((peer) => {
      const { libp2p } = (
        globalThis as unknown as {
          tabula: {
            node: {
              libp2p: { getConnections(): { remotePeer: { toString(): string }; abort(error: Error): void }[] };
            };
          };
        }
      ).tabula.node;
      const connections = libp2p.getConnections().filter((c) => c.remotePeer.toString() === peer);
      for (const c of connections) c.abort(new Error("connection dropped by the test"));
      return connections.length;
    }, senderId);
    assert.ok(cut >= 1, "there was a connection to cut");

    await untilStalled("the send after the drop", to.locator('[data-testid="receive"][data-state="done"]'), {
      progress: sendProgress(from, to),
      stallMs: STALL_MS,
    });
    const seconds = (performance.now() - started) / 1000;
    const interruptions = Number(await to.getByTestId("receive").getAttribute("data-interruptions"));
    assert.ok(interruptions >= 1, "the receiver saw the drop");
    assert.ok(
      Number(await to.getByTestId("receive").getAttribute("data-attempts")) >= 2,
      "it resumed in a new session",
    );
    await to.getByTestId("resumed").waitFor();
    await from.locator('[data-testid="outgoing"][data-done="true"]').waitFor({ timeout: 30_000 });

    const { download: saved, path: savedPath } = await downloadWhileProgressing(
      "saving footage.mov",
      to,
      receiver,
      () => to.getByTestId("save-received").click(),
      { progress: sendProgress(from, to), stallMs: STALL_MS },
    );
    assert.equal(saved.suggestedFilename(), "footage.mov");
    const got = await readFile(savedPath);
    assert.equal(got.length, FILE_BYTES);
    assert.equal(createHash("sha256").update(got).digest("hex"), digest, "byte-identical");
    // Idle tabs still run their nodes: closed, they leave the next send the whole CPU.
    await Promise.all([from.close(), to.close()]);
    console.log(
      `# 256 MiB in ${seconds.toFixed(1)} s (${(FILE_BYTES / 1e6 / seconds).toFixed(1)} MB/s) with ${interruptions} drop(s)`,
    );
  });
  it("sends a file over 2 GiB from disk to disk with bounded memory, byte-identical", async () => {
    const path = join(dir, "archive.bin");
    const digest = await writeRandomFile(path, LARGE_FILE_BYTES);

    const from = await sender.open(`${stack.appUrl}#/send`);
    await from.getByTestId("send-input").setInputFiles(path);
    const link = await from.getByTestId("send-link").inputValue();
    const to = await receiver.open(link);
    await to.getByTestId("accept").click({ timeout: 60_000 });
    const started = performance.now();
    const browsers = [sender, receiver];
    const baseline = browsers.map(browserRss);
    let growth = 0;
    const sampler = setInterval(() => {
      for (const [i, b] of browsers.entries()) growth = Math.max(growth, browserRss(b) - (baseline[i] as number));
    }, 500);
    try {
      await untilStalled("the large send", to.locator('[data-testid="receive"][data-state="done"]'), {
        progress: sendProgress(from, to),
        stallMs: STALL_MS,
      });
    } finally {
      clearInterval(sampler);
    }
    const seconds = (performance.now() - started) / 1000;
    await from.locator('[data-testid="outgoing"][data-done="true"]').waitFor({ timeout: 30_000 });
    assert.ok(
      growth < MAX_BROWSER_GROWTH_BYTES,
      `a browser grew by ${(growth / 1e6).toFixed(0)} MB while ${LARGE_FILE_BYTES / 1e6} MB went through it`,
    );

    const { download: saved, path: savedPath } = await downloadWhileProgressing(
      "saving archive.bin",
      to,
      receiver,
      () => to.getByTestId("save-received").click(),
      { progress: sendProgress(from, to), stallMs: STALL_MS },
    );
    assert.equal(saved.suggestedFilename(), "archive.bin");
    const got = await sha256OfFile(savedPath);
    assert.equal(got.bytes, LARGE_FILE_BYTES);
    assert.equal(got.digest, digest, "byte-identical");
    await saved.delete();
    console.log(
      `# ${(LARGE_FILE_BYTES / 1024 ** 3).toFixed(2)} GiB in ${seconds.toFixed(1)} s ` +
        `(${(LARGE_FILE_BYTES / 1e6 / seconds).toFixed(1)} MB/s), ` +
        `browser memory grew by at most ${(growth / 1e6).toFixed(0)} MB`,
    );
  });
});
