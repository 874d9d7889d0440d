import { describe, expect, it } from "vitest";
import { rankSpeakers } from "./speakers.ts";

describe("peers that speak a protocol", () => {
  it("offers direct links first, then relayed ones, then peers whose link dropped, up to the limit", () => {
    const speakers = [
      { peer: "gone", connected: false, direct: false },
      { peer: "relayed", connected: true, direct: false },
      { peer: "direct", connected: true, direct: true },
      { peer: "gone-too", connected: false, direct: false },
    ];
    expect(rankSpeakers(speakers)).toEqual(["direct", "relayed", "gone", "gone-too"]);
    expect(rankSpeakers(speakers, 2)).toEqual(["direct", "relayed"]);
  });
});
