import { describe, expect, it } from "vitest";
import { AES_GCM_TAG_BYTES, LEAF_SIZE_BYTES, MAX_PIECE_SIZE_BYTES } from "../constants.ts";
import { InvalidCodingParametersError } from "../file-errors.ts";
import { encodedSizeBytes, layoutFor, pieceSizeFor } from "./layout.ts";

describe("layout", () => {
  it("keeps pieces a power-of-two number of leaves, at most 1 MiB", () => {
    for (let k = 1; k <= 31; k++) {
      const piece = pieceSizeFor(k);
      const leaves = piece / LEAF_SIZE_BYTES;
      expect(Number.isInteger(leaves) && (leaves & (leaves - 1)) === 0).toBe(true);
      expect(piece).toBeLessThanOrEqual(MAX_PIECE_SIZE_BYTES);
    }
    expect(pieceSizeFor(4)).toBe(1024 * 1024);
    expect(pieceSizeFor(10)).toBe(256 * 1024);
  });

  it("fills k pieces exactly with a full segment's ciphertext", () => {
    const l = layoutFor(100 * 1024 * 1024, 4, 2);
    expect(l.segmentSizeBytes + AES_GCM_TAG_BYTES).toBe(4 * l.pieceSizeBytes);
    expect(l.segmentCount).toBe(Math.ceil((100 * 1024 * 1024) / l.segmentSizeBytes));
    expect((l.segmentCount - 1) * l.segmentSizeBytes + l.lastSegmentPlainBytes).toBe(100 * 1024 * 1024);
    expect(l.lastPieceSizeBytes % LEAF_SIZE_BYTES).toBe(0);
    expect(l.lastPieceSizeBytes * 4).toBeGreaterThanOrEqual(l.lastSegmentPlainBytes + AES_GCM_TAG_BYTES);
    expect(encodedSizeBytes(l)).toBe(6 * l.shardSizeBytes);
  });

  it("gives an empty file one segment", () => {
    const l = layoutFor(0, 4, 2);
    expect(l.segmentCount).toBe(1);
    expect(l.lastSegmentPlainBytes).toBe(0);
    expect(l.lastPieceSizeBytes).toBe(LEAF_SIZE_BYTES);
  });

  it("refuses impossible coding parameters", () => {
    expect(() => layoutFor(1, 0, 2)).toThrow(InvalidCodingParametersError);
    expect(() => layoutFor(1, 4, 0)).toThrow(InvalidCodingParametersError);
    expect(() => layoutFor(1, 20, 13)).toThrow(InvalidCodingParametersError);
    expect(() => layoutFor(1, 28, 4)).not.toThrow();
  });
});
