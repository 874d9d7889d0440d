import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { loadReedSolomon, pseudoRandomBytes, subsetsUpTo } from "../testing/node-wasm.ts";
import type { ReedSolomon } from "./reed-solomon.ts";

let rs: ReedSolomon;
beforeAll(async () => {
  rs = await loadReedSolomon();
});

function split(data: Uint8Array, parity: Uint8Array, k: number, m: number, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < k; i++) out.push(data.slice(i * size, (i + 1) * size));
  for (let j = 0; j < m; j++) out.push(parity.slice(j * size, (j + 1) * size));
  return out;
}

describe("ReedSolomon", () => {
  for (const [k, m] of [
    [2, 1],
    [4, 2],
    [3, 3],
    [5, 3],
  ] as const) {
    it(`rebuilds the data from every pattern of at most ${m} erasures (${k}+${m})`, () => {
      const size = 512;
      const data = pseudoRandomBytes(k * size, k * 31 + m);
      const pieces = split(data, rs.encode(data, k, m, size), k, m, size);
      const patterns = subsetsUpTo(k + m, m);
      expect(patterns.length).toBeGreaterThan(k + m);
      for (const lost of patterns) {
        const given = pieces.map((p, i) => (lost.includes(i) ? undefined : p));
        expect(rs.reconstruct(given, k, m, size), `lost ${lost}`).toEqual(data);
      }
    });

    it(`gives up with more than ${m} erasures (${k}+${m})`, () => {
      const size = 256;
      const data = pseudoRandomBytes(k * size, 7);
      const pieces = split(data, rs.encode(data, k, m, size), k, m, size);
      const given = pieces.map((p, i) => (i <= m ? undefined : p));
      expect(rs.reconstruct(given, k, m, size)).toBeUndefined();
    });
  }

  it("zero-pads a short input", () => {
    const data = pseudoRandomBytes(1000, 3);
    const padded = new Uint8Array(4 * 256);
    padded.set(data);
    expect(rs.encode(data, 4, 2, 256)).toEqual(rs.encode(padded, 4, 2, 256));
  });

  it("codes in place: pads with the given filler and returns all k + m pieces as encode does", () => {
    const data = pseudoRandomBytes(1000, 4);
    const padded = new Uint8Array(4 * 256);
    padded.set(data);
    padded.fill(0xab, 1000);
    const all = rs.encodeInPlace(data, 4, 2, 256, (tail) => tail.fill(0xab)).slice();
    expect(all.subarray(0, 4 * 256)).toEqual(padded);
    expect(all.subarray(4 * 256)).toEqual(rs.encode(padded, 4, 2, 256));
    expect(() => rs.encodeInPlace(new Uint8Array(4 * 256 + 1), 4, 2, 256)).toThrow(RangeError);
  });

  it("reconstructs in place: data pieces laid side by side when intact, rebuilt otherwise", () => {
    const data = pseudoRandomBytes(4 * 256, 6);
    const pieces = split(data, rs.encode(data, 4, 2, 256), 4, 2, 256);
    expect(rs.reconstructInPlace(pieces, 4, 2, 256)?.slice()).toEqual(data);
    const lost = pieces.map((p, i) => (i === 1 || i === 3 ? undefined : p));
    expect(rs.reconstructInPlace(lost, 4, 2, 256)?.slice()).toEqual(data);
    expect(rs.reconstructInPlace([...lost.slice(0, 5), undefined], 4, 2, 256)).toBeUndefined();
  });

  it("produces parity that differs when one data byte changes", () => {
    const data = pseudoRandomBytes(4 * 256, 5);
    const before = rs.encode(data, 4, 2, 256);
    data[100] = (data[100] as number) ^ 1;
    expect(rs.encode(data, 4, 2, 256)).not.toEqual(before);
  });

  it("decodes any random erasure pattern of at most m pieces (property)", () => {
    fc.assert(
      fc.property(
        fc
          .record({
            k: fc.integer({ min: 1, max: 12 }),
            m: fc.integer({ min: 1, max: 8 }),
            seed: fc.integer({ min: 1 }),
          })
          .chain(({ k, m, seed }) =>
            fc.record({
              k: fc.constant(k),
              m: fc.constant(m),
              seed: fc.constant(seed),
              size: fc.integer({ min: 1, max: 64 }).map((x) => x * 8),
              lost: fc.uniqueArray(fc.integer({ min: 0, max: k + m - 1 }), { maxLength: m }),
            }),
          ),
        ({ k, m, seed, size, lost }) => {
          const data = pseudoRandomBytes(k * size, seed);
          const pieces = split(data, rs.encode(data, k, m, size), k, m, size);
          const given = pieces.map((p, i) => (lost.includes(i) ? undefined : p));
          expect(rs.reconstruct(given, k, m, size)).toEqual(data);
        },
      ),
      { numRuns: 300 },
    );
  });
});
