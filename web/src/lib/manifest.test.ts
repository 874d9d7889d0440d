import * as dagCbor from "@ipld/dag-cbor";
import { describe, expect, it } from "vitest";
import { rawCid } from "./cid.ts";
import { generateFileKey } from "./crypto/file-key.ts";
import { layoutFor } from "./erasure/layout.ts";
import { ManifestAlteredError, UnsupportedFormatVersionError, WrongKeyError } from "./file-errors.ts";
import { cidOfManifest, createManifest, decodeManifest, openManifest, type ShardEntry } from "./manifest.ts";
import { pseudoRandomBytes } from "./testing/node-wasm.ts";

async function sample() {
  const layout = layoutFor(10_000_000, 4, 2);
  const shards: ShardEntry[] = [];
  for (let i = 0; i < 6; i++) {
    const pieces = [];
    for (let s = 0; s < layout.segmentCount; s++) pieces.push(await rawCid(pseudoRandomBytes(64, i * 100 + s + 1)));
    shards.push({ size: layout.shardSizeBytes, root: pseudoRandomBytes(32, i + 1), pieces });
  }
  const rawKey = generateFileKey();
  const meta = { name: "report.pdf", type: "application/pdf", size: 10_000_000 };
  return {
    rawKey,
    meta,
    ...(await createManifest({ fileId: pseudoRandomBytes(16, 3), layout, shards, rawKey, meta })),
  };
}

describe("manifest", () => {
  it("round-trips through dag-cbor and opens with its key", async () => {
    const { bytes, cid, rawKey, meta } = await sample();
    const decoded = await decodeManifest(bytes, cid);
    expect(decoded.version).toBe(1);
    expect(decoded.shards[2]?.pieces.length).toBe(decoded.segmentCount);
    const opened = await openManifest(decoded, rawKey);
    expect(opened.meta).toEqual(meta);
    // The name is not readable without the key.
    expect(new TextDecoder().decode(bytes).includes("report.pdf")).toBe(false);
  });

  it("tells a wrong key from an altered manifest", async () => {
    const { bytes, cid, rawKey } = await sample();
    await expect(openManifest(await decodeManifest(bytes, cid), generateFileKey())).rejects.toThrow(WrongKeyError);

    // Altered bytes no longer match the link pointer.
    const value = dagCbor.decode(bytes) as Record<string, unknown> & { shards: ShardEntry[] };
    const swapped = { ...value, shards: [value.shards[1], value.shards[0], ...value.shards.slice(2)] };
    const altered = dagCbor.encode(swapped);
    await expect(decodeManifest(altered, cid)).rejects.toThrow(ManifestAlteredError);
    // Even with a recomputed CID, the metadata's authentication catches the change.
    const recomputed = await decodeManifest(altered, await cidOfManifest(altered));
    await expect(openManifest(recomputed, rawKey)).rejects.toThrow(ManifestAlteredError);
    // So does any changed field, e.g. the segment size.
    const resized = dagCbor.encode({ ...value, pieceSize: 512 * 1024, segmentSize: 4 * 512 * 1024 - 16 });
    await expect(openManifest(await decodeManifest(resized), rawKey)).rejects.toThrow(ManifestAlteredError);
  });

  it("refuses other format versions and malformed manifests", async () => {
    const { bytes } = await sample();
    const value = dagCbor.decode(bytes) as Record<string, unknown>;
    await expect(decodeManifest(dagCbor.encode({ ...value, version: 2 }))).rejects.toThrow(
      UnsupportedFormatVersionError,
    );
    await expect(decodeManifest(dagCbor.encode({ ...value, k: 0 }))).rejects.toThrow(ManifestAlteredError);
    await expect(decodeManifest(dagCbor.encode({ ...value, shards: [] }))).rejects.toThrow(ManifestAlteredError);
    await expect(decodeManifest(new Uint8Array([0xff, 0x00]))).rejects.toThrow(ManifestAlteredError);
  });
});
