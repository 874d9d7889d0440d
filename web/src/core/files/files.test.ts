import "fake-indexeddb/auto";
import { CID } from "multiformats/cid";
import { describe, expect, it } from "vitest";
import { generateFileKey } from "../../lib/crypto/file-key.ts";
import { ManifestAlteredError, QuotaExceededError, TooFewShardsError, WrongKeyError } from "../../lib/file-errors.ts";
import { decodeManifest } from "../../lib/manifest.ts";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import { pseudoRandomBytes, subsetsUpTo } from "../../lib/testing/node-wasm.ts";
import type { FilesDB } from "../../storage/files-db.ts";
import { useFilesFixture } from "../../storage/testing/files-fixture.ts";
import { deleteFile } from "./delete-file.ts";
import { openFile, readAll } from "./open-file.ts";
import { repairShard } from "./repair-shard.ts";
import { type FileSource, storeFile } from "./store-file.ts";

let codec: SegmentCodec;
let db: FilesDB;
useFilesFixture("files-test", (c, d) => {
  codec = c;
  db = d;
});

/** A File-like source that hands out the bytes in odd-sized chunks, as File.stream() does. */
function source(bytes: Uint8Array, name = "data.bin"): FileSource {
  return {
    name,
    type: "application/octet-stream",
    size: bytes.length,
    stream: () =>
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let off = 0; off < bytes.length; off += 65_537) controller.enqueue(bytes.slice(off, off + 65_537));
          controller.close();
        },
      }),
  };
}

async function shardBlocks(cid: CID, shard: number): Promise<string[]> {
  const manifest = await decodeManifest((await db.getManifest(cid.toString())) as Uint8Array, cid);
  return (manifest.shards[shard]?.pieces ?? []).map((p) => p.toString());
}

const MiB = 1024 * 1024;

describe("storeFile / openFile", () => {
  it("stores a multi-segment file and gives it back byte-identical (4+2)", async () => {
    const data = pseudoRandomBytes(9 * MiB + 12_345, 1);
    const stages: string[] = [];
    const stored = await storeFile({ codec, store: db }, source(data), {
      onProgress: (p) => {
        if (p.storedBytes === p.totalBytes) stages.push("stored");
      },
    });
    expect(stages).toContain("stored");
    expect(stored.manifest.segmentCount).toBe(3);
    expect(await db.countBlocks()).toBe(3 * 6);
    const opened = await openFile({ codec, store: db }, stored.cid, stored.rawKey);
    expect(opened.meta).toEqual({ name: "data.bin", type: "application/octet-stream", size: data.length });
    expect(await readAll(opened.stream)).toEqual(data);
  });

  it("stores and opens an empty file", async () => {
    const stored = await storeFile({ codec, store: db }, source(new Uint8Array()));
    const opened = await openFile({ codec, store: db }, stored.cid, stored.rawKey);
    expect(await readAll(opened.stream)).toEqual(new Uint8Array());
  });

  it("opens from any k shards: every pattern of at most m lost shards (3+2)", async () => {
    const data = pseudoRandomBytes(3 * MiB + 3, 2);
    const stored = await storeFile({ codec, store: db }, source(data), { k: 3, m: 2 });
    const blobs = new Map<string, Blob>();
    const all = (await Promise.all([0, 1, 2, 3, 4].map((s) => shardBlocks(stored.cid, s)))).flat();
    for (const [i, b] of (await db.getBlocks(all)).entries()) blobs.set(all[i] as string, b as Blob);
    for (const lost of subsetsUpTo(5, 2)) {
      const gone = (await Promise.all(lost.map((s) => shardBlocks(stored.cid, s)))).flat();
      await db.deleteBlocks(gone);
      const opened = await openFile({ codec, store: db }, stored.cid, stored.rawKey);
      expect(await readAll(opened.stream), `lost shards ${lost}`).toEqual(data);
      // Put the lost blocks back for the next pattern.
      const back = await Promise.all(
        gone.map(async (cid) => ({ cid, bytes: new Uint8Array(await (blobs.get(cid) as Blob).arrayBuffer()) })),
      );
      await db.putBlocks(back);
    }
  }, 120_000);

  it("treats pieces that fail their CID check as erasures", async () => {
    const data = pseudoRandomBytes(5 * MiB, 3);
    const stored = await storeFile({ codec, store: db }, source(data));
    const damaged: number[][] = [];
    for (const shard of [0, 1]) {
      const cids = await shardBlocks(stored.cid, shard);
      const blobs = await db.getBlocks(cids);
      const puts = await Promise.all(
        blobs.map(async (b, i) => {
          const bytes = new Uint8Array(await (b as Blob).arrayBuffer());
          bytes[i * 97] = (bytes[i * 97] as number) ^ 0xff;
          return { cid: cids[i] as string, bytes };
        }),
      );
      await db.putBlocks(puts);
    }
    const opened = await openFile({ codec, store: db }, stored.cid, stored.rawKey, {
      onProgress: (p) => damaged.push(p.damagedShards),
    });
    expect(await readAll(opened.stream)).toEqual(data);
    // Data pieces are tried first; parity stands in for the two damaged shards.
    expect(damaged.at(-1)).toEqual([0, 1]);
  });

  it("says how many shards are needed when too few are left", async () => {
    const stored = await storeFile({ codec, store: db }, source(pseudoRandomBytes(MiB, 4)));
    for (const s of [1, 2, 4]) await db.deleteBlocks(await shardBlocks(stored.cid, s));
    const opened = await openFile({ codec, store: db }, stored.cid, stored.rawKey);
    const error = await readAll(opened.stream).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TooFewShardsError);
    expect((error as TooFewShardsError).needed).toBe(4);
    expect((error as TooFewShardsError).available).toBe(3);
  });

  it("refuses a wrong key and an altered manifest", async () => {
    const stored = await storeFile({ codec, store: db }, source(pseudoRandomBytes(1000, 5)));
    await expect(openFile({ codec, store: db }, stored.cid, generateFileKey())).rejects.toThrow(WrongKeyError);
    const bytes = (await db.getManifest(stored.cid.toString())) as Uint8Array;
    const altered = bytes.slice();
    altered[altered.length - 5] = (altered[altered.length - 5] as number) ^ 1;
    await db.putManifest(stored.cid.toString(), altered);
    await expect(openFile({ codec, store: db }, stored.cid, stored.rawKey)).rejects.toThrow(ManifestAlteredError);
  });
});

