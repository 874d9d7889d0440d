import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Locator, Page } from "playwright-core";
import type { ProgressSignal } from "../scripts/lib/progress-watch.ts";
import type { Stack } from "../scripts/lib/stack.ts";
import {
  attributes,
  type Browser,
  damageHeldShard,
  downloadedBytes,
  downloadWhileProgressing,
  launchBrowser,
  markup,
  openFiles,
  peerIdOf,
  startTestStack,
  tabWork,
  untilStalled,
} from "./harness.ts";

const FILE_BYTES = 32 * 1024 * 1024;
const HOSTS = 6;
const QUOTA_MIB = 256;
/** The owner checks its hosts on its own this often here, so that it does while two hosts are gone. */
const AUTO_CHECK_INTERVAL_SECONDS = 15;
/**
 * An upload, download, check or repair fails once what its activity shows (pushes, pieces, bytes, audit answers) has
 * not changed for this long: long enough for a dial to a host that is gone to time out and the next step to show.
 */
const STALL_MS = 120_000;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** What the owner's activities show: each push, fetched piece, audit answer and rebuilt segment changes it. */
function activities(page: Page, kind: string, auto?: boolean): ProgressSignal {
  const selector = `[data-testid="activity"][data-kind="${kind}"]${auto === undefined ? "" : `[data-auto="${auto}"]`}`;
  return markup(page, selector, `${auto ? "automatic " : ""}${kind} activities`);
}

/**
 * Waits for `selector` while `progress` moves; on a stall the failure adds what the page's network panels say, to
 * tell why.
 */
async function expectOn(what: string, page: Page, selector: string, progress: ProgressSignal[]): Promise<void> {
  await untilStalled(what, page.locator(selector), {
    progress,
    stallMs: STALL_MS,
    explain: async () =>
      (
        await page
          .locator('[data-testid="network-files"], [data-testid="network-activity"], [data-testid="files-error"]')
          .allTextContents()
      ).join("\n"),
  });
}

function step(name: string, started: number): void {
  console.log(`# ${name}: ${((performance.now() - started) / 1000).toFixed(1)} s`);
}

/** Prints the pushes of an upload or repair that failed before others succeeded (the retries the run needed). */
async function logFailedPushes(name: string, activity: Locator): Promise<void> {
  const failed = await activity.locator('[data-testid="host-push"][data-state="failed"]').allTextContents();
  console.log(
    `# ${name}: ${failed.length} failed push(es)${failed.map((t) => `\n#   ${t.replace(/\s+/g, " ")}`).join("")}`,
  );
}

/** Opens a tab on the host page and switches "Share storage" on with room for the test's shards. */
async function startHost(browser: Browser, appUrl: string): Promise<Page> {
  const page = await browser.open(`${appUrl}#/host`);
  await page.getByTestId("quota").fill(String(QUOTA_MIB));
  await page.getByTestId("save-quota").click();
  await page.getByTestId("share-storage").check();
  await page.locator('[data-testid="host"][data-enabled="true"]').waitFor();
  await page.locator('[data-testid="host"]:not([data-announcements="0"])').waitFor({ timeout: 60_000 });
  return page;
}

/** Opens a share link in `page` (of `browser`) and returns the downloaded bytes. */
async function openShareLink(page: Page, browser: Browser, appUrl: string, link: string): Promise<Uint8Array> {
  await page.goto(appUrl);
  await page.goto(link);
  await page.getByTestId("open-shared").waitFor();
  const download = page.waitForEvent("download", { timeout: 0 });
  await page.getByTestId("open-shared").click();
  const failed = page
    .getByTestId("files-error")
    .waitFor({ timeout: 0 })
    .then(async () => {
      throw new Error(`the download failed: ${await page.getByTestId("files-error").textContent()}`);
    });
  const progress = [
    markup(page, '[data-testid="network-activity"]', "the download's activity"),
    downloadedBytes(browser),
  ];
  try {
    const started = await untilStalled("opening the share link", Promise.race([download, failed]), {
      progress,
      stallMs: STALL_MS,
    });
    const path = await untilStalled("saving the shared file", started.path(), { progress, stallMs: STALL_MS });
    return new Uint8Array(await readFile(path));
  } catch (error) {
    const activity = await page
      .locator('[data-testid="network-activity"]')
      .textContent()
      .catch(() => "");
    throw new Error(`${error instanceof Error ? error.message : error}\nactivity: ${activity}`);
  } finally {
    failed.catch(() => {});
  }
}

