/** Most peers offered for one protocol: each one a dead tab costs a dial that times out. */
export const MAX_SPEAKERS = 8;

/** A peer the peer store says speaks a protocol, and how this tab is linked to it now. */
export interface Speaker {
  peer: string;
  connected: boolean;
  direct: boolean;
}

/**
 * The peers to try for a protocol, best first: directly connected, then connected through a relay, then peers
 * not connected now (a link that dropped a moment ago is dialed again). At most {@link MAX_SPEAKERS}.
 */
export function rankSpeakers(speakers: readonly Speaker[], limit = MAX_SPEAKERS): string[] {
  const rank = (speaker: Speaker) => (speaker.direct ? 0 : speaker.connected ? 1 : 2);
  return [...speakers]
    .sort((a, b) => rank(a) - rank(b))
    .slice(0, limit)
    .map((speaker) => speaker.peer);
}
