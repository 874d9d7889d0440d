/**
 * Where to reach a peer over a direct WebRTC link: the `/p2p-circuit/webrtc` addresses signalling goes through.
 * A tab that knows a peer only by its id (a host named by the chain, which never announced itself here) reaches it
 * through a relay: a tab keeps a reservation on the relays, so `<relay>/p2p-circuit/webrtc/p2p/<peer>` finds it there.
 */
export interface DirectTargetsInit {
  /** The peer's known addresses (announced, or in the peer store): only relayed ones are used. */
  known: Iterable<string>;
  /** The configured relays (`…/ws[/p2p/<relay id>]`). */
  relays: readonly string[];
  /** The relay this tab holds its reservation on and that relay's peer id, once connected. */
  reservedOn?: { relay: string; relayPeer: string };
}

/** The `/p2p-circuit/webrtc/p2p/<peer>` addresses to dial `peer` at, each once. */
export function directTargets(peer: string, init: DirectTargetsInit): string[] {
  const targets = new Set<string>();
  for (const addr of init.known) {
    if (!addr.includes("/p2p-circuit")) continue;
    const base = addr.replace(new RegExp(`/p2p/${peer}$`), "").replace(/\/webrtc$/, "");
    targets.add(`${base}/webrtc/p2p/${peer}`);
  }
  for (const relay of init.relays) {
    // A relay configured without its peer id is dialed through once connected: it told its id then.
    const id = relay.includes("/p2p/")
      ? relay
      : init.reservedOn?.relay === relay
        ? `${relay}/p2p/${init.reservedOn.relayPeer}`
        : undefined;
    if (id) targets.add(`${id}/p2p-circuit/webrtc/p2p/${peer}`);
  }
  return [...targets];
}
