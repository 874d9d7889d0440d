/** Shard store: a client pushes the pieces of one shard to a host, which verifies and keeps them and signs a receipt. */
export const SHARD_STORE_PROTOCOL = "/tabula/shard-store/1.0.0";

import { MAX_PIECE_SIZE_BYTES } from "../../../lib/constants.ts";

/** Largest piece: the data path never cuts a piece over 1 MiB (IPFS peers refuse blocks over 2 MiB). */
export const MAX_PIECE_BYTES = MAX_PIECE_SIZE_BYTES;
/** Largest message: one piece plus its envelope. */
export const MAX_MESSAGE_BYTES = MAX_PIECE_BYTES + 1024;
/** Most pieces in one shard (16 GiB of 1 MiB pieces); keeps an offer under 1 MiB. */
export const MAX_PIECES_PER_SHARD = 16_384;
/** Deal ids are bytes32 on chain. */
export const DEAL_ID_BYTES = 32;
/** Merkle roots are keccak256 digests. */
export const ROOT_BYTES = 32;
/** Shard indexes go up to k + m - 1, with k + m <= 32 in the data path; one byte leaves room. */
export const MAX_SHARD_INDEX = 255;

/** How long either side waits for the other's next message (or for its send buffer to drain). */
export const MESSAGE_TIMEOUT_MS = 30_000;
/** Bytes the client may send ahead of the host's acknowledgements: bounds the host's buffering on any transport. */
export const WINDOW_BYTES = 8 * 1024 * 1024;
/** Pieces the client may send ahead of the host's acknowledgements. */
export const WINDOW_PIECES = 32;
/**
 * Pieces a host checks, writes and hashes at once while the next ones arrive (its acknowledgements stay in order):
 * hashing and IndexedDB writes then overlap the network instead of taking turns with it.
 */
export const HOST_PIPELINE_PIECES = 4;
/** Concurrent inbound shard pushes per connection. */
export const MAX_INBOUND_STREAMS = 4;
/** Concurrent outbound shard pushes per connection. */
export const MAX_OUTBOUND_STREAMS = 8;

/** Domain separation of receipt signatures from every other use of the host's key. */
export const RECEIPT_DOMAIN = "tabula/shard-store/receipt/1\n";
/** Receipt format version. */
export const RECEIPT_VERSION = 1;
/** Longest peer id string in a receipt. */
export const PEER_ID_MAX_BYTES = 128;
