import type { HostRole } from "../../p2p/node.ts";
import type { PieceRootFn } from "../../p2p/protocols/audit/index.ts";
import { readPiece } from "../../p2p/protocols/common/pieces.ts";
import type { ShardFetchHost } from "../../p2p/protocols/shard-fetch/index.ts";
import type { ShardStoreHost } from "../../p2p/protocols/shard-store/index.ts";
import type { ShardCatalog } from "./catalog.ts";
import type { HostPieceStore } from "./host-store.ts";
import type { ShardKeeper } from "./keeper.ts";

/** The parts a host role is made of: where pieces and records live, and the host's policies. */
export interface HostRoleParts {
  store: HostPieceStore;
  catalog: ShardCatalog;
  /** Pushes and removals go through it, so that a push is all or nothing over the shared store. */
  keeper: ShardKeeper;
  /** Quota and the "Share storage" switch (default: take every offer). */
  admit?: ShardStoreHost["admit"];
  onStored?: ShardStoreHost["onStored"];
  /** σ for a stored shard whose offer named a deal (paid hosting). */
  attest?: ShardStoreHost["attest"];
  /** Which blocks shard-fetch serves (default: any block of the store). */
  canServe?: ShardFetchHost["canServe"];
  onServed?: ShardFetchHost["onServed"];
  /** What fetches are paid with, and which blocks a paid host gives free (default: served free). */
  payment?: ShardFetchHost["payment"];
  free?: ShardFetchHost["free"];
  /** Merkle subtree root of a piece; checked before a receipt is signed, and used for audits. */
  pieceRoot?: PieceRootFn;
}

/** The host role the shard protocols serve through, over a store, a catalog and a keeper. */
export function hostRole(parts: HostRoleParts): HostRole {
  const { store, catalog, keeper, admit, onStored, attest, canServe, onServed, payment, free, pieceRoot } = parts;
  const read: HostRole["shardFetch"]["readPiece"] = (cid, options) => readPiece(store, cid, options);
  return {
    shardStore: {
      begin: (offer, options) => keeper.begin(offer, options),
      readPiece: read,
      recover: () => keeper.recover(),
      ...(admit ? { admit } : {}),
      ...(onStored ? { onStored } : {}),
      ...(attest ? { attest } : {}),
      ...(pieceRoot ? { pieceRoot } : {}),
    },
    shardFetch: {
      readPiece: read,
      hasPiece: async (cid) => await store.has(cid),
      ...(canServe ? { canServe } : {}),
      ...(onServed ? { onServed } : {}),
      ...(payment ? { payment } : {}),
      ...(free ? { free } : {}),
    },
    audit: {
      held: (manifest, shardIndex) => catalog.get(manifest, shardIndex),
      readPiece: read,
      ...(pieceRoot ? { pieceRoot } : {}),
    },
  };
}
