import { describe, expect, it, vi } from "vitest";
import { randomBytes } from "../../lib/bytes.ts";
import { PublicFiles } from "./public-files.ts";
import { memoryHelia, memorySink } from "./testing.ts";

const fileOf = (bytes: Uint8Array, name = "note.bin") => new File([bytes as Uint8Array<ArrayBuffer>], name);

describe("PublicFiles", () => {
  it("adds a file newest first, pins it, and ends its entry with the CID", async () => {
    const helia = memoryHelia();
    const files = new PublicFiles(helia);
    const changes = vi.fn();
    files.addEventListener("change", changes);
    const bytes = randomBytes(300_000);
    const adding = files.add(fileOf(bytes, "a.bin"));
    expect(files.added).toMatchObject([{ name: "a.bin", bytes: 0, total: 300_000, done: false }]);
    await adding;
    await files.add(fileOf(randomBytes(10), "b.bin"));
    expect(files.added.map((t) => t.name)).toEqual(["b.bin", "a.bin"]);
    const [, a] = files.added;
    expect(a).toMatchObject({ bytes: 300_000, done: true });
    expect(a?.cid).toMatch(/^bafk/);
    expect(helia.pinned.has(a?.cid as string)).toBe(true);
    expect(changes).toHaveBeenCalled();
  });

  it("fetches a file by CID into the sink, checked block by block", async () => {
    const helia = memoryHelia();
    const files = new PublicFiles(helia);
    const bytes = randomBytes(600_000);
    await files.add(fileOf(bytes));
    const cid = files.added[0]?.cid as string;
    const sink = memorySink();
    await files.fetch(` ${cid} `, sink);
    expect(files.fetching).toMatchObject({ cid, bytes: 600_000, total: 600_000, done: true });
    expect(files.fetching?.error).toBeUndefined();
    expect(sink.closed).toBe(true);
    expect(sink.bytes()).toEqual(bytes);
  });

  it("says what is wrong with input that is not a CID and aborts the sink", async () => {
    const files = new PublicFiles(memoryHelia());
    const sink = memorySink();
    await files.fetch("not a cid", sink);
    expect(files.fetching).toMatchObject({ done: true });
    expect(files.fetching?.error).toContain("is not a CID");
    expect(sink.aborted).toBe(true);
  });

  it("cancels a fetch nobody serves, by cancel() or by the caller's signal", async () => {
    const helia = memoryHelia();
    const files = new PublicFiles(helia);
    const missing = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    const first = files.fetch(missing, memorySink());
    files.cancel();
    await first;
    expect(files.fetching).toMatchObject({ name: missing, done: true });
    expect(files.fetching?.error).toBeTruthy();

    const controller = new AbortController();
    const sink = memorySink();
    const second = files.fetch(missing, sink, { signal: controller.signal });
    controller.abort();
    await second;
    expect(files.fetching?.done).toBe(true);
    expect(sink.aborted).toBe(true);
  });

  it("shows the newest fetch: one it replaced ends without showing", async () => {
    const helia = memoryHelia();
    const files = new PublicFiles(helia);
    await files.add(fileOf(randomBytes(1_000)));
    const cid = files.added[0]?.cid as string;
    const missing = "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
    const replaced = memorySink();
    const first = files.fetch(missing, replaced);
    await files.fetch(cid, memorySink());
    await first;
    expect(replaced.aborted).toBe(true);
    expect(files.fetching).toMatchObject({ cid, bytes: 1_000, done: true });
    expect(files.fetching?.error).toBeUndefined();
  });
});
