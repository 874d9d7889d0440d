import "fake-indexeddb/auto";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import { pseudoRandomBytes } from "../../lib/testing/node-wasm.ts";
import type { FilesDB } from "../../storage/files-db.ts";
import { fileSource, useFilesFixture } from "../../storage/testing/files-fixture.ts";
import { storeFile } from "../files/store-file.ts";
import type { Activity } from "./activities.ts";
import type { MaintenanceClock } from "./maintenance.ts";
import { type HostList, NetworkFiles } from "./network-files.ts";
import { placementsOf, savePlacement } from "./placements.ts";
import { type Behaviour, fakeNetwork } from "./testing/fake-hosts.ts";

let codec: SegmentCodec;
let db: FilesDB;
useFilesFixture("network-files-test", (c, d) => {
  codec = c;
  db = d;
});

/** A clock whose timers never fire: the automatic checks stay out of these tests. */
const stoppedClock: MaintenanceClock = { now: () => Date.now(), setTimeout: () => 0, clearTimeout: () => {} };

const services: NetworkFiles[] = [];
beforeEach(() => {
  vi.spyOn(console, "error").mockImplementation(() => {});
});
afterEach(() => {
  for (const s of services.splice(0)) s.close();
  vi.restoreAllMocks();
});

async function setUp(behaviours: Record<string, Behaviour[]>) {
  const network = await fakeNetwork(db, behaviours);
  // Hosts can be left unannounced, to announce them later.
  const hidden = new Set<string>();
  const hosts = Object.assign(new EventTarget(), network.parts.hosts, {
    list: () => network.parts.hosts.list().filter((h) => !hidden.has(h.peer)),
  }) as unknown as HostList;
  let codecsAsked = 0;
  const service = new NetworkFiles({
    ...network.parts,
    hosts,
    db: async () => db,
    codec: () => {
      codecsAsked++;
      return codec;
    },
    fetchBlock: async () => undefined,
    serveBlock: async () => {},
    clock: stoppedClock,
  });
  services.push(service);
  const bytes = pseudoRandomBytes(3 * 1024 * 1024 + 17, 11);
  const { cid } = await storeFile({ codec, store: db }, fileSource(bytes), { k: 2, m: 1 });
  return { service, cid: cid.toString(), calls: network.calls, codecsAsked: () => codecsAsked, hidden };
}

const summary = (a: Activity) => [a.kind, a.endedAtMs !== undefined, a.error?.name];

describe("NetworkFiles", () => {
  it("places a stored file's shards, shows the upload as an activity and the placements in its file view", async () => {
    const { service, cid } = await setUp({ a: ["store"], b: ["store"], c: ["store"] });
    const placed = await service.upload(cid);
    expect(placed).toHaveLength(3);
    expect(service.activities.map(summary)).toEqual([["upload", true, undefined]]);
    const view = service.files.find((f) => f.cid === cid);
    expect(view).toMatchObject({ k: 2, m: 1, liveShards: 3, localShards: 3 });
    expect(service.busy.size).toBe(0);
  });

  it("runs one operation per file at a time: a repair asked during an upload starts once the upload ended", async () => {
    const { service, cid } = await setUp({ a: ["store"], b: ["store"], c: ["store"] });
    const seen: string[][] = [];
    service.addEventListener("change", () => {
      seen.push(service.activities.filter((a) => !a.endedAtMs).map((a) => a.kind));
    });
    const upload = service.upload(cid);
    const repair = service.repair(cid);
    expect(service.busy.has(cid)).toBe(true);
    expect(await Promise.all([upload, repair])).toEqual([expect.any(Array), true]);
    expect(seen.some((running) => running.length > 1)).toBe(false);
    expect(service.activities.map((a) => a.kind)).toEqual(["repair", "upload"]);
    expect(service.busy.size).toBe(0);
  });

  it("fails a repair with NotEnoughHostsError before rebuilding anything when no host may take the lost shard", async () => {
    const { service, cid, calls, codecsAsked } = await setUp({ a: ["store"], b: ["store"], c: ["store"] });
    await service.upload(cid);
    const lost = (await placementsOf(db, cid))[0];
    if (!lost) throw new Error("nothing was placed");
    await savePlacement(db, { ...lost, status: "lost", reason: "did not answer its audit" });
    calls.length = 0;

    // Every known host holds or lost a shard of the file: none may take the lost one.
    expect(await service.repair(cid)).toBe(false);
    expect(service.activities[0]).toMatchObject({ kind: "repair", error: { name: "NotEnoughHostsError" } });
    expect(codecsAsked()).toBe(0);
    expect(calls).toEqual([]);
    expect((await placementsOf(db, cid)).find((p) => p.host === lost.host)?.status).toBe("lost");
  });

  it("repairs onto a host that holds nothing of the file once one is announced", async () => {
    const { service, cid, hidden } = await setUp({ a: ["store"], b: ["store"], c: ["store"], d: ["store"] });
    hidden.add("d");
    await service.upload(cid);
    const lost = (await placementsOf(db, cid))[0];
    if (!lost) throw new Error("nothing was placed");
    await savePlacement(db, { ...lost, status: "lost" });
    expect(await service.repair(cid)).toBe(false);
    hidden.delete("d");
    expect(await service.repair(cid)).toBe(true);
    const after = await placementsOf(db, cid);
    expect(after.find((p) => p.host === "d")).toMatchObject({ shard: lost.shard, status: "live" });
  });

  it("keeps the local copy while a shard has no live host", async () => {
    const { service, cid } = await setUp({ a: ["store"], b: ["store"], c: ["store"] });
    await service.removeLocalCopy(cid);
    expect(service.activities[0]).toMatchObject({ kind: "upload", error: { name: "LocalCopyNeededError" } });
    expect(service.files.find((f) => f.cid === cid)?.localShards).toBe(3);
  });

  it("drops the local copy once every shard is placed and keeping it is off", async () => {
    const { service, cid } = await setUp({ a: ["store"], b: ["store"], c: ["store"] });
    service.keepLocalCopy = false;
    await service.upload(cid);
    expect(service.files.find((f) => f.cid === cid)).toMatchObject({ liveShards: 3, localShards: 0 });
  });
});
