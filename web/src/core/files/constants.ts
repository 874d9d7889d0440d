/**
 * Segments in flight per worker. Two keep a worker's core fed: while one segment waits for WebCrypto (AES-GCM runs
 * off the worker's thread) the other is coded and hashed. Each in-flight segment holds its 4 MiB plaintext buffer
 * and 6 MiB of pieces (4+2), so two workers' worth is ~40 MiB whatever the file's size.
 */
export const SEGMENTS_PER_WORKER = 2;
/** Workers assumed when the codec does not say how many it has (the in-process codec of the tests). */
export const DEFAULT_PIPELINE_WORKERS = 2;
export const PIPELINE_DEPTH_SEGMENTS = SEGMENTS_PER_WORKER * DEFAULT_PIPELINE_WORKERS;

/** Segments to keep in flight for a codec with `parallelism` workers. */
export function pipelineDepth(codec: { readonly parallelism?: number | undefined }): number {
  return SEGMENTS_PER_WORKER * Math.max(1, codec.parallelism ?? DEFAULT_PIPELINE_WORKERS);
}

/**
 * Pieces are committed to IndexedDB in transactions of about this size. With pieces written as bytes the size of a
 * transaction hardly matters (what costs is the record: Chromium writes each large value as a file), so one
 * segment's pieces make one transaction and their buffers are reused as soon as it commits.
 */
export const WRITE_BATCH_BYTES = 1;
/** Plaintext bytes whose pieces may wait uncommitted before the pipeline waits for IndexedDB (x1.5 in pieces for 4+2). */
export const MAX_PENDING_WRITE_BYTES = 16 * 1024 * 1024;
