import type { Pins } from "helia";
import type { Blockstore } from "interface-blockstore";
import type { HostPieceStore } from "../protocols/common/pieces.ts";

/**
 * The block store as the host protocols see it: this peer's own blocks (never the network), and Helia's pins, so
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
