import { MAX_PIECE_BYTES } from "../shard-store/constants.ts";

/** Shard fetch: a requester names pieces by CID and the host streams them back in order. */
export const SHARD_FETCH_PROTOCOL = "/tabula/shard-fetch/1.0.0";

export { MAX_PIECE_BYTES };
/** Largest message: one piece plus its envelope (a want of {@link MAX_WANT_CIDS} CIDs is far smaller). */
export const MAX_MESSAGE_BYTES = MAX_PIECE_BYTES + 1024;
/** Most CIDs in one want message. */
export const MAX_WANT_CIDS = 64;
/** Pieces requested but not yet received: bounds what the requester buffers (8 × 1 MiB at most). */
export const WINDOW_PIECES = 8;
/** How long either side waits for the other's next message. */
export const MESSAGE_TIMEOUT_MS = 30_000;
/** Concurrent inbound fetch streams per connection. */
export const MAX_INBOUND_STREAMS = 8;
/** Concurrent outbound fetch streams per connection. */
export const MAX_OUTBOUND_STREAMS = 16;
/** How long a host that served its last piece waits for the payments that follow it. */
export const FINAL_PAYMENTS_MS = 5_000;