describe("repairShard", () => {
  it("rebuilds a lost data shard and a lost parity shard byte-identically, without the key", async () => {
    const data = pseudoRandomBytes(6 * MiB, 7);
    const stored = await storeFile({ codec, store: db }, source(data));
    for (const shard of [1, 5]) {
      const cids = await shardBlocks(stored.cid, shard);
      const before = await Promise.all(
        (await db.getBlocks(cids)).map(async (b) => new Uint8Array(await (b as Blob).arrayBuffer())),
      );
      await db.deleteBlocks(cids);
      expect((await db.getBlocks(cids)).every((b) => b === undefined)).toBe(true);
      const { repairedPieces } = await repairShard({ codec, store: db }, stored.cid.toString(), shard);
      expect(repairedPieces).toBe(cids.length);
      const after = await Promise.all(
        (await db.getBlocks(cids)).map(async (b) => new Uint8Array(await (b as Blob).arrayBuffer())),
      );
      expect(after).toEqual(before);
    }
    // With shards 0 and 4 now lost, the repaired 1 and 5 are needed to open the file.
    for (const s of [0, 4]) await db.deleteBlocks(await shardBlocks(stored.cid, s));
    expect(await readAll((await openFile({ codec, store: db }, stored.cid, stored.rawKey)).stream)).toEqual(data);
  });
});

describe("all or nothing", () => {
  it("writes nothing when the quota check fails", async () => {
    const quota = async (bytes: number) => {
      throw new QuotaExceededError(bytes, 1000);
    };
    await expect(
      storeFile({ codec, store: db, ensureQuota: quota }, source(pseudoRandomBytes(MiB, 8))),
    ).rejects.toThrow(QuotaExceededError);
    expect(await db.countBlocks()).toBe(0);
    expect(await db.listFiles()).toEqual([]);
  });

  it("deletes what it wrote when IndexedDB runs out of space midway", async () => {
    let puts = 0;
    const store = {
      putBlocks: async (blocks: Parameters<FilesDB["putBlocks"]>[0]) => {
        puts++;
        if (puts === 2) throw new QuotaExceededError(blocks.length, 0);
        await db.putBlocks(blocks);
      },
      deleteBlocks: (cids: readonly string[]) => db.deleteBlocks(cids),
      putFile: db.putFile.bind(db),
    };
    await expect(storeFile({ codec, store }, source(pseudoRandomBytes(40 * MiB, 9)))).rejects.toThrow(
      QuotaExceededError,
    );
    expect(puts).toBeGreaterThanOrEqual(2);
    expect(await db.countBlocks()).toBe(0);
    expect(await db.listFiles()).toEqual([]);
  });

  it("deletes what it wrote when aborted", async () => {
    const controller = new AbortController();
    const promise = storeFile({ codec, store: db }, source(pseudoRandomBytes(40 * MiB, 10)), {
      signal: controller.signal,
      onProgress: (p) => {
        if (p.storedBytes > 0) controller.abort();
      },
    });
    await expect(promise).rejects.toThrow();
    expect(await db.countBlocks()).toBe(0);
  });

  it("deletes a file completely", async () => {
    const stored = await storeFile({ codec, store: db }, source(pseudoRandomBytes(2 * MiB, 11)));
    expect((await db.listFiles()).map((f) => f.cid)).toEqual([stored.cid.toString()]);
    await deleteFile({ store: db }, stored.cid);
    expect(await db.countBlocks()).toBe(0);
    expect(await db.listFiles()).toEqual([]);
    expect(CID.asCID(stored.cid)).not.toBeNull();
  });
});
