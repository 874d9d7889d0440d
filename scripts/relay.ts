/** Runs a standalone relay: `npm run relay -- --host 0.0.0.0 --port 9090`. */
import { parseArgs } from "node:util";
import { startRelay } from "./lib/relay.ts";

const { values } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "9090" },
  },
});
const relay = await startRelay({ host: values.host, port: Number(values.port) });
console.log(`relay listening on:\n  ${relay.addresses.join("\n  ")}`);
process.once("SIGINT", () => void relay.stop().then(() => process.exit(0)));
process.once("SIGTERM", () => void relay.stop().then(() => process.exit(0)));
