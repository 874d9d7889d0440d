/**
 * Segments in flight at once. Two per worker (of two) keeps both cores fed, one segment encrypting while another
 * is coded, and bounds memory: each in-flight segment holds ~2.5x its 4 MiB (plaintext or ciphertext, plus
 * parity), so four are ~40 MiB whatever the file's size.
 */
export const PIPELINE_DEPTH_SEGMENTS = 4;
/** Pieces are committed to IndexedDB in transactions of about this size: one big transaction is ~5x faster than one per put. */
export const WRITE_BATCH_BYTES = 16 * 1024 * 1024;
/** Plaintext bytes whose pieces may wait uncommitted before the pipeline waits for IndexedDB (x1.5 in pieces for 4+2). */
export const MAX_PENDING_WRITE_BYTES = 32 * 1024 * 1024;
