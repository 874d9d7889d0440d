import { describe, expect, it } from "vitest";
import { fillRandom, randomBytes } from "./bytes.ts";

describe("randomBytes", () => {
  it("fills buffers larger than one getRandomValues call (64 KiB) to the end", () => {
    const bytes = randomBytes(200_000);
    expect(bytes.length).toBe(200_000);
    // Each 64 KiB stretch, the short last one included, holds random bytes, not the zeros it was allocated with.
    for (const start of [0, 65_536, 131_072, 196_608]) {
      const stretch = bytes.subarray(start, start + 1024);
      expect(new Set(stretch).size).toBeGreaterThan(100);
    }
  });

  it("gives different bytes each call", () => {
    expect(randomBytes(32)).not.toEqual(randomBytes(32));
  });

  it("fills a view in place and returns it", () => {
    const buffer = new Uint8Array(70_000);
    const view = buffer.subarray(1000, 69_000);
    expect(fillRandom(view)).toBe(view);
    expect(buffer.subarray(0, 1000).every((b) => b === 0)).toBe(true);
    expect(buffer.subarray(69_000).every((b) => b === 0)).toBe(true);
    expect(new Set(buffer.subarray(68_000, 69_000)).size).toBeGreaterThan(100);
  });
});