describe("network: 6 host tabs, an owner, a fresh tab with the share link", () => {
  let stack: Stack;
  let hostsBrowser: Browser;
  let ownerBrowser: Browser;
  let freshBrowser: Browser;
  let dir: string;

  before(async () => {
    stack = await startTestStack({
      configure: (config) => Object.assign(config, { network: { checkIntervalSeconds: AUTO_CHECK_INTERVAL_SECONDS } }),
    });
    [hostsBrowser, ownerBrowser, freshBrowser] = await Promise.all([launchBrowser(), launchBrowser(), launchBrowser()]);
    // Downloads go through the browser's download manager, which the test can read back; the save dialog
    // cannot be clicked in a headless browser.
    for (const browser of [ownerBrowser, freshBrowser]) {
      await browser.context.addInitScript({ content: "delete window.showSaveFilePicker;" });
    }
    dir = await mkdtemp(join(tmpdir(), "tabula-network-e2e-"));
  });

  after(async () => {
    await Promise.all([hostsBrowser?.close(), ownerBrowser?.close(), freshBrowser?.close()]);
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("stores 32 MiB 4+2 on hosts, survives closed, reloaded and corrupt hosts, and repairs to 6 live shards", async () => {
    const t0 = performance.now();
    const original = randomFillSync(new Uint8Array(FILE_BYTES));
    const path = join(dir, "survey.bin");
    await writeFile(path, original);

    // Six hosts in one browser (each tab its own profile slot, peer and block store).
    const hosts: Page[] = [];
    for (let i = 0; i < HOSTS; i++) hosts.push(await startHost(hostsBrowser, stack.appUrl));
    const hostIds = await Promise.all(hosts.map(peerIdOf));
    assert.equal(new Set(hostIds).size, HOSTS);
    step("six hosts announced", t0);

    // The owner stores the file; it goes to the six hosts as soon as it is stored.
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
    const t1 = performance.now();
    await owner.getByTestId("file-input").setInputFiles(path);
    const row = owner.locator('[data-testid="file"][data-name="survey.bin"]');
    await untilStalled("storing survey.bin", row, {
      progress: [markup(owner, '[data-testid="store-progress"]', "store progress"), tabWork(owner)],
      stallMs: STALL_MS,
    });
    const cid = (await row.getAttribute("data-cid")) ?? "";
    const netRow = owner.locator(`[data-testid="network-file"][data-cid="${cid}"]`);
    await expectOn(
      "placing survey.bin on six hosts",
      owner,
      `[data-testid="network-file"][data-cid="${cid}"][data-live="6"]`,
      [activities(owner, "upload")],
    );
    step("stored and placed on six hosts", t1);
    const upload = owner.locator(`[data-testid="activity"][data-kind="upload"][data-cid="${cid}"][data-done="true"]`);
    assert.equal(await upload.getAttribute("data-error"), "");
    await logFailedPushes("upload", upload);
    // Every push went to a distinct host, and each host lists what it holds and for whom.
    const holders = await netRow
      .locator('[data-testid="holder"][data-status="live"]')
      .evaluateAll((els) => els.map((el) => el.getAttribute("data-host")));
    assert.equal(new Set(holders).size, 6);
    const ownerId = await peerIdOf(owner);
    for (const host of hosts) {
      await host
        .locator(`[data-testid="held"][data-manifest="${cid}"][data-owner="${ownerId}"]`)
        .waitFor({ timeout: 30_000 });
    }

    // The share link; then the owner keeps the file only on the network.
    await row.getByTestId("share").click();
    const link = (await owner.locator('[data-testid="share-link"] input').inputValue()).trim();
    assert.match(link, /#\/open\?file=/);
    await netRow.getByTestId("remove-local").click();
    await owner.locator(`[data-testid="network-file"][data-cid="${cid}"][data-local="0"]`).waitFor({ timeout: 30_000 });

    // Two hosts leave.
    const t2 = performance.now();
    const closed = [hostIds[4] as string, hostIds[5] as string];
    await hosts[4]?.close();
    await hosts[5]?.close();

    // A fresh browser with nothing but the link gets the file from the four hosts left.
    const fresh = await freshBrowser.open(stack.appUrl);
    const got = await openShareLink(fresh, freshBrowser, stack.appUrl, link);
    assert.equal(got.length, FILE_BYTES);
    assert.equal(sha256(got), sha256(original), "the fresh tab gets the file byte-identical");
    for (const id of closed) {
      assert.equal(
        await fresh.locator(`[data-testid="host-fetch"][data-host="${id}"][data-state="streaming"]`).count(),
        0,
      );
    }
    step("fresh tab downloaded through four hosts", t2);

    // Meanwhile the owner's automatic check found the two closed hosts lost; its repair could not run (no host is
    // left to take their shards) and waits for the next round. Automatic checks pause here, so that the manual
    // steps below run alone.
    const tAuto = performance.now();
    const autoCheck = `[data-testid="activity"][data-kind="check"][data-auto="true"][data-cid="${cid}"][data-done="true"]`;
    for (const id of closed) {
      await expectOn(
        `the automatic check finding ${id} lost`,
        owner,
        `${autoCheck} [data-testid="host-check"][data-host="${id}"][data-status="lost"]`,
        [activities(owner, "check", true), activities(owner, "repair", true)],
      );
    }
    await netRow.locator('[data-testid="upkeep"][data-outcome="repair-failed"]').waitFor({ timeout: 30_000 });
    await owner.getByTestId("auto-repair").uncheck();
    step("automatic check found the two lost", tAuto);

    // A host reloads: same profile slot, same peer, same shards, still serving.
    const t3 = performance.now();
    const reloaded = hosts[0] as Page;
    await reloaded.reload();
    await reloaded.locator(`[data-testid="host"][data-enabled="true"]`).waitFor({ timeout: 30_000 });
    await reloaded.locator(`[data-testid="held"][data-manifest="${cid}"]`).waitFor({ timeout: 30_000 });
    assert.equal(await peerIdOf(reloaded), hostIds[0]);
    await reloaded.locator('[data-testid="host"]:not([data-announcements="0"])').waitFor({ timeout: 60_000 });

    // The owner checks its hosts: the reloaded one answers its audit, the two closed ones are lost.
    await netRow.getByTestId("check").click();
    // The manual check's own activity: the automatic checks' finished ones may still be listed for a moment.
    const check = owner.locator(
      `[data-testid="activity"][data-kind="check"][data-auto="false"][data-cid="${cid}"][data-done="true"]`,
    );
    await untilStalled("the manual check", check, { progress: [activities(owner, "check", false)], stallMs: STALL_MS });
    const statuses = Object.fromEntries(
      await check
        .locator('[data-testid="host-check"]')
        .evaluateAll((els) =>
          els.map((el) => [el.getAttribute("data-host"), `${el.getAttribute("data-status")} ${el.textContent}`]),
        ),
    ) as Record<string, string>;
    assert.match(statuses[hostIds[0] as string] ?? "", /^live/, JSON.stringify(statuses));
    for (const id of closed) assert.match(statuses[id] ?? "", /^lost/, JSON.stringify(statuses));
    await owner.locator(`[data-testid="network-file"][data-cid="${cid}"][data-live="4"]`).waitFor({ timeout: 10_000 });
    step("reloaded host audited, two lost", t3);

    // Two new hosts join (another browser); the owner rebuilds the two lost shards from four others and places them.
    const t4 = performance.now();
    const newHosts = [await startHost(freshBrowser, stack.appUrl), await startHost(freshBrowser, stack.appUrl)];
    const newIds = await Promise.all(newHosts.map(peerIdOf));
    await owner.waitForFunction(
      (ids) => {
        const known = (globalThis as unknown as { tabula: { knownHosts: { list(): { peer: string }[] } } }).tabula
          .knownHosts;
        return ids.every((id) => known.list().some((h) => h.peer === id));
      },
      newIds,
      { timeout: 90_000 },
    );
    await netRow.getByTestId("repair").click();
    const repairDone = `[data-testid="activity"][data-kind="repair"][data-auto="false"][data-cid="${cid}"][data-done="true"]`;
    const repair = owner.locator(repairDone);
    await expectOn("the repair", owner, repairDone, [activities(owner, "repair", false)]);
    assert.equal(await repair.getAttribute("data-error"), "", (await repair.textContent()) ?? "");
    await repair.locator('[data-testid="repair-lost"]').waitFor();
    await logFailedPushes("repair", repair);
    await owner.locator(`[data-testid="network-file"][data-cid="${cid}"][data-live="6"]`).waitFor({ timeout: 10_000 });
    const liveNow = await netRow
      .locator('[data-testid="holder"][data-status="live"]')
      .evaluateAll((els) => els.map((el) => el.getAttribute("data-host")));
    assert.equal(new Set(liveNow).size, 6, "six live shards on six distinct hosts");
    for (const id of closed) assert.ok(!liveNow.includes(id));
    assert.ok(
      liveNow.some((id) => newIds.includes(id ?? "")),
      "the rebuilt shards went to the new hosts",
    );
    for (const page of newHosts) await page.locator(`[data-testid="held"][data-manifest="${cid}"]`).waitFor();
    step("repaired to six live shards", t4);

    // A host corrupts the first piece it holds: a download detects it, drops that host and still succeeds.
    const t5 = performance.now();
    const liar = hosts[1] as Page;
    const liarId = hostIds[1] as string;
    await damageHeldShard(liar, "byte");
    // A tab with the link asks every host at once: the liar's piece fails its CID check (or arrives after k
    // others verified and is cancelled); either way nothing of it is used.
    const again = await openShareLink(fresh, freshBrowser, stack.appUrl, link);
    assert.equal(sha256(again), sha256(original), "the file still comes back byte-identical");
    const liarStates = await fresh
      .locator(`[data-testid="host-fetch"][data-host="${liarId}"]`)
      .evaluateAll((els) => els.map((el) => el.getAttribute("data-state")));
    for (const state of liarStates) assert.ok(!["streaming", "done"].includes(state ?? ""), `liar was ${state}`);
    // The owner's audit challenges a leaf in every piece: the liar fails it.
    const checksDone = '[data-testid="activity"][data-kind="check"][data-auto="false"][data-done="true"]';
    const before = await owner.locator(checksDone).count();
    await netRow.getByTestId("check").click();
    await untilStalled(
      "the second manual check",
      owner.waitForFunction(
        ({ selector, count }) => document.querySelectorAll(selector).length > count,
        { selector: checksDone, count: before },
        { timeout: 0 },
      ),
      { progress: [activities(owner, "check", false)], stallMs: STALL_MS },
    );
    const recheck = owner.locator(checksDone).first();
    await recheck.locator(`[data-testid="host-check"][data-host="${liarId}"]`).waitFor({ timeout: 30_000 });
    assert.equal(
      await recheck.locator(`[data-testid="host-check"][data-host="${liarId}"]`).getAttribute("data-status"),
      "bad",
    );
    await owner
      .locator(`[data-testid="holder"][data-host="${liarId}"][data-status="bad"]`)
      .waitFor({ timeout: 10_000 });
    // The owner, whose copy is only on the hosts now, reads its file without ever asking the liar.
    const { path: ownerCopy } = await downloadWhileProgressing(
      "the owner's download from its hosts",
      owner,
      ownerBrowser,
      () => row.getByTestId("download").click(),
      { progress: [activities(owner, "download")], stallMs: STALL_MS },
    );
    const mine = new Uint8Array(await readFile(ownerCopy));
    assert.equal(sha256(mine), sha256(original));
    const ownerFetch = owner.locator('[data-testid="activity"][data-kind="download"]').first();
    assert.ok((await ownerFetch.locator('[data-testid="host-fetch"]').count()) >= 4, "the owner read from hosts");
    assert.equal(await ownerFetch.locator(`[data-testid="host-fetch"][data-host="${liarId}"]`).count(), 0);
    step("corrupt host detected and avoided", t5);

    // A host's user switches sharing off: the page says what it still serves, and removing the shards deletes
    // their pieces from the tab's block store.
    const t6 = performance.now();
    const heldBefore = await liar.evaluate(() => {
      const { host } = (globalThis as unknown as { tabula: { host: { catalog: { list(): { pieces: unknown[] }[] } } } })
        .tabula;
      const pieces = host.catalog.list().flatMap((shard) => shard.pieces);
      (globalThis as unknown as { heldPieces: unknown[] }).heldPieces = pieces;
      return pieces.length;
    });
    assert.ok(heldBefore > 0, "the host held pieces");
    await liar.getByTestId("share-storage").uncheck();
    await liar.getByTestId("held-while-off").waitFor({ timeout: 10_000 });
    await liar.getByTestId("remove-held").click();
    await liar.getByTestId("confirm-remove").click();
    await liar.locator('[data-testid="host"][data-held="0"][data-enabled="false"]').waitFor({ timeout: 30_000 });
    const stillStored = await liar.evaluate(async () => {
      const { node } = (
        globalThis as unknown as { tabula: { node: { blockstore: { has(cid: unknown): Promise<boolean> } } } }
      ).tabula;
      const pieces = (globalThis as unknown as { heldPieces: unknown[] }).heldPieces;
      return (await Promise.all(pieces.map((cid) => node.blockstore.has(cid)))).filter(Boolean).length;
    });
    assert.equal(stillStored, 0, "no piece of a removed shard is left");
    step("sharing off, hosted shards removed", t6);
    step("total", t0);
  });
});
