import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { assertPortFree, ephemeralPortRange, freePort, PortInUseError } from "./ports.ts";

describe("freePort", () => {
  it("picks ports below the kernel's ephemeral range, where no outgoing connection can take them", async () => {
    const { low } = await ephemeralPortRange();
    const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(low);
    }
  });

  it("returns a port a server can then listen on, which npm start's check then reports in use", async () => {
    const port = await freePort();
    await assertPortFree("relay", "127.0.0.1", port);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
    try {
      await expect(assertPortFree("relay", "127.0.0.1", port)).rejects.toBeInstanceOf(PortInUseError);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
