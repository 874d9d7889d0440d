import "fake-indexeddb/auto";
import { describe, expect, it, vi } from "vitest";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import { pseudoRandomBytes } from "../../lib/testing/node-wasm.ts";
import type { FilesDB } from "../../storage/files-db.ts";
import { fileSource, useFilesFixture } from "../../storage/testing/files-fixture.ts";
import { MyFiles, type MyFilesParts, type SaveTarget } from "./my-files.ts";

let codec: SegmentCodec;
let db: FilesDB;
useFilesFixture("my-files-test", (c, d) => {
  codec = c;
  db = d;
});

/** A wallet's signature of the vault message: any fixed 65 bytes do for the tests. */
const signature = `0x${"ab".repeat(65)}` as const;

function myFiles(parts: Partial<MyFilesParts> = {}) {
  return new MyFiles({ db: async () => db, codec: () => codec, signTypedData: async () => signature, ...parts });
}

function memoryTarget() {
  const chunks: Uint8Array[] = [];
  const target: SaveTarget = {
    write: async (chunk) => void chunks.push(chunk.slice()),
    close: async () => {},
    abort: async () => {},
  };
  return { target, bytes: () => new Uint8Array(chunks.flatMap((c) => [...c])) };
}

describe("MyFiles", () => {
  it("stores a file under the vault, lists it by name, gives it back, and deletes it", async () => {
    const onStored = vi.fn();
    const files = myFiles({ onStored });
    let changes = 0;
    files.addEventListener("change", () => changes++);
    const bytes = pseudoRandomBytes(300_000, 3);
    const cid = await files.store(fileSource(bytes, "notes.bin"), { k: 2, m: 1 });
    if (!cid) throw new Error(`not stored: ${files.error?.message}`);
    expect(onStored).toHaveBeenCalledWith(cid);
    expect(files.unlocked).toBe(true);
    expect(files.storing).toBeUndefined();
    expect(files.progress?.storedBytes).toBe(bytes.length);
    expect(files.items.map((i) => [i.cid, i.meta?.name])).toEqual([[cid, "notes.bin"]]);
    expect(changes).toBeGreaterThan(0);

    const out = memoryTarget();
    await files.download(cid, out.target);
    expect(files.error).toBeUndefined();
    expect(out.bytes()).toEqual(bytes);
    expect(files.downloaded).toEqual({ cid, bytes: bytes.length, damagedShards: [] });

    const link = await files.shareLinkOf(cid, "https://tabula.example/");
    const parsed = files.parseLink(new URL(link ?? "").hash);
    expect(parsed?.cid).toBe(cid);
    expect(await myFiles({}).metaOf(cid, { rawKey: parsed?.rawKey })).toMatchObject({ name: "notes.bin" });

    await files.remove(cid);
    expect(files.items).toEqual([]);
  });

  it("stores nothing without a wallet to unlock the vault, and shows VaultLockedError when opening a sealed file", async () => {
    const bytes = pseudoRandomBytes(1_000, 2);
    const cid = await myFiles().store(fileSource(bytes), { k: 2, m: 1 });
    if (!cid) throw new Error("not stored");
    const locked = new MyFiles({ db: async () => db, codec: () => codec });
    vi.spyOn(console, "error").mockImplementation(() => {});
    expect(locked.canUnlock).toBe(false);
    expect(await locked.store(fileSource(new Uint8Array([1, 2, 3])))).toBeUndefined();
    expect((await db.listFiles()).map((f) => f.cid)).toEqual([cid]);
    await locked.download(cid, memoryTarget().target);
    expect(locked.error?.name).toBe("VaultLockedError");
    vi.restoreAllMocks();
  });

  it("keeps an action's error in view through the list refresh that follows it", async () => {
    const bytes = pseudoRandomBytes(1_000, 4);
    await myFiles().store(fileSource(bytes), { k: 2, m: 1 });
    vi.spyOn(console, "error").mockImplementation(() => {});
    const refused = myFiles({
      signTypedData: async () => {
        throw new Error("User rejected the request.");
      },
    });
    await refused.unlock();
    expect(refused.error?.message).toMatch(/User rejected the request/);
    expect(refused.items).toHaveLength(1);
    const locked = new MyFiles({ db: async () => db, codec: () => codec });
    expect(await locked.store(fileSource(new Uint8Array([1, 2, 3])))).toBeUndefined();
    expect(locked.error?.name).toBe("VaultLockedError");
    vi.restoreAllMocks();
  });

  it("shows an invalid share link as an error", () => {
    const files = myFiles();
    expect(files.parseLink("#/open?file=nope")).toBeUndefined();
    expect(files.error?.name).toBe("InvalidShareLinkError");
  });

  it("stops a store when its signal aborts, shows no error, and keeps nothing of it", async () => {
    const files = myFiles();
    const controller = new AbortController();
    controller.abort();
    expect(await files.store(fileSource(pseudoRandomBytes(100_000, 1)), { signal: controller.signal })).toBeUndefined();
    expect(files.error).toBeUndefined();
    expect(files.items).toEqual([]);
  });
});
