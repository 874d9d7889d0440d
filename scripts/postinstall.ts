/**
 * Runs after `npm install` / `npm ci`, on the pinned Node 22 from `node_modules/.bin`.
 *
 * 1. npm decides which optional, platform-specific packages to install with the Node that runs npm itself. On a
 *    machine whose own Node is older than 22, npm marks native bindings that declare `engines: >=22` (Hardhat's
 *    EDR) as not installable, although every script runs on the pinned Node 22. This step fetches exactly the
 *    version recorded in package-lock.json, checks its integrity hash, and unpacks it in place.
 * 2. A registry mirror that only serves this platform's binaries leaves the other platforms' optional packages out
 *    of a freshly written lockfile, which `npm ci` then rejects as out of sync. After `npm install`, this step
 *    records them (version only; npm skips them by os/cpu at install time).
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

interface LockEntry {
  version?: string;
  integrity?: string;
  optional?: boolean;
  dev?: boolean;
  os?: string[];
  cpu?: string[];
  libc?: string[];
}

const root = process.cwd();
const lockPath = join(root, "package-lock.json");
const lock = JSON.parse(readFileSync(lockPath, "utf8")) as { packages: Record<string, LockEntry> };

function matches(list: string[] | undefined, value: string): boolean {
  if (!list) return true;
  const allowed = list.filter((v) => !v.startsWith("!"));
  if (list.includes(`!${value}`)) return false;
  return allowed.length === 0 || allowed.includes(value);
}

function libc(): string {
  const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined;
  return report?.header?.glibcVersionRuntime ? "glibc" : "musl";
}

function installMissingNativeBindings(): void {
  const myLibc = process.platform === "linux" ? libc() : undefined;
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path || !entry.optional || !entry.version || !entry.integrity) continue;
    if (!entry.os && !entry.cpu) continue; // only platform-specific binaries
    if (!matches(entry.os, process.platform) || !matches(entry.cpu, process.arch)) continue;
    if (myLibc && !matches(entry.libc, myLibc)) continue;
    const dir = join(root, path);
    if (existsSync(join(dir, "package.json"))) continue;
    const name = path.slice(path.lastIndexOf("node_modules/") + "node_modules/".length);
    const tmp = mkdtempSync(join(tmpdir(), "tabula-native-"));
    try {
      const out = execFileSync("npm", ["pack", `${name}@${entry.version}`, "--pack-destination", tmp, "--json"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
      });
      const [packed] = JSON.parse(out) as Array<{ filename: string }>;
      if (!packed) throw new Error(`npm pack printed nothing for ${name}@${entry.version}`);
      const filename = packed.filename;
      const tarball = join(tmp, filename.replace(/^@/, "").replace(/\//g, "-"));
      const [algo, expected] = entry.integrity.split("-", 2) as [string, string];
      const actual = createHash(algo).update(readFileSync(tarball)).digest("base64");
      if (actual !== expected) throw new Error(`integrity mismatch for ${name}@${entry.version}`);
      execFileSync("tar", ["-xzf", tarball, "-C", tmp]);
      mkdirSync(join(dir, ".."), { recursive: true });
      renameSync(join(tmp, "package"), dir);
      console.log(`postinstall: installed ${name}@${entry.version} for ${process.platform}-${process.arch}`);
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
}

function recordOtherPlatforms(): void {
  let added = 0;
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (!path) continue;
    const manifest = join(root, path, "package.json");
    if (!existsSync(manifest)) continue;
    const pkg = JSON.parse(readFileSync(manifest, "utf8")) as { optionalDependencies?: Record<string, string> };
    for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
      const key = `${path}/node_modules/${name}`;
      const hoisted = `node_modules/${name}`;
      if (lock.packages[key] || lock.packages[hoisted]) continue;
      lock.packages[hoisted] = { version, ...(entry.dev ? { dev: true } : {}), optional: true };
      added++;
    }
  }
  if (added > 0) {
    const sorted = Object.fromEntries(
      Object.entries(lock.packages).sort(([a], [b]) => (a === "" ? -1 : b === "" ? 1 : a.localeCompare(b))),
    );
    writeFileSync(lockPath, `${JSON.stringify({ ...lock, packages: sorted }, null, 2)}\n`);
    console.log(`postinstall: recorded ${added} other-platform optional packages in package-lock.json`);
  }
}

installMissingNativeBindings();
if (process.env.npm_command === "install") recordOtherPlatforms();
