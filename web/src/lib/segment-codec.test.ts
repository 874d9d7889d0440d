import { beforeAll, describe, expect, it } from "vitest";
import { sha256 } from "./cid.ts";
import { LEAF_SIZE_BYTES } from "./constants.ts";
import { importFileKey } from "./crypto/aes-gcm.ts";
import { generateFileKey } from "./crypto/file-key.ts";
import { type CodecContext, decodePieces, encodePieces, encryptPieces, storeSegment } from "./segment-codec.ts";
import { loadCodecContext, pseudoRandomBytes } from "./testing/node-wasm.ts";

let ctx: CodecContext;
let key: CryptoKey;
const fileId = pseudoRandomBytes(16, 1);
beforeAll(async () => {
  ctx = await loadCodecContext();
  key = await importFileKey(generateFileKey());
});

const k = 4;
const m = 2;
const pieceSize = 64 * LEAF_SIZE_BYTES;

describe("storeSegment", () => {
  it("gives the pieces, digests and Merkle roots of encrypting then coding, in buffers of their own", async () => {
    const plain = pseudoRandomBytes(k * pieceSize - 16, 2);
    // A recycled buffer, longer than the segment: only `plainLength` bytes of it are the plaintext.
    const buffer = new ArrayBuffer(k * pieceSize + 100);
    new Uint8Array(buffer).set(plain);
    const spare = [new ArrayBuffer(pieceSize), new ArrayBuffer(pieceSize), new ArrayBuffer(10)];
    const kept = spare.slice();
    const req = { key, fileId, index: 5, k, m, pieceSize, firstLeaf: 5 * 64 };
    const stored = await storeSegment(ctx, { ...req, plaintext: buffer, plainLength: plain.length, spare });
    const ciphertext = await encryptPieces({ ...req, plaintext: plain.slice().buffer });
    const coded = await encodePieces(ctx, { ...req, ciphertext });

    expect(stored.plaintext).toBe(buffer);
    expect(stored.pieces).toHaveLength(k + m);
    for (const [i, piece] of stored.pieces.entries()) {
      expect(piece.byteLength).toBe(pieceSize);
      const expected =
        i < k
          ? new Uint8Array(coded.data, i * pieceSize, pieceSize)
          : new Uint8Array(coded.parity, (i - k) * pieceSize, pieceSize);
      expect(new Uint8Array(piece)).toEqual(expected);
      expect(stored.digests.subarray(i * 32, i * 32 + 32)).toEqual(await sha256(expected));
    }
    expect(stored.digests).toEqual(coded.digests);
    expect(stored.roots).toEqual(coded.roots);
    // The two spare buffers of the right size were filled; the odd one came back unused.
    expect(stored.pieces.filter((p) => kept.includes(p))).toHaveLength(2);
    expect(stored.spare).toEqual([kept[2]]);
  });

  it("pads a short last segment with random bytes, and the pieces decode back to it", async () => {
    const plain = pseudoRandomBytes(1000, 3);
    const shortPiece = LEAF_SIZE_BYTES;
    const req = { key, fileId, index: 9, k, m, pieceSize: shortPiece, firstLeaf: 9 * 64 };
    const a = await storeSegment(ctx, { ...req, plaintext: plain.slice().buffer, plainLength: plain.length });
    const b = await storeSegment(ctx, { ...req, plaintext: plain.slice().buffer, plainLength: plain.length });
    // Same key, nonce and plaintext: the ciphertext piece matches, the random padding does not.
    expect(new Uint8Array(a.pieces[0] as ArrayBuffer)).toEqual(new Uint8Array(b.pieces[0] as ArrayBuffer));
    expect(new Uint8Array(a.pieces[3] as ArrayBuffer)).not.toEqual(new Uint8Array(b.pieces[3] as ArrayBuffer));
    const digests = Array.from({ length: k + m }, (_, i) => a.digests.slice(i * 32, i * 32 + 32));
    const pieces = a.pieces.map((p, i) => (i === 0 || i === 2 ? null : p));
    const decoded = await decodePieces(ctx, { ...req, plainLength: plain.length, pieces, digests });
    expect(decoded.status).toBe("ok");
    expect(decoded.status === "ok" && new Uint8Array(decoded.plaintext)).toEqual(plain);
  });
});
