import { readFile } from "node:fs/promises";
import { createServer } from "node:net";

/** A port another process already listens on; `npm start` reports it and exits. */
export class PortInUseError extends Error {
  override name = "PortInUseError";
  readonly service: string;
  readonly host: string;
  readonly port: number;
  constructor(service: string, host: string, port: number) {
    super(
      `port ${port} on ${host} (${service}) is already in use: stop whatever uses it, or choose another port with ` +
        `the matching --${service}-port option`,
    );
    this.service = service;
    this.host = host;
    this.port = port;
  }
}

/** Resolves when `port` is free on `host`, or rejects with {@link PortInUseError}. */
export async function assertPortFree(service: string, host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      reject(error.code === "EADDRINUSE" || error.code === "EACCES" ? new PortInUseError(service, host, port) : error);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve()));
  });
}

/** The kernel's range for ports it picks itself (outgoing connections, listen on port 0), Linux's default if unknown. */
export async function ephemeralPortRange(): Promise<{ low: number; high: number }> {
  try {
    const text = await readFile("/proc/sys/net/ipv4/ip_local_port_range", "utf8");
    const [low, high] = text.trim().split(/\s+/).map(Number);
    if (low && high && low <= high) return { low, high };
  } catch {
    // Not Linux, or no procfs: fall through to the default.
  }
  return { low: 32768, high: 60999 };
}

const LOWEST_TEST_PORT = 10_000;

/**
 * A port free right now for a test's own stack, chosen below the kernel's ephemeral range: a port from that range
 * can be taken, before the test listens on it, by any outgoing connection, or by a connection to that very port
 * while nothing listens there (TCP's self-connect), so a test that starts its server late would meet EADDRINUSE.
 */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  const { low } = await ephemeralPortRange();
  const high = low - 1;
  if (high < LOWEST_TEST_PORT) throw new Error(`the ephemeral port range starts at ${low}: no room for test ports`);
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = LOWEST_TEST_PORT + Math.floor(Math.random() * (high - LOWEST_TEST_PORT + 1));
    if (await canListen(host, port)) return port;
  }
  throw new Error(`no free port found between ${LOWEST_TEST_PORT} and ${high} on ${host}`);
}

async function canListen(host: string, port: number): Promise<boolean> {
  return await new Promise<boolean>((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE" || error.code === "EACCES") resolve(false);
      else reject(error);
    });
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}
