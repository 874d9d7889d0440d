import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("npm run test:e2e without Chromium", () => {
  it("fails and says how to install Chromium instead of skipping", () => {
    const result = spawnSync(process.execPath, [join(import.meta.dirname, "e2e.ts")], {
      env: { ...process.env, CHROME_PATH: "/nonexistent/chromium", TABULA_E2E_SKIP_BUILD: "1" },
      encoding: "utf8",
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain("Chromium was not found at /nonexistent/chromium");
    expect(result.stderr).toContain("sudo apt-get install -y chromium");
  });
});
