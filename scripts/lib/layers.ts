/**
 * The app's layering as data, and the check of every import against it (scripts/layers.ts is its command line).
 * Imports flow one way: ui → state → core → {p2p, storage, chain, workers} → lib. `main.ts` is the composition
 * root and may import anything; tests follow the rules of the room they sit in.
 */
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";

export const ROOMS = ["main", "ui", "state", "core", "p2p", "storage", "chain", "workers", "lib"] as const;
export type Room = (typeof ROOMS)[number];

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

function roomOf(root: string, file: string): Room | undefined {
  const rel = relative(root, file).split("/");
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

function where(root: string, i: Import): string {
  return `${relative(root, i.from)}:${i.line}`;
}

export interface LayerReport {
  /** Every source file of the app that was read. */
  files: string[];
  /** Imports that break a rule, each as "file:line: what is wrong". */
  problems: string[];
  /** Import statements between rooms, keyed "from → to". */
  edges: Map<string, number>;
}

/** Reads every source file under `root`/web and checks its imports against {@link ALLOWED}. */
export function checkLayers(root: string): LayerReport {
  const files = [...sourceFiles(join(root, "web/src")), ...sourceFiles(join(root, "web/workers"))];
  const problems: string[] = [];
  const edges = new Map<string, number>();

  for (const file of files) {
    const room = roomOf(root, file);
    if (!room) {
      problems.push(`${relative(root, file)}: not in any room of the app (${ROOMS.join(", ")})`);
      continue;
    }
    for (const i of importsOf(file)) {
      if (!i.to.startsWith("/")) {
        if ((room === "ui" || room === "state") && OUTSIDE_UI.some((re) => re.test(i.to)))
          problems.push(`${where(root, i)}: ${room} imports the package ${i.to}; reach it through core`);
        continue;
      }
      const target = roomOf(root, i.to);
      if (!target) {
        problems.push(`${where(root, i)}: imports ${relative(root, i.to)}, which is outside the app's rooms`);
        continue;
      }
      if (target === room) continue;
      const key = `${room} → ${target}`;
      edges.set(key, (edges.get(key) ?? 0) + 1);
      if (!ALLOWED[room].includes(target))
        problems.push(`${where(root, i)}: ${room} may not import ${target} (${relative(root, i.to)})`);
    }
  }
  return { files, problems, edges };
}
