import { describe, expect, it } from "vitest";
import { toHex } from "../bytes.ts";
import { pseudoRandomBytes } from "../testing/node-wasm.ts";
import { decryptSegment, encryptSegment, importFileKey, nonceFor, segmentNonce } from "./aes-gcm.ts";
import { generateFileKey, keyCommitment } from "./file-key.ts";

const fileId = pseudoRandomBytes(16, 1);

describe("segment encryption", () => {
  it("round-trips and adds a 16-byte tag", async () => {
    const key = await importFileKey(generateFileKey());
    const plain = pseudoRandomBytes(100_000, 2);
    const ct = await encryptSegment(key, fileId, 7, plain as Uint8Array<ArrayBuffer>);
    expect(ct.byteLength).toBe(plain.length + 16);
    expect(new Uint8Array(await decryptSegment(key, fileId, 7, ct))).toEqual(plain);
  });

  it("rejects tampered ciphertext, a moved segment, another file id and another key", async () => {
    const raw = generateFileKey();
    const key = await importFileKey(raw);
    const ct = new Uint8Array(
      await encryptSegment(key, fileId, 3, pseudoRandomBytes(4096, 3) as Uint8Array<ArrayBuffer>),
    );
    const flipped = ct.slice();
    flipped[1000] = (flipped[1000] as number) ^ 0x80;
    await expect(decryptSegment(key, fileId, 3, flipped)).rejects.toThrow();
    await expect(decryptSegment(key, fileId, 4, ct)).rejects.toThrow();
    await expect(decryptSegment(key, pseudoRandomBytes(16, 9), 3, ct)).rejects.toThrow();
    await expect(decryptSegment(await importFileKey(generateFileKey()), fileId, 3, ct)).rejects.toThrow();
  });

  it("never repeats a nonce within a file", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 100_000; i++) seen.add(toHex(segmentNonce(i)));
    seen.add(toHex(nonceFor(1, 0)));
    expect(seen.size).toBe(100_001);
    expect(segmentNonce(2 ** 40).length).toBe(12);
  });

  it("gives every file a fresh key and a commitment that depends on key and file", async () => {
    const a = generateFileKey();
    const b = generateFileKey();
    expect(toHex(a)).not.toBe(toHex(b));
    expect(toHex(await keyCommitment(a, fileId))).toBe(toHex(await keyCommitment(a, fileId)));
    expect(toHex(await keyCommitment(a, fileId))).not.toBe(toHex(await keyCommitment(b, fileId)));
    expect(toHex(await keyCommitment(a, fileId))).not.toBe(toHex(await keyCommitment(a, pseudoRandomBytes(16, 5))));
  });
});
