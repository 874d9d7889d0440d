/**
 * Downloads: one file's pieces from the hosts that hold its shards, read through the block-store interface the
 * data path reads ({@link NetworkStore}).
 */
export * from "./constants.ts";
export { NetworkStore, type NetworkStoreParts } from "./network-store.ts";
export type { FetchProgress, HostFetch } from "./progress.ts";
