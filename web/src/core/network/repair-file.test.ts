import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import { pseudoRandomBytes } from "../../lib/testing/node-wasm.ts";
import type { FilesDB } from "../../storage/files-db.ts";
import { fileSource, useFilesFixture } from "../../storage/testing/files-fixture.ts";
import { storeFile } from "../files/store-file.ts";
import { placementsOf, savePlacement } from "./placements.ts";
import { repairFile } from "./repair-file.ts";
import { fakeNetwork } from "./testing/fake-hosts.ts";
import { uploadFile } from "./upload-file.ts";

let codec: SegmentCodec;
let db: FilesDB;
useFilesFixture("repair-test", (c, d) => {
  codec = c;
  db = d;
});

describe("repairFile", () => {
  it("places a lost shard on a host that holds nothing of the file, never back on the host that lost it", async () => {
    const bytes = pseudoRandomBytes(3 * 1024 * 1024 + 17, 5);
    const { cid } = await storeFile({ codec, store: db }, fileSource(bytes), { k: 2, m: 1 });
    // Host "a" is the nearest: with nothing to keep it out, it would be picked first again.
    const { parts, calls } = await fakeNetwork(db, { a: ["store"], b: ["store"], c: ["store"], d: ["store"] });
    await uploadFile(parts, cid, { exclude: new Set(["d"]) });
    const lost = (await placementsOf(db, cid.toString())).find((p) => p.host === "a");
    if (!lost) throw new Error("host a was given no shard");
    await savePlacement(db, { ...lost, status: "lost", reason: "did not answer its audit" });

    calls.length = 0;
    const result = await repairFile({ ...parts, codec, store: db, placements: db }, cid);

    expect(result.lost).toEqual([lost.shard]);
    expect(result.placements.map((p) => [p.shard, p.host])).toEqual([[lost.shard, "d"]]);
    expect(calls.map((c) => c.host)).toEqual(["d"]);
    const after = await placementsOf(db, cid.toString());
    expect(after.find((p) => p.host === "a")?.status).toBe("moved");
    expect(
      after
        .filter((p) => p.status === "live")
        .map((p) => p.host)
        .sort(),
    ).toEqual(["b", "c", "d"]);
  });
});
