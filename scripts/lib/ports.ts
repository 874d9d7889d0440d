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

/** A port the OS reports free right now (for tests that start their own stack). */
export async function freePort(host = "127.0.0.1"): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ host, port: 0 }, () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
