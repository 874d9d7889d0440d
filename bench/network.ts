/**
 * Network figures for `npm run bench` (run in Node, like scripts/bench.ts): builds the app into dist/, then drives a
 * local stack (chain, relay, app) and real Chromium tabs.
 * - `webrtc_MBps`: one libp2p stream between two tabs of one browser over their direct WebRTC link, 64 KiB writes.
 * - `upload_network_MBps`: file bytes per second while the owner's tab places a 4+2 file on six host tabs (from
 *   the first push to the last receipt; 1.5x as many bytes cross the links).
 * - `download_network_MBps`: file bytes per second for a tab with only the share link, from its first piece request
 *   to the decrypted file's last byte.
 * - `paid_upload_MBps`: the same for the same file bytes placed for pay on the same six hosts, once they staked:
 *   from the first push to the last receipt, as the free figure; `paid_upload_total_MBps` counts the whole paid
 *   upload, the escrow and acceptance transactions included.
 * - `gas_per_file_4_2`: gas of a 4+2 file's deals on the local chain: the escrow of six deals, their acceptance, one
 *   audit of each (the challenge, the seeds, six answers) and one claim of all six hosts' earnings.
 * - `send_MBps`: a 64 MiB tab-to-tab send between two browsers, from the receiver's accept to its last byte written.
 * - `paid_send_bandwidth_MBps`: the same bytes for a price per MB over a bandwidth channel, from the moment the
 *   channel is open (the receiver's state turns to receiving) to the last byte; `paid_send_bandwidth_ratio` is it
 *   over `send_MBps` of the same run, and `gas_per_MB_bandwidth` the gas of the channel's open, confirm, close and
 *   settle over the MB it paid for.
 * - `paid_send_hash_chain_MBps`, `paid_send_hash_chain_ratio`, `gas_per_MB_hash_chain`: the same through a hash
 *   chain the receiver picks (one preimage per MB); its gas is the chain's open and its one redemption.
 * - `paid_send_merkle_MBps`, `paid_send_merkle_ratio`, `gas_per_MB_merkle`: the same in Merkle tokens (one token
 *   per MB); its gas is the channel's funding and the one redemption of every token.
 * - `paid_send_lottery_MBps`, `paid_send_lottery_ratio`, `gas_per_MB_lottery`: the same in lottery tickets (one
 *   ticket per MB) for a 100 MB file, which fills a new lot of 100 tickets: the lot is drawn on its own and its
 *   winner, the sender, redeems. The ratio is over the free send's MB/s; the gas is the lot's whole life (funding,
 *   close, draw, redemption, and the payer's refund after the last window).
 * - `idle_seven_tabs_cpu_cores_busy`: the same for the six hosts and the owner over 10 s with nothing moving.
 * - `*_cpu_cores_busy`: CPU seconds of every Chromium process per second of each measurement. All tabs share this
 *   machine's cores, so when this nears the core count the figure above it is bound by CPU, not by the links.
 * Run alone: `node bench/network.ts` prints the figures as JSON.
 */
import { randomFillSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { type Address, createPublicClient, createWalletClient, type Hash, http, parseEventLogs } from "viem";
import { build } from "vite";
import { type Browser, launchBrowser, openFiles, peerIdOf, startTestStack } from "../e2e/harness.ts";
import { stakeFromHostPage } from "../e2e/paid-hosts.ts";
import { devAccounts } from "../scripts/lib/chain.ts";
import { chromiumProcesses, cpuSeconds } from "../scripts/lib/proc-stats.ts";
import { storageMarketAbi } from "../web/src/chain/abi.ts";

/**
 * A send of `path` from a tab of `from` to a tab of `to`, free or at `paid.price` TAB per MB through `paid.scheme`;
 * seconds of the bytes, and the transactions of its payment.
 */
async function sendSeconds(
  from: Browser,
  to: Browser,
  appUrl: string,
  rpcUrl: string,
  path: string,
  paid?: { price: string; scheme: "bandwidth" | "hash-chain" | "merkle" | "lottery" },
): Promise<{ seconds: number; txs: Hash[] }> {
  const sender = await from.open(appUrl);
  await sender.locator('[data-testid="wallet"][data-status="connected"]').waitFor({ timeout: 90_000 });
  await sender.getByRole("link", { name: "Send" }).click();
  if (paid) await sender.getByTestId("send-price").fill(paid.price);
  await sender.getByTestId("send-input").setInputFiles(path);
  const link = await sender.getByTestId("send-link").inputValue({ timeout: 90_000 });
  const receiver = await to.open(appUrl);
  await receiver.locator('[data-testid="wallet"][data-status="connected"]').waitFor({ timeout: 90_000 });
  await receiver.goto(link);
  if (paid) {
    await receiver.locator('[data-testid="receive-quote"]').waitFor({ timeout: 90_000 });
    if (paid.scheme !== "bandwidth") await receiver.getByTestId("receive-scheme").selectOption(paid.scheme);
    await receiver.locator(`[data-testid="receive-quote"][data-scheme="${paid.scheme}"]`).waitFor();
  }
  await receiver.getByTestId("accept").click({ timeout: 90_000 });
  await receiver.locator('[data-testid="receive"][data-state="receiving"]').waitFor({ timeout: 90_000 });
  const started = performance.now();
  await receiver.locator('[data-testid="receive"][data-state="done"]').waitFor({ timeout: 600_000 });
  const seconds = (performance.now() - started) / 1000;
  const txs: Hash[] = [];
  if (paid?.scheme === "lottery") {
    const id = await receiver.locator('[data-testid="receive-payment"]').getAttribute("data-channel");
    const row = `[data-testid="channel"][data-scheme="lottery"][data-channel="${id}"]`;
    // The full lot is drawn by the receiver's tab and redeemed by the sender's.
    await sender.locator(`${row}[data-status="Redeemed"]`).waitFor({ timeout: 90_000 });
    // After the reveal and claim windows the receiver's tab takes back the fine and the cover.
    const chain = createPublicClient({ transport: http(rpcUrl) });
    await chain.request({ method: "evm_increaseTime" as never, params: [25 * 3600 + 10] as never });
    await chain.request({ method: "evm_mine" as never, params: [] as never });
    await receiver.locator(`${row}[data-status="Finished"]`).waitFor({ timeout: 90_000 });
    txs.push(...(await shownTxs([sender, receiver], row)));
  } else if (paid && paid.scheme !== "bandwidth") {
    const id = await receiver.locator('[data-testid="receive-payment"]').getAttribute("data-channel");
    const row = `[data-testid="channel"][data-scheme="${paid.scheme}"][data-channel="${id}"]`;
    await sender.locator(`${row}[data-status="Redeemed"]`).waitFor({ timeout: 90_000 });
    for (const [page, what] of [
      [receiver, "open"],
      [sender, "redeem"],
    ] as const) {
      const hash = await page.locator(`${row} [data-testid="channel-tx"][data-what="${what}"]`).getAttribute("title");
      txs.push(hash as Hash);
    }
  } else if (paid) {
    const channel = receiver.locator('[data-testid="receive-payment"]');
    const id = await channel.getAttribute("data-channel");
    const row = `[data-testid="channel"][data-channel="${id}"]`;
    await sender.locator(`${row}[data-status="Closing"]`).waitFor({ timeout: 90_000 });
    // Once the challenge window is over, the sender's tab settles the channel on its own.
    const chain = createPublicClient({ transport: http(rpcUrl) });
    await chain.request({ method: "evm_increaseTime" as never, params: [24 * 3600 + 10] as never });
    await chain.request({ method: "evm_mine" as never, params: [] as never });
    await sender.locator(`${row}[data-status="Settled"]`).waitFor({ timeout: 90_000 });
    await receiver.locator(`${row}[data-status="Settled"]`).waitFor({ timeout: 90_000 });
    // Either tab may have settled it: every transaction either shows, once.
    txs.push(...(await shownTxs([sender, receiver], row)));
  }
  await Promise.all([sender.close(), receiver.close()]);
  return { seconds, txs };
}

/** The transactions the channel table row `row` shows in any of `pages`, each once. */
async function shownTxs(pages: Page[], row: string): Promise<Hash[]> {
  const shown = await Promise.all(
    pages.map((page) =>
      page
        .locator(`${row} [data-testid="channel-tx"]`)
        .evaluateAll((items) => items.map((i) => i.getAttribute("title") as Hash)),
    ),
  );
  return [...new Set(shown.flat())];
}

const MiB = 1024 * 1024;
const STREAM_BYTES = 64 * MiB;
const FILE_BYTES = 64 * MiB;
const HOSTS = 6;
/** A lottery send's bytes: 100 tickets, one new lot's worth (core/payments/cost.ts LOT_TICKETS). */
const LOT_BYTES = 100_000_000;
const IDLE_SAMPLE_MS = 10_000;

type TabulaGlobal = { tabula: Record<string, unknown> };

async function waitForDirect(page: Page, peer: string): Promise<void> {
  await page.locator(`[data-testid="peer"][data-peer-id="${peer}"][data-kind="webrtc"]`).waitFor({ timeout: 60_000 });
}

/** One stream from `from` to `to` over their direct link; MB/s of payload acknowledged by the receiver. */
async function streamMBps(from: Page, to: Page): Promise<number> {
  const target = await peerIdOf(to);
  await to.evaluate(async () => {
    type BenchStream = AsyncIterable<Uint8Array> & { send(bytes: Uint8Array): boolean; close(): Promise<void> };
    const node = (globalThis as unknown as TabulaGlobal).tabula.node as {
      libp2p: { handle(protocol: string, handler: (stream: BenchStream) => Promise<void>): Promise<void> };
    };
    await node.libp2p.handle("/tabula/bench/1.0.0", async (stream) => {
      let received = 0;
      for await (const chunk of stream) received += chunk.byteLength;
      stream.send(new TextEncoder().encode(String(received)));
      await stream.close();
    });
  });
  return await from.evaluate(
    async ({ target, total }) => {
      // biome-ignore lint/suspicious/noExplicitAny: see above
      const node = (globalThis as unknown as TabulaGlobal).tabula.node as any;
      const connection = await node.libp2p.dial(await node.dialDirect(target));
      const stream = await connection.newStream("/tabula/bench/1.0.0");
      const chunk = new Uint8Array(64 * 1024);
      const started = performance.now();
      for (let sent = 0; sent < total; sent += chunk.byteLength) {
        if (!stream.send(chunk.slice())) await stream.onDrain();
      }
      await stream.close();
      let reply = "";
      for await (const c of stream) reply += new TextDecoder().decode(c.subarray());
      if (Number(reply) !== total) throw new Error(`the receiver got ${reply} bytes of ${total}`);
      return total / 1e6 / ((performance.now() - started) / 1000);
    },
    { target, total: STREAM_BYTES },
  );
}

/** CPU seconds used so far by every Chromium process of `browsers`. */
function browsersCpuSeconds(browsers: readonly Browser[]): number {
  return browsers.reduce((total, b) => total + cpuSeconds(chromiumProcesses(b.userDataDir).keys()), 0);
}

/** Milliseconds from the first push of the file's upload to its last stored receipt, as the owner's tab saw them. */
async function pushSpanMs(owner: Page, cid: string): Promise<number> {
  return await owner.evaluate((cid) => {
    type Transfer = { state: string; startedAtMs: number; endedAtMs?: number };
    const state = (globalThis as unknown as TabulaGlobal).tabula.networkFiles as {
      activities: { kind: string; cid: string; upload?: { transfers: Transfer[] } }[];
    };
    const transfers = state.activities.find((a) => a.kind === "upload" && a.cid === cid)?.upload?.transfers ?? [];
    const stored = transfers.filter((t) => t.state === "stored");
    return Math.max(...stored.map((t) => t.endedAtMs ?? 0)) - Math.min(...transfers.map((t) => t.startedAtMs));
  }, cid);
}

async function startHost(browser: Browser, appUrl: string): Promise<Page> {
  const page = await browser.open(`${appUrl}#/host`);
  await page.getByTestId("quota").fill("1024");
  await page.getByTestId("save-quota").click();
  await page.getByTestId("share-storage").check();
  await page.locator('[data-testid="host"]:not([data-announcements="0"])').waitFor({ timeout: 60_000 });
  return page;
}

export async function networkBench(log: (line: string) => void = console.error): Promise<Record<string, number>> {
  log("bench: building the app…");
  await build({ configFile: join(import.meta.dirname, "..", "vite.config.ts"), logLevel: "warn" });
  const stack = await startTestStack();
  const browsers: Browser[] = [];
  const dir = await mkdtemp(join(tmpdir(), "tabula-bench-net-"));
  try {
    const [hostsBrowser, ownerBrowser, freshBrowser] = await Promise.all([
      launchBrowser(),
      launchBrowser(),
      launchBrowser(),
    ]);
    browsers.push(hostsBrowser, ownerBrowser, freshBrowser);
    for (const b of [ownerBrowser, freshBrowser])
      await b.context.addInitScript({ content: "delete window.showSaveFilePicker;" });

    log("bench: one WebRTC stream between two tabs…");
    // Two tabs only: the figure is what one link gives, before six host tabs share the two cores.
    const hosts: Page[] = [];
    for (let i = 0; i < 2; i++) hosts.push(await startHost(hostsBrowser, stack.appUrl));
    const [a, b] = hosts as [Page, Page];
    await a.goto(`${stack.appUrl}#/`);
    await waitForDirect(a, await peerIdOf(b));
    const webrtcCpu = { seconds: browsersCpuSeconds(browsers), atMs: performance.now() };
    const webrtc = await streamMBps(a, b);
    const webrtcCores =
      (browsersCpuSeconds(browsers) - webrtcCpu.seconds) / ((performance.now() - webrtcCpu.atMs) / 1000);
    await a.goto(`${stack.appUrl}#/host`);

    log("bench: a 64 MiB send between two browsers, free and then paid per MB…");
    const sendPath = join(dir, "send.bin");
    await writeFile(sendPath, randomFillSync(new Uint8Array(FILE_BYTES)));
    const rpcUrl = stack.chain.rpcUrl;
    const freeSend = await sendSeconds(ownerBrowser, freshBrowser, stack.appUrl, rpcUrl, sendPath);
    const paidSend = await sendSeconds(ownerBrowser, freshBrowser, stack.appUrl, rpcUrl, sendPath, {
      price: "0.001",
      scheme: "bandwidth",
    });
    const chainSend = await sendSeconds(ownerBrowser, freshBrowser, stack.appUrl, rpcUrl, sendPath, {
      price: "0.001",
      scheme: "hash-chain",
    });
    const merkleSend = await sendSeconds(ownerBrowser, freshBrowser, stack.appUrl, rpcUrl, sendPath, {
      price: "0.001",
      scheme: "merkle",
    });
    // 100 MB: one ticket per MB fills a new lot of 100.
    const lotPath = join(dir, "lot.bin");
    await writeFile(lotPath, randomFillSync(new Uint8Array(LOT_BYTES)));
    const lotterySend = await sendSeconds(ownerBrowser, freshBrowser, stack.appUrl, rpcUrl, lotPath, {
      price: "0.001",
      scheme: "lottery",
    });
    const sendChain = createPublicClient({ transport: http(rpcUrl) });
    const gasOf = async (txs: Hash[]) => {
      let gas = 0n;
      for (const hash of txs) gas += (await sendChain.waitForTransactionReceipt({ hash })).gasUsed;
      return gas;
    };
    if (paidSend.txs.length !== 4) throw new Error(`the paid send's channel took ${paidSend.txs.length} transactions`);
    if (chainSend.txs.length !== 2) throw new Error(`the paid send's chain took ${chainSend.txs.length} transactions`);
    if (merkleSend.txs.length !== 2) throw new Error(`the Merkle send took ${merkleSend.txs.length} transactions`);
    if (lotterySend.txs.length !== 5) throw new Error(`the lottery send took ${lotterySend.txs.length} transactions`);
    const sendGas = await gasOf(paidSend.txs);
    const chainGas = await gasOf(chainSend.txs);
    const merkleGas = await gasOf(merkleSend.txs);
    const lotteryGas = await gasOf(lotterySend.txs);

    for (let i = 2; i < HOSTS; i++) hosts.push(await startHost(hostsBrowser, stack.appUrl));

    log("bench: upload, 64 MiB 4+2 to six hosts…");
    const path = join(dir, "bench.bin");
    await writeFile(path, randomFillSync(new Uint8Array(FILE_BYTES)));
    const owner = await ownerBrowser.open(stack.appUrl);
    await openFiles(owner, stack.appUrl);
    await owner.locator(`[data-testid="network-files"][data-hosts="${HOSTS}"]`).waitFor({ timeout: 90_000 });
    // What the seven open tabs cost while nothing moves (presence, announcements, chain polling, timers).
    const idleCpu = { seconds: browsersCpuSeconds(browsers), atMs: performance.now() };
    await owner.waitForTimeout(IDLE_SAMPLE_MS);
    const idleCores = (browsersCpuSeconds(browsers) - idleCpu.seconds) / ((performance.now() - idleCpu.atMs) / 1000);
    await owner.getByTestId("file-input").setInputFiles(path);
    const row = owner.locator('[data-testid="file"][data-name="bench.bin"]');
    await row.waitFor({ timeout: 120_000 }).catch(async (error: unknown) => {
      throw new Error(`the file was not stored: ${await owner.locator("main").textContent()}`, { cause: error });
    });
    const cid = (await row.getAttribute("data-cid")) ?? "";
    const uploadCpu = { seconds: browsersCpuSeconds(browsers), atMs: performance.now() };
    const upload = owner.locator(`[data-testid="activity"][data-kind="upload"][data-cid="${cid}"][data-done="true"]`);
    await upload.waitFor({ timeout: 180_000 });
    if ((await upload.getAttribute("data-error")) !== "") throw new Error("the upload failed");
    const uploadCores =
      (browsersCpuSeconds(browsers) - uploadCpu.seconds) / ((performance.now() - uploadCpu.atMs) / 1000);
    // From the first push to the last receipt (the latency probes before the pushes are not counted).
    const uploadMs = await pushSpanMs(owner, cid);

    log("bench: download with only the share link…");
    await row.getByTestId("share").click();
    const link = (await owner.locator('[data-testid="share-link"] input').inputValue()).trim();
    const fresh = await freshBrowser.open(stack.appUrl);
    await fresh.goto(link);
    // Let the fresh tab hear the hosts first, so that discovery is not measured.
    await fresh.waitForFunction(
      (n) => {
        const known = (globalThis as unknown as Partial<TabulaGlobal>).tabula?.knownHosts as
          | { list(): unknown[] }
          | undefined;
        return (known?.list().length ?? 0) >= n;
      },
      HOSTS,
      { timeout: 90_000 },
    );
    const download = fresh.waitForEvent("download", { timeout: 180_000 });
    const downloadCpu = { seconds: browsersCpuSeconds(browsers), atMs: performance.now() };
    await fresh.getByTestId("open-shared").click();
    await download;
    const downloadCores =
      (browsersCpuSeconds(browsers) - downloadCpu.seconds) / ((performance.now() - downloadCpu.atMs) / 1000);
    const fetched = fresh.locator('[data-testid="activity"][data-kind="download"][data-done="true"]').first();
    await fetched.waitFor({ timeout: 30_000 });
    const downloadMs = Number(await fetched.getAttribute("data-ms"));

    log("bench: the same bytes placed for pay on the same six hosts, once they staked…");
    for (const host of hosts) await stakeFromHostPage(host, "2");
    await owner.getByTestId("paid-storage").check();
    const paidPath = join(dir, "bench-paid.bin");
    await writeFile(paidPath, await readFile(path));
    await owner.getByTestId("file-input").setInputFiles(paidPath);
    const paidRow = owner.locator('[data-testid="file"][data-name="bench-paid.bin"]');
    await paidRow.waitFor({ timeout: 120_000 });
    const paidCid = (await paidRow.getAttribute("data-cid")) ?? "";
    const quote = owner.locator(`[data-testid="paid-quote"][data-cid="${paidCid}"][data-state="ready"]`);
    await quote.waitFor({ timeout: 120_000 });
    await quote.getByTestId("confirm-quote").click();
    const paidUpload = owner.locator(
      `[data-testid="activity"][data-kind="upload"][data-cid="${paidCid}"][data-done="true"]`,
    );
    await paidUpload.waitFor({ timeout: 300_000 });
    if ((await paidUpload.getAttribute("data-error")) !== "") throw new Error("the paid upload failed");
    const paidPushMs = await pushSpanMs(owner, paidCid);
    const paidTotalMs = Number(await paidUpload.getAttribute("data-ms"));
    const dealTxs = await paidUpload
      .locator('[data-testid="deal-tx"]')
      .evaluateAll((items) =>
        items.map((li) => [li.getAttribute("data-what"), li.getAttribute("data-tx"), li.getAttribute("data-deals")]),
      );
    const dealIds = (dealTxs.find(([what]) => what === "propose")?.[2] ?? "").split(",").map(BigInt);

    log("bench: one audit of each deal, then one claim…");
    await owner.getByTestId("audit-budget-amount").fill("1");
    await owner.getByTestId("set-audit-budget").click();
    await owner
      .locator('[data-testid="audit-budget"]:not([data-wei=""]):not([data-wei="0"])')
      .waitFor({ timeout: 60_000 });
    await owner.locator(`[data-testid="network-file"][data-cid="${paidCid}"] [data-testid="check"]`).click();
    const check = owner.locator(`[data-testid="activity"][data-kind="check"][data-cid="${paidCid}"][data-done="true"]`);
    await check.waitFor({ timeout: 300_000 });
    const auditTxs = await check
      .locator('[data-testid="deal-tx"]')
      .evaluateAll((items) => items.map((li) => li.getAttribute("data-tx") as string));
    const chain = createPublicClient({ transport: http(stack.chain.rpcUrl) });
    const market = stack.contracts.StorageMarket as Address;
    const answers = new Map<bigint, Hash>();
    while (answers.size < dealIds.length) {
      const events = await chain.getContractEvents({
        address: market,
        abi: storageMarketAbi,
        eventName: "AuditAnswered",
        fromBlock: 0n,
        strict: true,
      });
      for (const e of events) if (dealIds.includes(e.args.dealId)) answers.set(e.args.dealId, e.transactionHash);
      if (answers.size < dealIds.length) await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
    // Anyone may send the claim (each host is paid); a development account of the local chain does.
    const [sender] = await devAccounts(stack.chain.rpcUrl);
    const wallet = createWalletClient({ account: sender as Address, transport: http(stack.chain.rpcUrl) });
    const claim = await wallet.writeContract({
      address: market,
      abi: storageMarketAbi,
      functionName: "claimEarnings",
      args: [dealIds],
      chain: null,
    });
    const hashes = [
      ...dealTxs.flatMap(([what, hash]) => (what === "propose" || what === "accept" ? [hash as Hash] : [])),
      ...auditTxs.map((hash) => hash as Hash),
      ...answers.values(),
      claim,
    ];
    let gas = 0n;
    for (const hash of hashes) {
      const receipt = await chain.waitForTransactionReceipt({ hash });
      if (receipt.status !== "success") throw new Error(`${hash} reverted`);
      gas += receipt.gasUsed;
    }
    const paid = parseEventLogs({
      abi: storageMarketAbi,
      logs: (await chain.waitForTransactionReceipt({ hash: claim })).logs,
      eventName: "HostPaid",
    });
    if (paid.length !== dealIds.length) throw new Error(`the claim paid ${paid.length} deals of ${dealIds.length}`);

    return {
      webrtc_MBps: webrtc,
      webrtc_cpu_cores_busy: webrtcCores,
      send_MBps: FILE_BYTES / 1e6 / freeSend.seconds,
      paid_send_bandwidth_MBps: FILE_BYTES / 1e6 / paidSend.seconds,
      paid_send_bandwidth_ratio: freeSend.seconds / paidSend.seconds,
      gas_per_MB_bandwidth: Number(sendGas) / (FILE_BYTES / 1e6),
      paid_send_hash_chain_MBps: FILE_BYTES / 1e6 / chainSend.seconds,
      paid_send_hash_chain_ratio: freeSend.seconds / chainSend.seconds,
      gas_per_MB_hash_chain: Number(chainGas) / (FILE_BYTES / 1e6),
      paid_send_merkle_MBps: FILE_BYTES / 1e6 / merkleSend.seconds,
      paid_send_merkle_ratio: freeSend.seconds / merkleSend.seconds,
      gas_per_MB_merkle: Number(merkleGas) / (FILE_BYTES / 1e6),
      paid_send_lottery_MBps: LOT_BYTES / 1e6 / lotterySend.seconds,
      paid_send_lottery_ratio: LOT_BYTES / lotterySend.seconds / (FILE_BYTES / freeSend.seconds),
      gas_per_MB_lottery: Number(lotteryGas) / (LOT_BYTES / 1e6),
      idle_seven_tabs_cpu_cores_busy: idleCores,
      upload_network_MBps: FILE_BYTES / 1e6 / (uploadMs / 1000),
      upload_network_cpu_cores_busy: uploadCores,
      download_network_MBps: FILE_BYTES / 1e6 / (downloadMs / 1000),
      download_network_cpu_cores_busy: downloadCores,
      paid_upload_MBps: FILE_BYTES / 1e6 / (paidPushMs / 1000),
      paid_upload_total_MBps: FILE_BYTES / 1e6 / (paidTotalMs / 1000),
      gas_per_file_4_2: Number(gas),
    };
  } finally {
    await Promise.all(browsers.map((b) => b.close()));
    await stack.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  networkBench()
    .then((figures) => {
      const rounded = Object.fromEntries(Object.entries(figures).map(([k, v]) => [k, Math.round(v * 10) / 10]));
      console.log(JSON.stringify(rounded));
    })
    .catch((error: unknown) => {
      console.error(error);
      process.exit(1);
    });
}
