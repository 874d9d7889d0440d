/**
 * What Chromium's processes use, read from /proc (Linux): for `npm run bench`, which reports how many cores a stage
 * keeps busy and how much memory it holds.
 */
import { readdirSync, readFileSync } from "node:fs";

const TICKS_PER_SECOND = 100;

/**
 * Chromium processes of this profile, pid → cmdline: the browser process (the one whose command line names the
 * profile) and its descendants. Other Chromium instances on the machine (other jobs' tests) are not counted.
 */
export function chromiumProcesses(userDataDir: string): Map<number, string> {
  const parent = new Map<number, number>();
  const cmdline = new Map<number, string>();
  let root = 0;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const pid = Number(entry);
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      cmdline.set(pid, cmd);
      if (cmd.includes(userDataDir) && !cmd.includes("--type=") && /chrom/.test(cmd)) root = pid;
    } catch {}
  }
  const out = new Map<number, string>();
  if (root === 0) return out;
  for (const [pid, cmd] of cmdline) {
    let p = pid;
    while (p > 1 && p !== root) p = parent.get(p) ?? 0;
    if (p === root) out.set(pid, cmd);
  }
  return out;
}

/**
 * Seconds the threads of `pids` spent running and waiting to run (runnable, but every core taken), from
 * /proc/<pid>/task/<tid>/schedstat. Waiting time says how much more CPU the pipeline would have used on an idle
 * machine: on a machine shared with other jobs it is what separates "the pipeline cannot use two cores" from "two
 * cores were not to be had".
 */
export function schedSeconds(pids: Iterable<number>): { run: number; wait: number } {
  let run = 0;
  let wait = 0;
  for (const pid of pids) {
    try {
      for (const tid of readdirSync(`/proc/${pid}/task`)) {
        const [r, w] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ").map(Number);
        run += r ?? 0;
        wait += w ?? 0;
      }
    } catch {}
  }
  return { run: run / 1e9, wait: wait / 1e9 };
}

export function cpuSeconds(pids: Iterable<number>): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {}
  }
  return ticks / TICKS_PER_SECOND;
}

export function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}
