import "fake-indexeddb/auto";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HeldShard } from "../core/hosting/catalog.ts";
import { Host } from "../core/hosting/host.ts";
import type { HostPieceStore } from "../core/hosting/host-store.ts";
import { HostingState } from "./hosting.svelte.ts";

async function cidOf(text: string): Promise<CID> {
  return CID.createV1(raw.code, await sha256.digest(new TextEncoder().encode(text)));
}

async function heldShard(name: string, sizes: number[], storedAtMs: number): Promise<HeldShard> {
  return {
    manifest: await cidOf(`${name} manifest`),
    shardIndex: 0,
    root: new Uint8Array(32),
    pieces: await Promise.all(sizes.map((_, index) => cidOf(`${name} piece ${index}`))),
    sizes,
    owner: "12D3KooWOwner",
    dealId: null,
    storedAtMs,
  };
}

/** A block store in a map: enough for the host to remove what it holds. */
function mapStore(): HostPieceStore {
  const blocks = new Map<string, Uint8Array>();
  return {
    put: (cid, bytes) => blocks.set(cid.toString(), bytes),
    get: (cid) => [blocks.get(cid.toString()) ?? new Uint8Array()],
    has: (cid) => blocks.has(cid.toString()),
    delete: (cid) => blocks.delete(cid.toString()),
  };
}

let count = 0;

describe("HostingState", () => {
  let host: Host;
  let state: HostingState;

  beforeEach(async () => {
    host = await Host.open(`hosting-state-test-${count++}`);
    state = new HostingState(host);
  });

  afterEach(() => {
    host.stop();
  });

  it("starts from the host's settings and totals", () => {
    expect(state.enabled).toBe(false);
    expect(state.quotaBytes).toBe(host.quotaBytes);
    expect(state.usedBytes).toBe(0);
    expect(state.freeBytes).toBe(host.quotaBytes);
    expect(state.reservedBytes).toBe(0);
    expect(state.pushes).toBe(0);
    expect(state.held).toEqual([]);
    expect(state.announcements).toBe(0);
    expect(state.lastAnnouncedAt).toBe(0);
    expect(state.removing).toBe(false);
    expect(state.error).toBeUndefined();
  });

  it("delegates the switch and the quota to the host and mirrors what it saved", async () => {
    await state.setEnabled(true);
    expect(host.enabled).toBe(true);
    expect(state.enabled).toBe(true);
    await state.setQuota(5_000);
    expect(host.quotaBytes).toBe(5_000);
    expect(state.quotaBytes).toBe(5_000);
    expect(state.freeBytes).toBe(5_000);
    // A change made on the host, not through the state, shows as well.
    await host.setEnabled(false);
    expect(state.enabled).toBe(false);
  });

  it("shows the host's refusal of an action as its error, and clears it on the next action", async () => {
    await state.setQuota(-1);
    expect(state.error).toBe("the quota is a number of bytes");
    expect(host.quotaBytes).not.toBe(-1);
    await state.setEnabled(true);
    expect(state.error).toBeUndefined();
  });

  it("lists the held shards, oldest first, with their sizes and what was served of them", async () => {
    await host.setQuota(10_000);
    const older = await heldShard("older", [1_000, 500], 1_000);
    const newer = await heldShard("newer", [2_000], 2_000);
    await host.catalog.put(newer);
    await host.catalog.put(older);
    expect(state.usedBytes).toBe(3_500);
    expect(state.freeBytes).toBe(6_500);
    expect(state.held.map((shard) => [shard.manifest, shard.bytes, shard.pieces])).toEqual([
      [older.manifest.toString(), 1_500, 2],
      [newer.manifest.toString(), 2_000, 1],
    ]);
    expect(state.held[0]).toMatchObject({
      key: `${older.manifest}/0`,
      shardIndex: 0,
      owner: "12D3KooWOwner",
      storedAtMs: 1_000,
      servedPieces: 0,
      servedBytes: 0,
    });

    const role = host.serve(mapStore());
    const from = {} as Parameters<NonNullable<typeof role.shardFetch.onServed>>[2];
    role.shardFetch.onServed?.(older.pieces[1] as CID, 500, from);
    role.shardFetch.onServed?.(older.pieces[0] as CID, 1_000, from);
    expect(state.held[0]).toMatchObject({ servedPieces: 2, servedBytes: 1_500 });
    expect(state.held[1]).toMatchObject({ servedPieces: 0, servedBytes: 0 });
  });

  it("mirrors a push's reservation while it is under way", async () => {
    await host.setEnabled(true);
    await host.setQuota(10_000);
    const role = host.serve(mapStore());
    const shard = await heldShard("pushed", [4_000], 1_000);
    const offer = { ...shard, type: "offer" as const };
    const from = {} as Parameters<NonNullable<typeof role.shardStore.admit>>[0]["from"];
    const admission = await role.shardStore.admit?.({ offer, totalBytes: 4_000, from });
    expect(admission).toMatchObject({ ok: true });
    expect(state.pushes).toBe(1);
    expect(state.reservedBytes).toBe(4_000);
    expect(state.freeBytes).toBe(6_000);
    if (typeof admission === "object" && admission.ok) admission.release?.();
    expect(state.pushes).toBe(0);
    expect(state.reservedBytes).toBe(0);
  });

  it("removes every held shard through the host once it serves, and says why it cannot before", async () => {
    await host.catalog.put(await heldShard("held", [1_000], 1_000));
    await state.removeAll();
    expect(state.error).toMatch(/not ready/);
    expect(state.held).toHaveLength(1);

    host.serve(mapStore());
    const removing = state.removeAll();
    expect(state.removing).toBe(true);
    await removing;
    expect(state.removing).toBe(false);
    expect(state.error).toBeUndefined();
    expect(state.held).toEqual([]);
    expect(state.usedBytes).toBe(0);
  });
});
