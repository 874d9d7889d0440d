import { describe, expect, it, vi } from "vitest";
import type { Activity } from "../core/network/activities.ts";
import type { KnownHost } from "../core/network/known-hosts.ts";
import type { MaintenanceView, NetworkFiles, NetworkFileView } from "../core/network/network-files.ts";
import { NetworkFilesState } from "./network-files.svelte.ts";

/** Stands in for the core service: the fields the state reads, and its actions as spies. */
class FakeNetworkFiles extends EventTarget {
  files: NetworkFileView[] = [];
  activities: Activity[] = [];
  hosts: KnownHost[] = [];
  busy: ReadonlySet<string> = new Set();
  maintenance: ReadonlyMap<string, MaintenanceView> = new Map();
  checkIntervalMs = 600_000;
  autoRepair = true;
  autoUpload = true;
  keepLocalCopy = true;
  upload = vi.fn(async () => []);
  check = vi.fn(async () => []);
  repair = vi.fn(async () => true);
  checkAndRepair = vi.fn(async () => {});
  removeLocalCopy = vi.fn(async () => {});
  refresh = vi.fn(async () => {});
  onStored = vi.fn();
  remote = vi.fn();

  changed(): void {
    this.dispatchEvent(new Event("change"));
  }
}

function mirror() {
  const service = new FakeNetworkFiles();
  return { service, state: new NetworkFilesState(service as unknown as NetworkFiles) };
}

const view: NetworkFileView = { cid: "bafy", k: 2, m: 1, shards: [], liveShards: 3, localShards: 0 };

describe("NetworkFilesState", () => {
  it("shows what the service holds when made, and what it holds after each change", () => {
    const { service, state } = mirror();
    service.files = [view];
    expect(state.files).toEqual([]);
    service.changed();
    expect(state.files).toEqual([view]);

    const activity: Activity = { id: 1, kind: "repair", cid: "bafy", startedAtMs: 1, auto: true };
    service.activities = [activity];
    service.busy = new Set(["bafy"]);
    service.maintenance = new Map([["bafy", { nextAtMs: 5, running: "repair" }]]);
    service.hosts = [{ peer: "h", freeBytes: 1, pricePerGiBMonth: 0n, addrs: [], timestampMs: 1 }];
    service.changed();
    expect(state.activities).toEqual([activity]);
    expect(state.busy.has("bafy")).toBe(true);
    expect(state.maintenance.get("bafy")).toEqual({ nextAtMs: 5, running: "repair" });
    expect(state.hosts.map((h) => h.peer)).toEqual(["h"]);
    expect(state.checkIntervalMs).toBe(600_000);
  });

  it("hands its settings to the service and shows them as the service keeps them", () => {
    const { service, state } = mirror();
    state.autoRepair = false;
    state.autoUpload = false;
    state.keepLocalCopy = false;
    expect([service.autoRepair, service.autoUpload, service.keepLocalCopy]).toEqual([false, false, false]);
    service.changed();
    expect([state.autoRepair, state.autoUpload, state.keepLocalCopy]).toEqual([false, false, false]);
  });

  it("delegates every action to the service", async () => {
    const { service, state } = mirror();
    await state.upload("c");
    await state.check("c");
    expect(await state.repair("c")).toBe(true);
    await state.checkAndRepair("c");
    await state.removeLocalCopy("c");
    await state.refresh();
    state.onStored("c");
    for (const action of [service.upload, service.check, service.repair, service.checkAndRepair]) {
      expect(action).toHaveBeenCalledWith("c");
    }
    expect(service.removeLocalCopy).toHaveBeenCalledWith("c");
    expect(service.refresh).toHaveBeenCalledOnce();
    expect(service.onStored).toHaveBeenCalledWith("c");
  });
});
