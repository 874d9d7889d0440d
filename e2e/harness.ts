import { existsSync } from "node:fs";
import { mkdtemp, readdir, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Download, type Locator, type Page } from "playwright-core";
import { freePort } from "../scripts/lib/ports.ts";
import { type ProgressSignal, type WatchOptions, watchProgress } from "../scripts/lib/progress-watch.ts";
import { type Stack, type StackOptions, startStack } from "../scripts/lib/stack.ts";

/** Flags for Chromium on a machine with a closed network (see README, "Tests"). */
export const CHROMIUM_ARGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-quic",
  "--disable-features=WebRtcHideLocalIpsWithMdns",
];

export class ChromiumMissingError extends Error {
  override name = "ChromiumMissingError";
}

/** The Chromium binary to drive: $CHROME_PATH, else Debian's /usr/bin/chromium. */
export function chromiumPath(): string {
  const path = process.env.CHROME_PATH ?? "/usr/bin/chromium";
  if (!existsSync(path)) {
    throw new ChromiumMissingError(
      `Chromium was not found at ${path}. Install it (Debian/Ubuntu: sudo apt-get install -y chromium) or set ` +
        "CHROME_PATH to a Chromium or Chrome binary, then run the tests again.",
    );
  }
  return path;
}

/** A local stack on free ports serving the built `dist/` (run `npm run build` first; `npm run test:e2e` does). */
export async function startTestStack(
  options: Pick<StackOptions, "prefix" | "files" | "configure"> = {},
): Promise<Stack> {
  return await startStack({
    ports: { chain: await freePort(), relay: await freePort(), app: await freePort() },
    app: "dist",
    ...options,
  });
}

/**
 * `TABULA_E2E_CPU_SLOWDOWN=4` runs every tab's CPU 4× slower (Chromium's DevTools CPU throttling), to see how the
 * suite fares on a slower machine. Off (1) by default.
 */
function cpuSlowdown(): number {
  const rate = Number(process.env.TABULA_E2E_CPU_SLOWDOWN ?? 1);
  return Number.isFinite(rate) && rate > 1 ? rate : 1;
}

async function throttle(context: BrowserContext, page: Page, rate: number): Promise<void> {
  const session = await context.newCDPSession(page);
  await session.send("Emulation.setCPUThrottlingRate", { rate });
}

/**
 * Counts, in every tab, its IndexedDB requests per object store, its messages to its workers and its WebCrypto calls,
 * in `globalThis.__e2eTabWork`, for `tabWork`: a local operation that shows no bytes (reading a file from this
 * browser: block reads, then segments decoded in workers and decrypted) moves by them.
 */
const COUNT_TAB_WORK = `(() => {
  const counts = (globalThis.__e2eTabWork = {});
  const count = (key) => { counts[key] = (counts[key] ?? 0) + 1; };
  const wrap = (proto, methods, key) => {
    for (const method of methods) {
      const original = proto[method];
      if (typeof original !== "function") continue;
      proto[method] = function (...args) {
        count(key(this, method));
        return original.apply(this, args);
      };
    }
  };
  wrap(IDBObjectStore.prototype, ["get", "getAll", "getAllKeys", "put", "add", "delete", "count", "openCursor", "openKeyCursor"], (store) => "idb:" + store.name);
  if (globalThis.Worker) wrap(Worker.prototype, ["postMessage"], () => "worker messages");
  if (globalThis.SubtleCrypto) wrap(SubtleCrypto.prototype, ["encrypt", "decrypt"], (_, method) => "crypto " + method);
})();`;

export interface Browser {
  context: BrowserContext;
  userDataDir: string;
  /** Where the browser's downloads land, read back by `downloadedBytes`. */
  downloadsDir: string;
  /** Opens a tab on `url` and forwards its console errors to the test log. */
  open(url: string): Promise<Page>;
  close(): Promise<void>;
}

