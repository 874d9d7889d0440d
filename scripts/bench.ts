/**
 * `npm run bench`: builds the bench page (bench/index.html) into a temporary folder, serves it on loopback,
 * and runs it in headless Chromium with a persistent profile (real, on-disk IndexedDB). Prints a table, then on
 * its last line one JSON object with every figure (MB/s are 10^6 bytes of input per second).
 *
 * While the pipeline runs, this script samples from outside the page: the CPU time of all of Chromium's processes
 * (to show how many cores the pipeline keeps busy) and memory: the JS heap of the page and of each worker
 * (CDP Runtime.getHeapUsage, including ArrayBuffer backing stores where Chromium reports them) and the renderer's
 * resident memory.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import { loadavg, tmpdir } from "node:os";
import { extname, join, normalize } from "node:path";
import type { CDPSession, Page } from "playwright-core";
import { build } from "vite";
import { networkBench } from "../bench/network.ts";
import { launchBrowser } from "../e2e/harness.ts";
import { chromiumProcesses, cpuSeconds, rssBytes, schedSeconds } from "./lib/proc-stats.ts";

const ROOT = join(import.meta.dirname, "..");
const MiB = 1024 * 1024;
const PIPELINE_BYTES = 256 * MiB;
/** What the IndexedDB figures write and read back. */
const IDB_BENCH_BYTES = 256 * MiB;
const HEAP_RUN_BYTES = 1024 * MiB;
const SAMPLE_INTERVAL_MS = 100;

const MIME: Record<string, string> = {
  ".html": "text/html",
  ".js": "text/javascript",
  ".wasm": "application/wasm",
  ".css": "text/css",
  ".json": "application/json",
};

async function buildBench(outDir: string): Promise<void> {
  await build({
    configFile: join(ROOT, "bench/vite.config.ts"),
    logLevel: "warn",
    build: { outDir, emptyOutDir: true, sourcemap: false },
  });
}

