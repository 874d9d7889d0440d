import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { cpuSeconds } from "./proc-stats.ts";

const ROOT = join(import.meta.dirname, "..", "..");
/** Hardhat's CLI script, run on this process's Node (the pinned Node 22) whatever is first on PATH. */
export const HARDHAT_CLI = realpathSync(join(ROOT, "node_modules", ".bin", "hardhat"));
/**
 * A chain that is starting keeps its process busy (loading Hardhat, compiling the config, opening the port); one
 * whose process used no CPU for this long while not answering has stopped, however busy the machine is.
 */
const CHAIN_START_STALL_MS = 30_000;
/** Where the process's CPU time cannot be read (no /proc), the start is given this long in all. */
const CHAIN_START_TIMEOUT_MS = 180_000;
/**
 * The local chain mines a block this often even with no transaction, as a real chain does: the time in its blocks
 * moves on (audit windows close) and an audit's seed block comes without anyone sending a transaction for it.
 */
export const LOCAL_BLOCK_INTERVAL_MS = 2_000;

export interface Chain {
  rpcUrl: string;
  chainId: number;
  process: ChildProcess;
  stop(): Promise<void>;
}

async function rpc<T>(url: string, method: string, params: unknown[] = [], signal?: AbortSignal): Promise<T> {
  const response = await fetch(url, {
    method: "POST",
    ...(signal ? { signal } : {}),
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  const body = (await response.json()) as { result?: T; error?: { message: string } };
  if (body.error) throw new Error(`${method}: ${body.error.message}`);
  return body.result as T;
}

/** Starts Hardhat's local chain (id 31337) on `host:port` as a child process and waits until it answers. */
export async function startChain(options: { host: string; port: number; quiet?: boolean }): Promise<Chain> {
  const rpcUrl = `http://${options.host}:${options.port}`;
  const child = spawn(
    process.execPath,
    [HARDHAT_CLI, "node", "--hostname", options.host, "--port", String(options.port)],
    {
      cwd: ROOT,
      env: { ...process.env, CI: "true", HARDHAT_DISABLE_TELEMETRY: "true" },
      stdio: ["ignore", options.quiet ? "ignore" : "pipe", "pipe"],
    },
  );
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const exited = new Promise<never>((_, reject) => {
    child.once("exit", (code) => reject(new Error(`the local chain exited with code ${code}: ${stderr.trim()}`)));
  });
  const cpu = () => (child.pid === undefined ? 0 : cpuSeconds([child.pid]));
  const measured = existsSync("/proc");
  const startedAtMs = Date.now();
  let lastCpu = cpu();
  let progressAtMs = startedAtMs;
  let chainId = 0;
  while (!chainId) {
    const now = Date.now();
    const used = cpu();
    if (used !== lastCpu) {
      lastCpu = used;
      progressAtMs = now;
    }
    const stalled = measured ? now - progressAtMs > CHAIN_START_STALL_MS : now - startedAtMs > CHAIN_START_TIMEOUT_MS;
    if (stalled) {
      child.kill("SIGKILL");
      throw new Error(
        measured
          ? `the local chain at ${rpcUrl} stopped starting: no answer, and its process used no CPU for ${CHAIN_START_STALL_MS} ms (${used} s of CPU in all)`
          : `the local chain did not answer at ${rpcUrl} within ${CHAIN_START_TIMEOUT_MS} ms`,
      );
    }
    chainId = await Promise.race([
      rpc<string>(rpcUrl, "eth_chainId", [], AbortSignal.timeout(CHAIN_START_STALL_MS)).then(
        (hex) => Number(hex),
        () => new Promise<number>((resolve) => setTimeout(() => resolve(0), 200)),
      ),
      exited,
    ]);
  }
  exited.catch(() => {});
  await rpc(rpcUrl, "evm_setIntervalMining", [LOCAL_BLOCK_INTERVAL_MS]);
  return {
    rpcUrl,
    chainId,
    process: child,
    stop: async () => {
      if (child.exitCode !== null) return;
      const done = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await done;
    },
  };
}

/** The local chain's unlocked development accounts (Hardhat's well-known test accounts). */
export async function devAccounts(rpcUrl: string): Promise<`0x${string}`[]> {
  return await rpc<`0x${string}`[]>(rpcUrl, "eth_accounts");
}
