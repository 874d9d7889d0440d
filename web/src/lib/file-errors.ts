import { BaseError } from "./errors.ts";

/** Errors of the data path that users can meet; each says what to do. */

export class WrongKeyError extends BaseError {
  override name = "WrongKeyError";
  constructor() {
    super("This key does not open this file.", {
      details: "Check that the share link was copied whole, or unlock the wallet that stored the file.",
    });
  }
}

export class ManifestAlteredError extends BaseError {
  override name = "ManifestAlteredError";
  constructor(reason: string, options: { cause?: unknown } = {}) {
    super("The file's manifest has been altered.", {
      details: "Do not trust this copy: ask the owner for a fresh share link.",
      metaMessages: [reason],
      cause: options.cause,
    });
  }
}

export class UnsupportedFormatVersionError extends BaseError {
  override name = "UnsupportedFormatVersionError";
  readonly version: unknown;
  constructor(version: unknown, supported: number) {
    super(`This file uses manifest format ${String(version)}, this version of Tabula reads format ${supported}.`, {
      details: "Open it with an up-to-date Tabula.",
    });
    this.version = version;
  }
}

export class TooFewShardsError extends BaseError {
  override name = "TooFewShardsError";
  readonly needed: number;
  readonly available: number;
  constructor(needed: number, available: number, segment: number) {
    super(`Only ${available} of the ${needed} shards needed are left intact (segment ${segment}).`, {
      details: `Fetch at least ${needed - available} more shard${needed - available === 1 ? "" : "s"} from peers, then try again.`,
    });
    this.needed = needed;
    this.available = available;
  }
}

export class QuotaExceededError extends BaseError {
  override name = "QuotaExceededError";
  readonly neededBytes: number;
  readonly availableBytes: number;
  constructor(neededBytes: number, availableBytes: number, options: { cause?: unknown } = {}) {
    super(
      `Not enough browser storage: this needs ${formatMiB(neededBytes)}, ${formatMiB(availableBytes)} is available.`,
      { details: "Delete files you no longer need or free disk space, then try again.", cause: options.cause },
    );
    this.neededBytes = neededBytes;
    this.availableBytes = availableBytes;
  }
}

export class CorruptSegmentError extends BaseError {
  override name = "CorruptSegmentError";
  constructor(segment: number, options: { cause?: unknown } = {}) {
    super(`Segment ${segment} of the file failed its integrity check.`, {
      details: "The stored shards were altered; repair them from other peers, then try again.",
      cause: options.cause,
    });
  }
}

export class InvalidCodingParametersError extends BaseError {
  override name = "InvalidCodingParametersError";
  constructor(k: number, m: number, max: number) {
    super(`Cannot split into ${k} data and ${m} parity shards.`, {
      details: `Choose at least 1 data and 1 parity shard, ${max} shards in all at most.`,
    });
  }
}

export class FileNotFoundError extends BaseError {
  override name = "FileNotFoundError";
  constructor(cid: string) {
    super(`No file ${cid} in this browser.`, {
      details: "Open it from a share link while the shards are reachable, or check the link.",
    });
  }
}

export class InvalidShareLinkError extends BaseError {
  override name = "InvalidShareLinkError";
  constructor(reason: string) {
    super("This share link is not complete.", {
      details: "Copy the whole link, including everything after #, and open it again.",
      metaMessages: [reason],
    });
  }
}

export class VaultLockedError extends BaseError {
  override name = "VaultLockedError";
  constructor() {
    super("Your file keys are locked.", {
      details: "Connect your wallet and sign the unlock message to store or open your files.",
    });
  }
}

function formatMiB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}
