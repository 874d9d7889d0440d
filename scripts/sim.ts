/**
 * Churn simulation of Tabula's storage network (issue 6): real libp2p peers on loopback TCP running the tab's
 * protocol modules; files stored k+m; hosts leave for good and new ones join every round; prints how many files
 * are lost with and without the owner's audit-and-repair, at several churn rates.
 *
 *   npm run sim -- [--peers 120] [--files 40] [--rounds 20] [--churn 0.02,0.05,0.1,0.2] [--seed 1] [--k 4] [--m 2]
 */
import { parseArgs } from "node:util";
import { DEFAULT_PARAMS, type SimulationResult, simulate } from "../sim/simulation.ts";

const { values } = parseArgs({
  options: {
    peers: { type: "string" },
    files: { type: "string" },
    rounds: { type: "string" },
    churn: { type: "string" },
    seed: { type: "string" },
    k: { type: "string" },
    m: { type: "string" },
  },
});

const number = (value: string | undefined, fallback: number) => (value === undefined ? fallback : Number(value));
const base = {
  peers: number(values.peers, DEFAULT_PARAMS.peers),
  filesPerSet: number(values.files, DEFAULT_PARAMS.filesPerSet),
  rounds: number(values.rounds, DEFAULT_PARAMS.rounds),
  seed: number(values.seed, DEFAULT_PARAMS.seed),
  k: number(values.k, DEFAULT_PARAMS.k),
  m: number(values.m, DEFAULT_PARAMS.m),
};
const rates = (values.churn ?? "0.02,0.05,0.1,0.2").split(",").map(Number);

console.log(
  `Tabula churn simulation: ${base.peers} hosts online, ${base.filesPerSet} files per set stored ${base.k}+${base.m}, ` +
    `${base.rounds} rounds (one announcement interval each), hosts leave for good with the given chance per round ` +
    "and as many new ones join.\n",
);
const results: SimulationResult[] = [];
for (const churn of rates) {
  results.push(await simulate({ ...base, churn }));
}

const header = [
  "churn/round",
  "left",
  "joined",
  "lost, no repair",
  "lost, repair",
  "shards rebuilt",
  "audits (failed)",
  "time",
];
const rows = results.map((r) => [
  `${(r.params.churn * 100).toFixed(0)} %`,
  String(r.peersLeft),
  String(r.peersJoined),
  `${r.lostWithoutRepair}/${r.params.filesPerSet}`,
  `${r.lostWithRepair}/${r.params.filesPerSet}`,
  String(r.shardsRebuilt),
  `${r.auditsRun} (${r.auditsFailed})`,
  `${(r.durationMs / 1000).toFixed(1)} s`,
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] as string).length)));
const line = (cells: string[]) => `| ${cells.map((c, i) => c.padStart(widths[i] as number)).join(" | ")} |`;
console.log(line(header));
console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const row of rows) console.log(line(row));
console.log(
  JSON.stringify(
    results.map((r) => ({
      churn: r.params.churn,
      lostWithoutRepair: r.lostWithoutRepair,
      lostWithRepair: r.lostWithRepair,
      shardsRebuilt: r.shardsRebuilt,
      files: r.params.filesPerSet,
    })),
  ),
);
