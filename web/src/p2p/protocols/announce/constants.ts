/** Pubsub topic where hosts announce themselves (peer id, free space, price, addresses). */
export const HOSTS_TOPIC = "tabula/hosts/1";
/** Announcement format version. */
export const ANNOUNCEMENT_VERSION = 1;
/** How often a host re-announces. */
export const ANNOUNCE_INTERVAL_MS = 30_000;
/** An announcement older than this is forgotten: a host that missed four intervals is taken as gone. */
export const ANNOUNCEMENT_MAX_AGE_MS = 120_000;
/** Announcements dated further in the future than this are refused (clocks of tabs differ a little). */
export const MAX_CLOCK_SKEW_MS = 60_000;
/** Largest announcement accepted from the topic. */
export const MAX_ANNOUNCEMENT_BYTES = 4_096;
export const MAX_ADDRS = 16;
export const MAX_ADDR_BYTES = 256;
export const MAX_PEER_ID_BYTES = 128;
export const MAX_SIGNATURE_BYTES = 128;
/** Domain separation of announcement signatures from every other use of the host's key. */
export const ANNOUNCEMENT_DOMAIN = "tabula/hosts/1\n";
