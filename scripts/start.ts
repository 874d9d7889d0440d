/**
 * `npm start`: the local Tabula network on loopback (chain + contracts, relay, app) with one command; Ctrl-C stops
 * all of it. Ports: --chain-port (8545), --relay-port (9090), --app-port (5173); --dist serves the built site.
 */
import { parseArgs } from "node:util";
import { PortInUseError } from "./lib/ports.ts";
import { assertStackPortsFree, compileContracts, startStack } from "./lib/stack.ts";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    "chain-port": { type: "string", default: "8545" },
    "relay-port": { type: "string", default: "9090" },
    "app-port": { type: "string", default: "5173" },
    dist: { type: "boolean", default: false },
  },
});

const ports = {
  chain: Number(values["chain-port"]),
  relay: Number(values["relay-port"]),
  app: Number(values["app-port"]),
};
try {
  await assertStackPortsFree(values.host, ports);
  console.log("Compiling contracts…");
  await compileContracts();
  const stack = await startStack({
    host: values.host,
    ports: {
      chain: Number(values["chain-port"]),
      relay: Number(values["relay-port"]),
      app: Number(values["app-port"]),
    },
    app: values.dist ? "dist" : "dev",
    writePublic: true,
    log: (line) => console.log(line),
  });
  console.log(`\nTabula is running. Open ${stack.appUrl} in one or more tabs. Ctrl-C stops everything.`);
  let stopping = false;
  const shutdown = async () => {
    if (stopping) return;
    stopping = true;
    console.log("\nStopping…");
    await stack.stop();
    process.exit(0);
  };
  process.on("SIGINT", shutdown);
  process.on("SIGTERM", shutdown);
} catch (error) {
  if (error instanceof PortInUseError) {
    console.error(`npm start: ${error.message}`);
    process.exit(1);
  }
  console.error("npm start failed:", error);
  process.exit(1);
}
