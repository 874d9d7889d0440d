import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { freePort } from "../scripts/lib/ports.ts";
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

export interface Browser {
  context: BrowserContext;
  userDataDir: string;
  /** Opens a tab on `url` and forwards its console errors to the test log. */
  open(url: string): Promise<Page>;
  close(): Promise<void>;
}

/** A real Chromium with a persistent profile on disk, so IndexedDB behaves as it does for a user. */
export async function launchBrowser(options: { userDataDir?: string } = {}): Promise<Browser> {
  const userDataDir = options.userDataDir ?? (await mkdtemp(join(tmpdir(), "tabula-e2e-")));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
  });
  return {
    context,
    userDataDir,
    async open(url: string) {
      const page = await context.newPage();
      page.on("pageerror", (error) => console.error(`[page error] ${error.message}`));
      await page.goto(url);
      return page;
    },
    async close() {
      await context.close();
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
  await page.waitForFunction(() => (globalThis as { tabula?: { node?: unknown } }).tabula?.node !== undefined);
  return await page.evaluate(
    () => (globalThis as unknown as { tabula: { node: { peerId: string } } }).tabula.node.peerId,
  );
}
