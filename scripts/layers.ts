/**
 * The app's layering, checked: which room of `web/` may import which. `npm test` runs it through `npm run lint`
 * and fails on the first import that goes the wrong way.
 *
 *   node scripts/layers.ts            check; exit 1 and name every import that breaks a rule
 *   node scripts/layers.ts --graph    also print which room imports which (import statements counted) and the
 *                                     largest source files, to see the shape of the app at a glance
 *
 * Imports flow one way: ui → state → core → {p2p, storage, chain, workers} → lib. `main.ts` is the composition
 * root and may import anything; tests follow the rules of the room they sit in.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(join(import.meta.dirname, ".."));

const ROOMS = ["main", "ui", "state", "core", "p2p", "storage", "chain", "workers", "lib"] as const;
type Room = (typeof ROOMS)[number];

/** What each room may import besides itself. */
const ALLOWED: Record<Room, readonly Room[]> = {
  main: ROOMS,
  // The UI reads state; `lib` is the floor everyone stands on (pure code: formats, errors, constants).
  ui: ["state", "lib"],
  state: ["core", "lib"],
  core: ["p2p", "storage", "chain", "workers", "lib"],
  p2p: ["lib"],
  storage: ["lib"],
  chain: ["lib"],
  workers: ["lib"],
  lib: [],
};

/** Packages that belong to one side of the app: the UI and its state reach them only through core. */
const OUTSIDE_UI: RegExp[] = [/^libp2p$/, /^@libp2p\//, /^helia$/, /^@helia\//, /^viem/, /^@wagmi\//, /^idb$/];

interface Import {
  from: string;
  to: string;
  line: number;
}

function roomOf(file: string): Room | undefined {
  const rel = relative(ROOT, file).split("/");
  if (rel[0] !== "web") return undefined;
  if (rel[1] === "workers") return "workers";
  if (rel[1] !== "src") return undefined;
  if (rel.length === 3) return rel[2] === "main.ts" ? "main" : undefined;
  return (ROOMS as readonly string[]).includes(rel[2] ?? "") ? (rel[2] as Room) : undefined;
}

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|svelte)$/.test(entry.name)) out.push(path);
  }
  return out;
}

const SPECIFIER = /(?:\bfrom\s*|\bimport\s*\(\s*|^\s*import\s+|\bnew\s+URL\s*\(\s*)(["'])([^"'\n]+)\1/gm;

function importsOf(file: string): Import[] {
  const text = readFileSync(file, "utf8");
  const out: Import[] = [];
  for (const match of text.matchAll(SPECIFIER)) {
    const spec = match[2] as string;
    const line = text.slice(0, match.index).split("\n").length;
    out.push({ from: file, to: spec.startsWith(".") ? normalize(join(dirname(file), spec)) : spec, line });
  }
  return out;
}

function where(i: Import): string {
  return `${relative(ROOT, i.from)}:${i.line}`;
}

const files = [...sourceFiles(join(ROOT, "web/src")), ...sourceFiles(join(ROOT, "web/workers"))];
const problems: string[] = [];
const edges = new Map<string, number>();

for (const file of files) {
  const room = roomOf(file);
  if (!room) {
    problems.push(`${relative(ROOT, file)}: not in any room of the app (${ROOMS.join(", ")})`);
    continue;
  }
  for (const i of importsOf(file)) {
    if (!i.to.startsWith("/")) {
      if ((room === "ui" || room === "state") && OUTSIDE_UI.some((re) => re.test(i.to)))
        problems.push(`${where(i)}: ${room} imports the package ${i.to}; reach it through core`);
      continue;
    }
    const target = roomOf(i.to);
    if (!target) {
      problems.push(`${where(i)}: imports ${relative(ROOT, i.to)}, which is outside the app's rooms`);
      continue;
    }
    if (target === room) continue;
    const key = `${room} → ${target}`;
    edges.set(key, (edges.get(key) ?? 0) + 1);
    if (!ALLOWED[room].includes(target))
      problems.push(`${where(i)}: ${room} may not import ${target} (${relative(ROOT, i.to)})`);
  }
}

if (process.argv.includes("--graph")) {
  console.log("imports between rooms (import statements):");
  for (const from of ROOMS) {
    const row = ROOMS.filter((to) => edges.has(`${from} → ${to}`)).map((to) => `${to} ${edges.get(`${from} → ${to}`)}`);
    if (row.length) console.log(`  ${from.padEnd(8)} → ${row.join(", ")}`);
  }
  const sizes = files
    .map((f) => ({ file: relative(ROOT, f), lines: readFileSync(f, "utf8").split("\n").length - 1 }))
    .filter((f) => !/\.test\.ts$/.test(f.file))
    .sort((a, b) => b.lines - a.lines)
    .slice(0, 12);
  console.log("largest source files (lines, tests left out):");
  for (const s of sizes) console.log(`  ${String(s.lines).padStart(5)}  ${s.file}`);
}

if (problems.length) {
  console.error(`layers: ${problems.length} import(s) go the wrong way:`);
  for (const p of problems) console.error(`  ${p}`);
  console.error("Imports flow ui → state → core → {p2p, storage, chain, workers} → lib (see scripts/layers.ts).");
  process.exit(1);
}
console.log(`layers: ${files.length} files, every import goes the right way`);
