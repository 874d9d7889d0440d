import { describe, expect, it, vi } from "vitest";
import type { Downloaded, FileItem, FilesError, MyFiles, SaveTarget, StoreProgress } from "../core/files/my-files.ts";
import { FilesState } from "./files.svelte.ts";

/** Stands in for the core service: the fields the state reads, and its actions as spies. */
class FakeMyFiles extends EventTarget {
  items: FileItem[] = [];
  progress: StoreProgress | undefined;
  storing: string | undefined;
  downloading: string | undefined;
  downloaded: Downloaded | undefined;
  unlocked = false;
  canUnlock = true;
  error: FilesError | undefined;
  refresh = vi.fn(async () => {});
  unlock = vi.fn(async () => {});
  store = vi.fn(async () => "bafy");
  cancel = vi.fn();
  download = vi.fn(async () => {});
  metaOf = vi.fn(async () => ({ name: "a.txt", type: "text/plain", size: 1 }));
  remove = vi.fn(async () => {});
  shareLinkOf = vi.fn(async () => "link");
  parseLink = vi.fn(() => undefined);

  changed(): void {
    this.dispatchEvent(new Event("change"));
  }
}

function mirror() {
  const service = new FakeMyFiles();
  return { service, state: new FilesState(service as unknown as MyFiles) };
}

describe("FilesState", () => {
  it("shows the list, the store in progress, downloads, the vault and errors as the service publishes them", () => {
    const { service, state } = mirror();
    expect(state.canUnlock).toBe(true);
    service.items = [{ cid: "bafy", createdAt: 1, encodedBytes: 3 }];
    service.storing = "a.txt";
    service.progress = { totalBytes: 10, encryptedBytes: 5, encodedBytes: 5, storedBytes: 2 };
    service.unlocked = true;
    expect(state.items).toEqual([]);
    service.changed();
    expect(state.items.map((i) => i.cid)).toEqual(["bafy"]);
    expect(state.storing).toBe("a.txt");
    expect(state.progress?.storedBytes).toBe(2);
    expect(state.unlocked).toBe(true);

    service.storing = undefined;
    service.downloading = "bafy";
    service.error = { name: "VaultLockedError", message: "locked" };
    service.changed();
    expect(state.storing).toBeUndefined();
    expect(state.downloading).toBe("bafy");
    expect(state.error?.name).toBe("VaultLockedError");

    service.downloading = undefined;
    service.downloaded = { cid: "bafy", bytes: 3, damagedShards: [1] };
    service.changed();
    expect(state.downloaded).toEqual({ cid: "bafy", bytes: 3, damagedShards: [1] });
  });

  it("delegates every action to the service, with a share link's key where given", async () => {
    const { service, state } = mirror();
    const target: SaveTarget = { write: async () => {}, close: async () => {}, abort: async () => {} };
    const key = new Uint8Array([1, 2]);
    const file = new File(["hi"], "a.txt");
    expect(await state.store(file, { k: 2, m: 1 })).toBe("bafy");
    expect(service.store).toHaveBeenCalledWith(file, { k: 2, m: 1 });
    state.cancel();
    expect(service.cancel).toHaveBeenCalledOnce();
    await state.download("bafy", target);
    await state.download("bafy", target, key);
    expect(service.download.mock.calls).toEqual([
      ["bafy", target, {}],
      ["bafy", target, { rawKey: key }],
    ]);
    expect(await state.metaOf("bafy", key)).toMatchObject({ name: "a.txt" });
    expect(service.metaOf).toHaveBeenCalledWith("bafy", { rawKey: key });
    await state.remove("bafy");
    await state.unlock();
    await state.refresh();
    expect(service.remove).toHaveBeenCalledWith("bafy");
    expect(service.unlock).toHaveBeenCalledOnce();
    expect(service.refresh).toHaveBeenCalledOnce();
    expect(state.parseLink("#/open")).toBeUndefined();
    expect(service.parseLink).toHaveBeenCalledWith("#/open");
  });
});
