import { describe, expect, it } from "vitest";
import { AHEAD_SEGMENTS, KEEP_BEHIND_SEGMENTS } from "./constants.ts";
import { PieceBuffer } from "./piece-buffer.ts";
import { fakeShards } from "./testing/fake-shards.ts";

async function setup() {
  const segments = KEEP_BEHIND_SEGMENTS + AHEAD_SEGMENTS + 4;
  const { manifest, bytes } = await fakeShards(3, segments);
  const download = new AbortController();
  const buffer = new PieceBuffer(manifest, download.signal);
  const piece = (shard: number, seg: number) => String(manifest.shards[shard]?.pieces[seg]);
  const put = (shard: number, seg: number) => buffer.put(piece(shard, seg), bytes.get(piece(shard, seg)) as Uint8Array);
  return { bytes, download, buffer, piece, put };
}

describe("PieceBuffer", () => {
  it("hands a piece to whoever waits for it, and keeps it for the decoder's retries", async () => {
    const { bytes, buffer, piece, put } = await setup();
    expect(buffer.place(piece(2, 3))).toEqual({ shard: 2, seg: 3 });
    const waited = buffer.wait(piece(2, 3));
    put(2, 3);
    expect(await waited).toEqual(bytes.get(piece(2, 3)));
    expect(buffer.get(piece(2, 3))).toEqual(bytes.get(piece(2, 3)));
  });

  it("drops pieces the decoder has left KEEP_BEHIND_SEGMENTS behind, and keeps none that arrive that late", async () => {
    const { buffer, piece, put } = await setup();
    put(0, 0);
    put(0, 1);
    buffer.requested(KEEP_BEHIND_SEGMENTS + 1);
    expect(buffer.get(piece(0, 0))).toBeUndefined();
    expect(buffer.get(piece(0, 1))).toBeDefined();
    put(1, 0);
    expect(buffer.get(piece(1, 0))).toBeUndefined();
  });

  it("lets a stream run AHEAD_SEGMENTS ahead of the decoder, and frees room as the decoder moves on", async () => {
    const { download, buffer } = await setup();
    expect(buffer.hasRoom(AHEAD_SEGMENTS)).toBe(true);
    expect(buffer.hasRoom(AHEAD_SEGMENTS + 1)).toBe(false);
    let roomy = false;
    void buffer.room(AHEAD_SEGMENTS + 2, download.signal).then(() => {
      roomy = true;
    });
    buffer.requested(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(roomy).toBe(false);
    buffer.requested(2);
    await new Promise((resolve) => setImmediate(resolve));
    expect(roomy).toBe(true);
  });

  it("answers `undefined` for a shard's lost pieces and for every read once the download closes", async () => {
    const { download, buffer, piece } = await setup();
    const lostBefore = buffer.wait(piece(1, 2));
    const lost = buffer.wait(piece(1, 5));
    const other = buffer.wait(piece(0, 5));
    const held = buffer.room(AHEAD_SEGMENTS + 1, download.signal);
    buffer.lost(1, 4);
    expect(await lost).toBeUndefined();
    download.abort();
    expect(await other).toBeUndefined();
    expect(await lostBefore).toBeUndefined();
    await expect(held).rejects.toThrow();
    expect(await buffer.wait(piece(2, 0))).toBeUndefined();
  });
});
