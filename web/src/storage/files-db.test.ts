import "fake-indexeddb/auto";
import { openDB } from "idb";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pseudoRandomBytes } from "../lib/testing/node-wasm.ts";
import { FilesDB } from "./files-db.ts";

let db: FilesDB;
let name: string;
let count = 0;
beforeEach(async () => {
  name = `files-db-test-${count++}`;
  db = await FilesDB.open(name);
});
afterEach(() => db.close());

describe("FilesDB blocks", () => {
  it("stores blocks as their bytes alone, even when given a view into a larger buffer", async () => {
    const big = pseudoRandomBytes(3000, 1);
    await db.putBlocks([{ cid: "a", bytes: big.subarray(1000, 2000) }]);
    const [bytes] = await db.getBlockBytes(["a"]);
    expect(bytes).toEqual(big.subarray(1000, 2000));
    expect(bytes?.buffer.byteLength).toBe(1000);
    const [blob] = await db.getBlocks(["a"]);
    expect(new Uint8Array(await (blob as Blob).arrayBuffer())).toEqual(big.subarray(1000, 2000));
    expect(await db.getBlockBytes(["missing"])).toEqual([undefined]);
    expect(await db.getBlocks(["missing"])).toEqual([undefined]);
  });

  it("reads blocks written as Blobs by earlier versions", async () => {
    const bytes = pseudoRandomBytes(500, 2);
    db.close();
    const raw = await openDB(name);
    await raw.put("blocks", new Blob([bytes as Uint8Array<ArrayBuffer>]), "legacy");
    raw.close();
    db = await FilesDB.open(name);
    const [asBytes] = await db.getBlockBytes(["legacy"]);
    expect(asBytes).toEqual(bytes);
    const [asBlob] = await db.getBlocks(["legacy"]);
    expect(new Uint8Array(await (asBlob as Blob).arrayBuffer())).toEqual(bytes);
  });
});
