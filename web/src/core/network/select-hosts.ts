import type { PaymentTerms } from "../../p2p/protocols/pay/index.ts";

/** A host as host selection sees it. */
export interface HostCandidate {
  peer: string;
  freeBytes: number;
  pricePerGiBMonth: bigint;
  /** What it asks to be paid for the pieces it serves; absent while it serves them free. */
  retrieval?: PaymentTerms;
  latencyMs?: number;
  failure?: { atMs: number; reason: string };
}

export interface SelectHostsOptions {
  /** Hosts with less room than this are skipped (the size of the shard to place). */
  minFreeBytes?: number;
  /** Hosts not to use: this tab, hosts already holding a shard of the file, hosts that failed in this run. */
  exclude?: ReadonlySet<string>;
  maxPricePerGiBMonth?: bigint;
  /**
   * Extra preference, higher is better, added to the latency score: the place where stake and reputation from the
   * chain will weigh in. One unit is worth {@link LATENCY_UNIT_MS} of round trip.
   */
  score?: (host: HostCandidate) => number;
  /** Randomness in [0, 1) to break ties, so that owners do not all pile onto the same hosts. */
  random?: () => number;
}

/** Round trip assumed for a host not measured yet. */
export const UNMEASURED_LATENCY_MS = 250;
/** Latency that one unit of `score` is worth. */
export const LATENCY_UNIT_MS = 50;
/** Random jitter added to every score, in units: near-equal hosts are picked in random order. */
export const TIE_JITTER = 0.5;

/**
 * Ranks the eligible hosts, best first: hosts that failed recently last; then by score, where lower latency and the
 * `score` hook count, and more free space breaks ties. Owners take hosts from the front and replacements from what
 * follows.
 */
export function rankHosts<H extends HostCandidate>(hosts: readonly H[], options: SelectHostsOptions = {}): H[] {
  const random = options.random ?? Math.random;
  const eligible = hosts.filter(
    (host) =>
      host.freeBytes >= (options.minFreeBytes ?? 1) &&
      !options.exclude?.has(host.peer) &&
      (options.maxPricePerGiBMonth === undefined || host.pricePerGiBMonth <= options.maxPricePerGiBMonth),
  );
  const scored = eligible.map((host) => ({
    host,
    failed: host.failure ? 1 : 0,
    score:
      -(host.latencyMs ?? UNMEASURED_LATENCY_MS) / LATENCY_UNIT_MS +
      (options.score?.(host) ?? 0) +
      random() * TIE_JITTER,
  }));
  scored.sort((a, b) => a.failed - b.failed || b.score - a.score || b.host.freeBytes - a.host.freeBytes);
  return scored.map((s) => s.host);
}
