import { BaseError } from "../../lib/errors.ts";

/** Too few hosts are announced to place the shards on distinct ones. */
export class NotEnoughHostsError extends BaseError {
  override name = "NotEnoughHostsError";
  readonly needed: number;
  readonly found: number;
  constructor(needed: number, found: number) {
    super(`The file needs ${needed} hosts with room for a shard, and ${found} are sharing storage now.`, {
      details:
        "Wait for more tabs to switch on Share storage (or open one yourself on another device), then try again.",
    });
    this.needed = needed;
    this.found = found;
  }
}

/** Some shards could not be placed on any host. */
export class UploadIncompleteError extends BaseError {
  override name = "UploadIncompleteError";
  readonly placed: number;
  readonly total: number;
  constructor(placed: number, total: number, options: { cause?: unknown } = {}) {
    super(`Only ${placed} of ${total} shards were placed on hosts.`, {
      details: "The rest are still in this browser. Try the upload again when more hosts are sharing storage.",
      cause: options.cause,
    });
    this.placed = placed;
    this.total = total;
  }
}

/** No host (nor any peer over bitswap) gave the file's manifest. */
export class ManifestUnavailableError extends BaseError {
  override name = "ManifestUnavailableError";
  constructor(cid: string) {
    super(`No host on the network has the file ${cid} right now.`, {
      details: "The hosts holding it may be offline: try again later, or ask the owner to check and repair the file.",
    });
  }
}

/** A host stopped acknowledging for too long. */
export class HostStalledError extends BaseError {
  override name = "HostStalledError";
  constructor(host: string, ms: number) {
    super(`Host ${host.slice(-8)} made no progress for ${Math.round(ms / 1000)} s.`, {
      details: "Its shard goes to another host.",
    });
  }
}

/** A host charges for the pieces it serves, and this tab cannot pay (no chain with payments, or no wallet). */
export class RetrievalUnpaidError extends BaseError {
  override name = "RetrievalUnpaidError";
  constructor(host: string) {
    super(`Host ${host.slice(-8)} charges for the pieces it serves, and this tab cannot pay it.`, {
      details: "Connect a wallet on the app's chain to pay hosts for downloads; other hosts are asked meanwhile.",
    });
  }
}
