import { unixfs } from "@helia/unixfs";
import type { Blockstore } from "interface-blockstore";
import { CID } from "multiformats/cid";
import { BaseError } from "../../lib/errors.ts";

export class InvalidCidError extends BaseError {
  override name = "InvalidCidError";
  constructor(input: string, cause: unknown) {
    super(`"${input.slice(0, 80)}" is not a CID`, {
      details: "Paste the whole content identifier, e.g. bafybei… or Qm…",
      cause,
    });
  }
}

export class PublicFileNotFoundError extends BaseError {
  override name = "PublicFileNotFoundError";
  constructor(cid: string, cause: unknown) {
    super(`No connected peer provided ${cid}`, {
      details: "Keep the tab that added it open and connected, then try again.",
      cause,
    });
  }
}

/** Parses user input as a CID, or throws {@link InvalidCidError}. */
export function parseCid(input: string): CID {
  try {
    return CID.parse(input.trim());
  } catch (cause) {
    throw new InvalidCidError(input, cause);
  }
}

export interface PublicFile {
  cid: CID;
  /** Size in bytes of the file's content. */
  size: bigint;
  /** The content, fetched block by block over bitswap and checked against each block's CID. */
  content: AsyncIterable<Uint8Array>;
}

/** Looks up a UnixFS file by CID among connected peers (bitswap) and streams its verified content. */
export async function fetchPublicFile(
  helia: { blockstore: Pick<Blockstore, "get" | "has" | "put"> },
  cid: CID,
  options: { signal?: AbortSignal } = {},
): Promise<PublicFile> {
  const fs = unixfs(helia as Parameters<typeof unixfs>[0]);
  try {
    const stat = await fs.stat(cid, options.signal ? { signal: options.signal } : {});
    return { cid, size: stat.size, content: fs.cat(cid, options.signal ? { signal: options.signal } : {}) };
  } catch (cause) {
    if (options.signal?.aborted) throw cause;
    throw new PublicFileNotFoundError(cid.toString(), cause);
  }
}
