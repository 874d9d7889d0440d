import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Stack } from "../scripts/lib/stack.ts";
import { type Browser, launchBrowser, startTestStack } from "./harness.ts";

const FILE_BYTES = 256 * 1024 * 1024;
/** The connection is cut once this much has arrived. */
const DROP_AT_BYTES = 96 * 1024 * 1024;

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
    const senderId = await from.evaluate(
      () => (globalThis as unknown as { tabula: { node: { peerId: string } } }).tabula.node.peerId,
    );

    const to = await receiver.open(link);
    await to.getByTestId("accept").click({ timeout: 60_000 });
    const started = performance.now();
    await to.locator('[data-testid="receive"][data-state="receiving"]').waitFor();

    // Cut every connection to the sender once a good part has arrived, as a network drop would.
    await to.waitForFunction(
      (bytes) =>
        Number(document.querySelector('[data-testid="receive-progress"]')?.getAttribute("data-bytes")) >= bytes,
      DROP_AT_BYTES,
      { timeout: 120_000, polling: 50 },
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

    await to.locator('[data-testid="receive"][data-state="done"]').waitFor({ timeout: 240_000 });
    const seconds = (performance.now() - started) / 1000;
    const interruptions = Number(await to.getByTestId("receive").getAttribute("data-interruptions"));
    assert.ok(interruptions >= 1, "the receiver saw the drop");
    assert.ok(
      Number(await to.getByTestId("receive").getAttribute("data-attempts")) >= 2,
      "it resumed in a new session",
    );
    await to.getByTestId("resumed").waitFor();
    await from.locator('[data-testid="outgoing"][data-done="true"]').waitFor({ timeout: 30_000 });

    const download = to.waitForEvent("download", { timeout: 60_000 });
    await to.getByTestId("save-received").click();
    const saved = await download;
    assert.equal(saved.suggestedFilename(), "footage.mov");
    const got = await readFile((await saved.path()) as string);
    assert.equal(got.length, FILE_BYTES);
    assert.equal(createHash("sha256").update(got).digest("hex"), digest, "byte-identical");
    console.log(
      `# 256 MiB in ${seconds.toFixed(1)} s (${(FILE_BYTES / 1e6 / seconds).toFixed(1)} MB/s) with ${interruptions} drop(s)`,
    );
  });
});
