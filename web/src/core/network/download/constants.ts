import { PIPELINE_DEPTH_SEGMENTS } from "../../files/constants.ts";

/** Segments a shard stream may run ahead of the decoder: bounds memory to about k x this x piece size. */
export const AHEAD_SEGMENTS = 8;
/** Pieces kept behind the decoder's furthest request, for its retries. */
export const KEEP_BEHIND_SEGMENTS = PIPELINE_DEPTH_SEGMENTS + 2;
/** A stream that delivers nothing for this long (while not held back) is dropped for another host. */
export const FETCH_STALL_MS = 10_000;
/**
 * How long to look for the manifest, and for k holders, while hosts are still being heard. A tab that opens a
 * share link has no direct link to any host yet, and each WebRTC link goes through relay signalling first.
 */
export const DISCOVERY_TIMEOUT_MS = 60_000;
/** Pause between discovery rounds when no new host was heard. */
export const DISCOVERY_RETRY_MS = 2_000;
/** A host whose fetch failed for a passing reason (timeout, closed connection) is asked again this many times. */
export const HOST_ATTEMPTS = 4;
