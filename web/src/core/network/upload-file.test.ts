import "fake-indexeddb/auto";
import { describe, expect, it } from "vitest";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import { pseudoRandomBytes } from "../../lib/testing/node-wasm.ts";
import type { FilesDB } from "../../storage/files-db.ts";
import { fileSource, useFilesFixture } from "../../storage/testing/files-fixture.ts";
import { storeFile } from "../files/store-file.ts";
import { UploadIncompleteError } from "./errors.ts";
import { fakeNetwork } from "./testing/fake-hosts.ts";
import { type HostTransfer, MAX_ATTEMPTS_PER_SHARD, type UploadProgress, uploadFile } from "./upload-file.ts";

let codec: SegmentCodec;
let db: FilesDB;
useFilesFixture("upload-test", (c, d) => {
  codec = c;
  db = d;
});

/** Stores a small 2+1 file in this browser; resolves to its manifest CID. */
async function storedFile(): Promise<string> {
  const bytes = pseudoRandomBytes(3 * 1024 * 1024 + 17, 7);
  const file = fileSource(bytes);
  const { cid } = await storeFile({ codec, store: db }, file, { k: 2, m: 1 });
  return cid.toString();
}

describe("uploadFile", () => {
  it("places each shard on a distinct host and reports every transfer stored at the end", async () => {
    const cid = await storedFile();
    const { parts } = await fakeNetwork(db, { a: ["store"], b: ["store"], c: ["store"] });
    const reports: UploadProgress[] = [];
    const placed = await uploadFile(parts, cid, { onProgress: (p) => reports.push(p) });

    expect(new Set(placed.map((p) => p.host)).size).toBe(3);
    expect(placed.map((p) => p.shard).sort()).toEqual([0, 1, 2]);
    const last = reports.at(-1) as UploadProgress;
    expect(last.placedShards).toBe(3);
    expect(last.transfers.map((t: HostTransfer) => [t.state, t.bytes === t.totalBytes])).toEqual([
      ["stored", true],
      ["stored", true],
      ["stored", true],
    ]);
  });

  it("reports byte progress at most every 100 ms, not once per acknowledged piece", async () => {
    const cid = await storedFile();
    const { parts } = await fakeNetwork(db, { a: ["store"], b: ["store"], c: ["store"] });
    const reports: UploadProgress[] = [];
    await uploadFile(parts, cid, { onProgress: (p) => reports.push(p) });
    // Three shards of two pieces each: six acknowledgements, plus a report per change of state (3 x connecting,
    // sending, stored) and the last one. Byte reports that came within 100 ms of another were folded into it.
    const stateChanges = 3 * 3;
    expect(reports.length).toBeLessThan(stateChanges + 6 + 1);
  });

  it("moves a shard to another host when a host refuses, and does not ask that host again", async () => {
    const cid = await storedFile();
    const { parts, calls, failures } = await fakeNetwork(db, {
      a: ["refuse"],
      b: ["store"],
      c: ["store"],
      d: ["store"],
    });
    const placed = await uploadFile(parts, cid);

    expect(placed.map((p) => p.host).sort()).toEqual(["b", "c", "d"]);
    expect(calls.filter((c) => c.host === "a")).toHaveLength(1);
    expect(failures).toEqual(["a"]);
  });

  it("with no other host left, gives the shard up after a refusal but retries a dropped connection on a new one", async () => {
    const cid = await storedFile();
    const refused = await fakeNetwork(db, { a: ["refuse"], b: ["store"], c: ["store"] });
    const error = await uploadFile(refused.parts, cid).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadIncompleteError);
    expect(refused.calls.filter((c) => c.host === "a")).toHaveLength(1);

    const dropped = await fakeNetwork(db, { a: ["drop", "store"], b: ["store"], c: ["store"] });
    const placed = await uploadFile(dropped.parts, cid);
    expect(placed.map((p) => p.host).sort()).toEqual(["a", "b", "c"]);
    expect(dropped.calls.filter((c) => c.host === "a").map(({ host, fresh }) => ({ host, fresh }))).toEqual([
      { host: "a", fresh: false },
      { host: "a", fresh: true },
    ]);
  });

  it("waits longer before each new try of the same host, and gives up after the last try", async () => {
    const cid = await storedFile();
    const pause = 40;
    const flaky = await fakeNetwork(db, { a: ["drop", "drop", "drop", "store"], b: ["store"], c: ["store"] });
    const placed = await uploadFile(flaky.parts, cid, { retryPauseMs: pause });
    expect(placed.map((p) => p.host).sort()).toEqual(["a", "b", "c"]);
    const tries = flaky.calls.filter((c) => c.host === "a");
    expect(tries.map((c) => c.fresh)).toEqual([false, true, true, true]);
    const gaps = tries.slice(1).map((c, i) => c.atMs - (tries[i] as { atMs: number }).atMs);
    expect(gaps[0]).toBeGreaterThanOrEqual(pause - 5);
    expect(gaps[1]).toBeGreaterThanOrEqual(2 * pause - 5);
    expect(gaps[2]).toBeGreaterThanOrEqual(4 * pause - 5);

    const down = await fakeNetwork(db, { a: ["drop"], b: ["store"], c: ["store"] });
    const error = await uploadFile(down.parts, cid, { retryPauseMs: pause }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UploadIncompleteError);
    expect(down.calls.filter((c) => c.host === "a")).toHaveLength(MAX_ATTEMPTS_PER_SHARD);
  });
});

describe("uploadFile with deals", () => {
  it("does not count the wait for a shard's deal (a transaction, a wallet prompt) as the host stalling", async () => {
    const cid = await storedFile();
    const { parts } = await fakeNetwork(db, { a: ["store"], b: ["store"], c: ["store"] });
    const asked: string[] = [];
    const placed = await uploadFile(parts, cid, {
      stallTimeoutMs: 100,
      deals: {
        dealFor: async (shard, host) => {
          asked.push(`${shard}:${host}`);
          // Several watchdog ticks pass while the deal is escrowed.
          await new Promise((resolve) => setTimeout(resolve, 2_500));
          return {
            id: BigInt(shard + 1),
            owner: "0x0000000000000000000000000000000000000001",
            price: 1n,
            proposeTx: "0x01",
          };
        },
        checkSigma: async () => {},
      },
    });
    expect(placed).toHaveLength(3);
    expect(asked).toHaveLength(3);
  });
});
