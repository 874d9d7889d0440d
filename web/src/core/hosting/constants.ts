/** Delay before answering a newcomer on the hosts topic (or a change of free space) with an announcement. */
export const REANNOUNCE_DELAY_MS = 500;
/** A host answers newcomers at most this often; the regular interval covers the rest. */
export const REANNOUNCE_MIN_GAP_MS = 3_000;
/** How long a host waits for an owner's manifest over bitswap after storing one of its shards. */
export const MANIFEST_PULL_TIMEOUT_MS = 60_000;
