/**
 * `npm run test:e2e`: builds the site, then runs e2e/*.e2e.ts with Node's test runner. Each test file starts its
 * own local stack (chain, contracts, relay, static server) on free ports and drives real Chromium tabs.
 */
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { ChromiumMissingError, chromiumPath } from "../e2e/harness.ts";

const ROOT = join(import.meta.dirname, "..");
try {
  chromiumPath();
} catch (error) {
  if (error instanceof ChromiumMissingError) {
    console.error(`test:e2e: ${error.message}`);
    process.exit(1);
  }
  throw error;
}

const only = process.argv.slice(2);
if (!process.env.TABULA_E2E_SKIP_BUILD) {
  const build = spawnSync("npm", ["run", "build"], { cwd: ROOT, stdio: "inherit" });
  if (build.status !== 0) process.exit(build.status ?? 1);
}
const files = (
  only.length
    ? only
    : readdirSync(join(ROOT, "e2e"))
        .filter((f) => f.endsWith(".e2e.ts"))
        .map((f) => join("e2e", f))
).sort();
// No per-test or per-file time limit: a slow machine that keeps moving must pass. Every wait in the tests is bounded
// instead, by a generous timeout on a single event or by a watchdog that fails once progress stalls (harness.ts).
const result = spawnSync(process.execPath, ["--test", "--test-concurrency=1", ...files], {
  cwd: ROOT,
  stdio: "inherit",
});
process.exit(result.status ?? 1);
