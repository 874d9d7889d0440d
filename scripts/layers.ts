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
import { readFileSync } from "node:fs";
import { join, normalize, relative } from "node:path";
import { checkLayers, ROOMS } from "./lib/layers.ts";

const ROOT = normalize(join(import.meta.dirname, ".."));
const { files, problems, edges } = checkLayers(ROOT);

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