/** A real Chromium with a persistent profile on disk, so IndexedDB behaves as it does for a user. */
export async function launchBrowser(options: { userDataDir?: string } = {}): Promise<Browser> {
  const userDataDir = options.userDataDir ?? (await mkdtemp(join(tmpdir(), "tabula-e2e-")));
  const downloadsDir = await mkdtemp(join(tmpdir(), "tabula-e2e-downloads-"));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
    downloadsPath: downloadsDir,
  });
  await context.addInitScript({ content: COUNT_TAB_WORK });
  const slowdown = cpuSlowdown();
  return {
    context,
    userDataDir,
    downloadsDir,
    async open(url: string) {
      const page = await context.newPage();
      page.on("pageerror", (error) => console.error(`[page error] ${error.message}`));
      if (slowdown > 1) {
        await throttle(context, page, slowdown);
        // A reload may start a new renderer, which starts unthrottled.
        page.on("load", () => void throttle(context, page, slowdown).catch(() => {}));
      }
      await page.goto(url);
      return page;
    },
    async close() {
      await context.close();
      await rm(downloadsDir, { recursive: true, force: true });
      if (!options.userDataDir) await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

/** Opens "My files" with the burner wallet connected and the key vault unlocked. */
export async function openFiles(page: Page, appUrl: string): Promise<void> {
  await page.goto(appUrl);
  await page.locator('[data-testid="wallet"][data-status="connected"]').waitFor({ timeout: 60_000 });
  await page.goto(`${appUrl}#/files`);
  await page.getByTestId("unlock").click();
  await page.getByTestId("unlock").waitFor({ state: "detached", timeout: 30_000 });
}

/** The libp2p peer id of the tab in `page`, once its node has started. */
export async function peerIdOf(page: Page): Promise<string> {
  await page.waitForFunction(() => (globalThis as { tabula?: { node?: unknown } }).tabula?.node !== undefined, null, {
    timeout: 60_000,
  });
  return await page.evaluate(
    () => (globalThis as unknown as { tabula: { node: { peerId: string } } }).tabula.node.peerId,
  );
}

/**
 * Waits for a long operation (an upload, a download, a send, a check, a repair) while it makes progress: resolves with
 * `until` (a promise, or a locator that becomes visible), and fails only once none of the `progress` signals has
 * changed for `stallMs`, naming what stalled and the last value seen. A slow machine that keeps moving passes.
 */
export function untilStalled<T>(what: string, until: Promise<T>, options: WatchOptions): Promise<T>;
export function untilStalled(what: string, until: Locator, options: WatchOptions): Promise<void>;
export async function untilStalled<T>(
  what: string,
  until: Promise<T> | Locator,
  options: WatchOptions,
): Promise<T | undefined> {
  if (until instanceof Promise) return await watchProgress(what, until, options);
  const locator = until.first();
  await watchProgress(what, () => locator.isVisible(), options);
  return undefined;
}

/** The given attributes of every element matching `selector` in `page`, as one value that changes when any does. */
export function attributes(page: Page, selector: string, names: string[], name = `${selector} ${names.join(",")}`) {
  return {
    name,
    read: () =>
      page.evaluate(
        ({ selector, names }) =>
          [...document.querySelectorAll(selector)]
            .map((el) => names.map((n) => el.getAttribute(n)).join(" "))
            .join(" | "),
        { selector, names },
      ),
  } satisfies ProgressSignal;
}

/**
 * The markup of every element matching `selector` (its states, counts, progress bars and text): it changes with any
 * event the element shows.
 */
export function markup(page: Page, selector: string, name = selector): ProgressSignal {
  return {
    name,
    read: () =>
      page.evaluate(
        (selector) => [...document.querySelectorAll(selector)].map((el) => el.outerHTML).join("\n"),
        selector,
      ),
  };
}

/** Bytes the browser has written to its downloads folder, finished downloads and those under way. */
export function downloadedBytes(browser: Browser): ProgressSignal {
  return {
    name: `bytes in ${browser.downloadsDir}`,
    async read() {
      let total = 0;
      for (const entry of await readdir(browser.downloadsDir)) {
        total += await stat(join(browser.downloadsDir, entry)).then(
          (s) => s.size,
          () => 0,
        );
      }
      return total;
    },
  };
}

/**
 * Starts a download in `page` with `start` and waits, by progress, until the browser has it on disk: first for the
 * download to begin (the page may prepare it for long, shown by `options.progress`), then while its bytes land.
 */
export async function downloadWhileProgressing(
  what: string,
  page: Page,
  browser: Browser,
  start: () => Promise<void>,
  options: WatchOptions,
): Promise<{ download: Download; path: string }> {
  const progress = [...options.progress, downloadedBytes(browser)];
  const event = page.waitForEvent("download", { timeout: 0 });
  await start();
  const download = await untilStalled(`${what} (until it starts)`, event, { ...options, progress });
  const path = await untilStalled(what, download.path(), { ...options, progress });
  return { download, path };
}

/** What the tab in `page` has done so far (see `COUNT_TAB_WORK`): block reads and writes, worker calls, crypto calls. */
export function tabWork(page: Page, name = "the tab's work"): ProgressSignal {
  return {
    name,
    read: () =>
      page.evaluate(() =>
        JSON.stringify((globalThis as unknown as { __e2eTabWork?: Record<string, number> }).__e2eTabWork ?? {}),
      ),
  };
}

/**
 * Damages what a host tab holds for others, in its block store: one byte of the first piece of its first shard
 * (`"byte"`: one leaf fails its proof, the piece its CID), or every byte of every piece of that shard (`"shard"`:
 * whichever leaf an audit picks, the proof fails).
 */
export async function damageHeldShard(page: Page, extent: "byte" | "shard"): Promise<void> {
  await page.evaluate(async (extent) => {
    type Store = {
      get(cid: unknown): AsyncIterable<Uint8Array>;
      put(cid: unknown, bytes: Uint8Array): Promise<unknown>;
    };
    const { host, node } = (
      globalThis as unknown as {
        tabula: { host: { catalog: { list(): { pieces: unknown[] }[] } }; node: { blockstore: Store } };
      }
    ).tabula;
    const pieces = host.catalog.list()[0]?.pieces ?? [];
    for (const piece of extent === "shard" ? pieces : pieces.slice(0, 1)) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of node.blockstore.get(piece)) chunks.push(chunk);
      const bytes = new Uint8Array(chunks[0] as Uint8Array);
      if (extent === "shard") bytes.fill(0xee);
      else bytes[1000] = (bytes[1000] as number) ^ 0xff;
      await node.blockstore.put(piece, bytes);
    }
  }, extent);
}