async function serve(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer(async (req, res) => {
    const requested = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(
      /^(\.\.[/\\])+/,
      "",
    );
    const path = requested.endsWith("/") ? `${requested}index.html` : requested;
    try {
      const body = await readFile(join(dir, path));
      res.writeHead(200, { "content-type": MIME[extname(path)] ?? "application/octet-stream" });
      res.end(body);
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise((r) => server.close(() => r())) };
}

/** What bench/page/main.ts puts on the page. */
interface BenchGlobal {
  tabulaBench: {
    kernels(): Promise<Record<string, number>>;
    idb(totalBytes: number): Promise<Record<string, number>>;
    pipeline(bytes: number): Promise<Record<string, number>>;
    encodeWithoutStorage(bytes: number): Promise<Record<string, number>>;
  };
}

interface HeapUsage {
  usedSize: number;
  backingStorageSize?: number;
}

/**
 * Heap usage of every worker of the page, through the page's CDP session: Playwright opens CDP sessions on pages
 * only, so workers are auto-attached in non-flattened mode and asked through Target.sendMessageToTarget.
 */
async function workerHeaps(cdp: CDPSession) {
  const sessions = new Set<string>();
  const pending = new Map<number, (usage: HeapUsage | undefined) => void>();
  let nextId = 1;
  type Attached = { sessionId: string; targetInfo: { type: string } };
  type Received = { sessionId: string; message: string };
  const on = cdp.on.bind(cdp) as unknown as (event: string, listener: (e: never) => void) => void;
  on("Target.attachedToTarget", (e: Attached) => {
    if (e.targetInfo.type === "worker") sessions.add(e.sessionId);
  });
  on("Target.detachedFromTarget", (e: { sessionId: string }) => sessions.delete(e.sessionId));
  on("Target.receivedMessageFromTarget", (e: Received) => {
    const message = JSON.parse(e.message) as { id?: number; result?: HeapUsage };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const send = cdp.send.bind(cdp) as unknown as (method: string, params: object) => Promise<unknown>;
  await send("Target.setAutoAttach", { autoAttach: true, waitForDebuggerOnStart: false, flatten: false });
  return {
    get count() {
      return sessions.size;
    },
    async sample(): Promise<HeapUsage[]> {
      return await Promise.all(
        [...sessions].map(
          (sessionId) =>
            new Promise<HeapUsage | undefined>((resolve) => {
              const id = nextId++;
              const done = (usage: HeapUsage | undefined) => {
                pending.delete(id);
                resolve(usage);
              };
              pending.set(id, done);
              setTimeout(() => done(undefined), 2000);
              send("Target.sendMessageToTarget", {
                sessionId,
                message: JSON.stringify({ id, method: "Runtime.getHeapUsage" }),
              }).catch(() => done(undefined));
            }),
        ),
      ).then((all) => all.filter((u): u is HeapUsage => u !== undefined));
    },
  };
}

/** Samples memory of the page, its workers and its renderer process until stopped. */
function sampleMemory(page: Page, cdp: CDPSession, workers: () => Promise<HeapUsage[]>, rendererPids: () => number[]) {
  let peakHeap = 0;
  let peakJsHeap = 0;
  let peakRss = 0;
  let peakWorkers = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const main = (await cdp.send("Runtime.getHeapUsage").catch(() => undefined)) as HeapUsage | undefined;
      const usages = [...(main ? [main] : []), ...(await workers())];
      let js = 0;
      let withBuffers = 0;
      for (const u of usages) {
        js += u.usedSize;
        withBuffers += u.usedSize + (u.backingStorageSize ?? 0);
      }
      peakWorkers = Math.max(peakWorkers, usages.length - 1);
      peakJsHeap = Math.max(peakJsHeap, js);
      peakHeap = Math.max(peakHeap, withBuffers);
      peakRss = Math.max(
        peakRss,
        rendererPids().reduce((n, pid) => n + rssBytes(pid), 0),
      );
      await page.waitForTimeout(SAMPLE_INTERVAL_MS);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
      return { peakHeap, peakJsHeap, peakRss, peakWorkers };
    },
  };
}

async function main(): Promise<void> {
  const outDir = await mkdtemp(join(tmpdir(), "tabula-bench-site-"));
  console.error("bench: building the bench page…");
  await buildBench(outDir);
  const server = await serve(outDir);
  const browser = await launchBrowser();
  try {
    const page = await browser.open(server.url);
    page.on("console", (msg) => {
      if (msg.type() === "error") console.error(`[page] ${msg.text()}`);
    });
    await page.waitForFunction(() => document.getElementById("status")?.textContent === "ready");
    const cdp = await browser.context.newCDPSession(page);
    const workers = await workerHeaps(cdp);
    const processes = () => chromiumProcesses(browser.userDataDir);
    const renderers = () => [...processes()].filter(([, cmd]) => cmd.includes("--type=renderer")).map(([pid]) => pid);

    // CPU seconds of all of Chromium's processes at each phase the page marks (bench/page/main.ts `phase`).
    const marks = new Map<string, number>();
    await page.exposeFunction("tabulaBenchPhase", (label: string) => {
      marks.set(label, cpuSeconds(processes().keys()));
    });
    /** CPU milliseconds all processes spent between `<name>-start` and `<name>-end`, per 10^6 bytes. */
    const cpuMsPerMB = (name: string, bytes: number) =>
      (((marks.get(`${name}-end`) ?? Number.NaN) - (marks.get(`${name}-start`) ?? Number.NaN)) * 1000) / (bytes / 1e6);

    const results: Record<string, number> = {};
    console.error("bench: stage kernels (one worker)…");
    Object.assign(results, await page.evaluate(() => (globalThis as unknown as BenchGlobal).tabulaBench.kernels()));
    console.error("bench: IndexedDB…");
    Object.assign(
      results,
      await page.evaluate((bytes) => (globalThis as unknown as BenchGlobal).tabulaBench.idb(bytes), IDB_BENCH_BYTES),
    );
    results.idb_write_cpu_ms_per_MB = cpuMsPerMB("idb-write", IDB_BENCH_BYTES);

    console.error("bench: pipeline, 256 MiB, 4+2…");
    // Processes are listed before and after: the page's workers are started inside the measured call.
    const before = processes();
    const cpuStart = cpuSeconds(before.keys());
    const schedStart = schedSeconds(before.keys());
    const wallStart = performance.now();
    const p = (await page.evaluate(
      (bytes) => (globalThis as unknown as BenchGlobal).tabulaBench.pipeline(bytes),
      PIPELINE_BYTES,
    )) as Record<string, number>;
    const wallSeconds = (performance.now() - wallStart) / 1000;
    const after = processes();
    const cores = (cpuSeconds(after.keys()) - cpuStart) / wallSeconds;
    const schedEnd = schedSeconds(after.keys());
    results.pipeline_encode_MBps = p.encode_MBps as number;
    results.pipeline_decode_MBps = p.decode_MBps as number;
    results.pipeline_cpu_cores_busy = cores;
    results.pipeline_cpu_cores_waiting = (schedEnd.wait - schedStart.wait) / wallSeconds;
    results.pipeline_encode_cpu_ms_per_MB = cpuMsPerMB("encode", PIPELINE_BYTES);
    results.pipeline_decode_cpu_ms_per_MB = cpuMsPerMB("decode", PIPELINE_BYTES);

    console.error("bench: the same encode, pieces dropped instead of written to IndexedDB…");
    const dropped = processes();
    const droppedCpuStart = cpuSeconds(dropped.keys());
    const droppedWallStart = performance.now();
    const withoutIdb = (await page.evaluate(
      (bytes) => (globalThis as unknown as BenchGlobal).tabulaBench.encodeWithoutStorage(bytes),
      PIPELINE_BYTES,
    )) as Record<string, number>;
    results.pipeline_encode_without_idb_MBps = withoutIdb.encode_MBps as number;
    results.pipeline_encode_without_idb_cpu_cores_busy =
      (cpuSeconds(processes().keys()) - droppedCpuStart) / ((performance.now() - droppedWallStart) / 1000);
    results.pipeline_encode_without_idb_cpu_ms_per_MB = cpuMsPerMB("encode", PIPELINE_BYTES);

    console.error("bench: pipeline, 1 GiB, memory sampled…");
    const sampler = sampleMemory(page, cdp, () => workers.sample(), renderers);
    const big = (await page.evaluate(
      (bytes) => (globalThis as unknown as BenchGlobal).tabulaBench.pipeline(bytes),
      HEAP_RUN_BYTES,
    )) as Record<string, number>;
    const memory = await sampler.stop();
    results.pipeline_1gib_encode_MBps = big.encode_MBps as number;
    results.pipeline_1gib_decode_MBps = big.decode_MBps as number;
    results.pipeline_peak_heap_MB = memory.peakHeap / 1e6;
    results.pipeline_peak_js_heap_MB = memory.peakJsHeap / 1e6;
    results.pipeline_peak_renderer_rss_MB = memory.peakRss / 1e6;

    results.pipeline_heap_workers_sampled = memory.peakWorkers;
    // A failure of the network part (it needs the whole local stack) must not throw away the figures above.
    let networkError: unknown;
    try {
      Object.assign(results, await networkBench());
    } catch (error) {
      networkError = error;
    }
    // The machine is shared: the load says how far these figures are from an idle machine's.
    results.load_average_1m = loadavg()[0] as number;
    const rounded = Object.fromEntries(Object.entries(results).map(([key, v]) => [key, Math.round(v * 10) / 10]));
    const width = Math.max(...Object.keys(rounded).map((key) => key.length));
    console.log(`${"figure".padEnd(width)}  value`);
    for (const [key, v] of Object.entries(rounded)) console.log(`${key.padEnd(width)}  ${v}`);
    console.log(JSON.stringify(rounded));
    if (networkError) {
      console.error("bench: the network figures failed:", networkError);
      process.exitCode = 1;
    }
  } finally {
    await browser.close();
    await server.close();
    await rm(outDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
