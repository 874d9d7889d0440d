/**
 * Segments in flight at once. Two per worker keeps both cores fed (one segment encrypting while another is coded)
 * and bounds memory: each in-flight segment holds ~2.5x its 4 MiB (plaintext or ciphertext, plus parity), so six
 * of them are ~60 MiB whatever the file's size.
 */
export const PIPELINE_DEPTH_SEGMENTS = 6;
/** Pieces are committed to IndexedDB in transactions of about this size: one big transaction is ~5x faster than one per put. */
export const WRITE_BATCH_BYTES = 24 * 1024 * 1024;
/** Uncommitted bytes the writer may hold before the pipeline waits for IndexedDB. */
export const MAX_PENDING_WRITE_BYTES = 64 * 1024 * 1024;
