/**
 * @packageDocumentation
 *
 * Host announcements on the pubsub topic `tabula/hosts/1`: a host publishes, every {@link ANNOUNCE_INTERVAL_MS},
 * a dag-cbor envelope {p: payload, s: signature} whose payload is {v, peer, free, price, addrs, at}, signed with
 * its libp2p key. Readers verify it against the peer id it names (and the pubsub author), drop stale or
 * future-dated ones, and keep the newest per host in a {@link HostDirectory}.
 */
export * from "./codec.ts";
export * from "./constants.ts";
export * from "./directory.ts";
