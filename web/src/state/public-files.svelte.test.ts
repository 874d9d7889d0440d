import { describe, expect, it } from "vitest";
import { PublicFiles } from "../core/public/public-files.ts";
import { memoryHelia, memorySink } from "../core/public/testing.ts";
import { randomBytes } from "../lib/bytes.ts";
import { PublicFilesState } from "./public-files.svelte.ts";

describe("PublicFilesState", () => {
  it("mirrors the files added and the fetch under way as the service reports them", async () => {
    const files = new PublicFiles(memoryHelia());
    const state = new PublicFilesState(files);
    expect(state.added).toEqual([]);
    expect(state.fetching).toBeUndefined();

    const adding = state.add(new File([randomBytes(1_000) as Uint8Array<ArrayBuffer>], "a.bin"));
    expect(state.added).toEqual(files.added);
    expect(state.added[0]).toMatchObject({ name: "a.bin", done: false });
    await adding;
    expect(state.added).toBe(files.added);
    expect(state.added[0]).toMatchObject({ bytes: 1_000, done: true });

    const cid = state.added[0]?.cid as string;
    await state.fetch(cid, memorySink());
    expect(state.fetching).toBe(files.fetching);
    expect(state.fetching).toMatchObject({ cid, bytes: 1_000, done: true });
  });

  it("cancels the service's fetch", async () => {
    const state = new PublicFilesState(new PublicFiles(memoryHelia()));
    const fetching = state.fetch("bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy", memorySink());
    expect(state.fetching).toMatchObject({ done: false });
    state.cancel();
    await fetching;
    expect(state.fetching).toMatchObject({ done: true });
    expect(state.fetching?.error).toBeTruthy();
  });
});
