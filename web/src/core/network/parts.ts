import type { DialTarget } from "@libp2p/interface";
import type { Audit } from "../../p2p/protocols/audit/index.ts";
import type { PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import type { ShardFetch } from "../../p2p/protocols/shard-fetch/index.ts";
import type { ShardStore } from "../../p2p/protocols/shard-store/index.ts";
import type { PayerGate } from "../../p2p/protocols/transfer/index.ts";
import type { HostCandidate } from "./select-hosts.ts";

/** The hosts this tab knows (known-hosts.ts KnownHosts). */
export interface HostBook {
  list(): (HostCandidate & { addrs: string[] })[];
  reportFailure(peer: string, reason: string): void;
  reportSuccess(peer: string): void;
  /** Measures latency of these hosts (dialing them directly). */
  measure?(peers: readonly string[], signal?: AbortSignal): Promise<void>;
}

/** The parts of the tab's peer the network use cases need. */
export interface NetworkParts {
  /** This tab's peer id (never picked as a host). */
  self: string;
  /**
   * Opens (or reuses) a direct WebRTC link to `peer` and returns what the protocols should dial: the shard
   * protocols are refused on relayed connections. `fresh` drops what is open to the peer first (for a retry).
   */
  dial(peer: string, signal?: AbortSignal, options?: { fresh?: boolean }): Promise<DialTarget>;
  shardStore: Pick<ShardStore, "storeShard">;
  shardFetch: Pick<ShardFetch, "fetchPieces" | "holds">;
  audit: Pick<Audit, "audit">;
  hosts: HostBook;
  /**
   * Locks what pays hosts that charge for their pieces (`terms`, from each one's announcement) for `totalBytes`
   * each: one payment per fetch, in order, made together where the scheme allows (one signature for a download's
   * hosts). Without it such hosts are not fetched from.
   */
  payRetrieval?: (requests: readonly RetrievalRequest[]) => Promise<RetrievalPayment[]>;
}

/** What one fetch from a host that charges locks: the host's terms, and the bytes it will serve at most. */
export interface RetrievalRequest {
  terms: PaymentTerms;
  totalBytes: bigint;
}

/** A payment locked for one fetch from a host: the gate its pieces are paid through, and its end. */
export interface RetrievalPayment {
  gate(): PayerGate;
  /** The fetch is over (done, failed or stopped): what was locked may be settled. */
  end?(): void;
  /** The transaction that locked it, and the scheme, for the download's view. */
  readonly view: { scheme: string; openTx: string };
}

/** The terms `host` asks for the pieces it serves, from its announcement; `undefined` when it serves them free. */
export function retrievalTerms(hosts: Pick<HostBook, "list">, host: string): PaymentTerms | undefined {
  return hosts.list().find((h) => h.peer === host)?.retrieval;
}

/** A signal that aborts with `parent` or on its own. */
export function childController(parent?: AbortSignal): AbortController {
  const controller = new AbortController();
  if (parent) {
    if (parent.aborted) controller.abort(parent.reason);
    else parent.addEventListener("abort", () => controller.abort(parent.reason), { once: true });
  }
  return controller;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return (error as { shortMessage?: string }).shortMessage ?? error.message;
  return String(error);
}
