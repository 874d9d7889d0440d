import type { AbortOptions } from "@libp2p/interface";
import type { Pins } from "helia";
import type { Blockstore } from "interface-blockstore";
import type { CID } from "multiformats/cid";
import type { PieceStore } from "../../p2p/protocols/common/pieces.ts";

/** A host's block store: what pushes write and what is served from, and `delete`, to undo a push that did not finish. */
export interface HostPieceStore extends PieceStore {
  delete(cid: CID, options?: AbortOptions): unknown;
  /**
   * True when other content in the store keeps the block (a public file pinned there holds the same bytes): the
   * host then never deletes it, even when it wrote it for a shard. Without it every host block may be deleted.
   */
  isPinned?(cid: CID, options?: AbortOptions): Promise<boolean>;
}

/**
 * The block store as the host role sees it: this peer's own blocks (never the network), and Helia's pins, so
 * a host never deletes a block that a public file published here holds, even one it first wrote for a shard.
 */
export function hostPieceStore(
  blockstore: Pick<Blockstore, "put" | "get" | "has" | "delete">,
  pins: Pick<Pins, "isPinned">,
): HostPieceStore {
  return {
    put: (cid, bytes, options) => blockstore.put(cid, bytes, options),
    get: (cid, options) => blockstore.get(cid, options),
    has: (cid, options) => blockstore.has(cid, options),
    delete: (cid, options) => blockstore.delete(cid, options),
    isPinned: (cid, options) => pins.isPinned(cid, options),
  };
}
