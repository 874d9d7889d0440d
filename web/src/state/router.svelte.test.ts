import { afterEach, describe, expect, it, vi } from "vitest";
import { Router } from "./router.svelte.ts";

describe("Router", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("follows a second link opened in the same tab: same path, new parameters", () => {
    const window = new EventTarget();
    const location = { hash: "#/receive?t=first" };
    vi.stubGlobal("window", window);
    vi.stubGlobal("location", location);
    const router = new Router();
    expect(router.path).toBe("/receive");
    expect(router.params.get("t")).toBe("first");
    location.hash = "#/receive?t=second";
    window.dispatchEvent(new Event("hashchange"));
    expect(router.path).toBe("/receive");
    expect(router.params.get("t")).toBe("second");
    expect(router.hash).toBe("#/receive?t=second");
  });
});
