import { LEAF_SIZE_BYTES } from "../../../lib/constants.ts";

/** Audit: an owner challenges a host for one leaf of a shard it holds; the host answers the leaf and its proof. */
export const AUDIT_PROTOCOL = "/tabula/audit/1.0.0";

/** Bytes per leaf of the shard Merkle tree (the data path's and the storage contract's). */
export { LEAF_SIZE_BYTES };
/** Longest leaf accepted in an answer. */
export const MAX_LEAF_BYTES = LEAF_SIZE_BYTES;
/** Most siblings in a proof: 2^64 leaves would be far more than any shard. */
export const MAX_PROOF_NODES = 64;
/** Largest message: a leaf plus a full proof plus the envelope. */
export const MAX_MESSAGE_BYTES = MAX_LEAF_BYTES + MAX_PROOF_NODES * 34 + 512;
/** Most challenges on one stream (an owner batches its challenges to one host). */
export const MAX_CHALLENGES_PER_STREAM = 64;
/** How long the owner waits for one answer: a host without cached piece roots hashes the whole shard first. */
export const ANSWER_TIMEOUT_MS = 60_000;
/** Piece roots a host keeps between audits (32 bytes each, plus the key). */
export const PIECE_ROOT_CACHE_ENTRIES = 65_536;
export const MAX_INBOUND_STREAMS = 4;
export const MAX_OUTBOUND_STREAMS = 16;
