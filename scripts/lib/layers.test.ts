import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkLayers } from "./layers.ts";

describe("checkLayers", () => {
  let root: string;
  const write = (path: string, text: string) => {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  };

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), "tabula-layers-"));
    write("web/src/lib/bytes.ts", "export const x = 1;\n");
    write("web/src/p2p/node.ts", 'import { x } from "../lib/bytes.ts";\n');
    write("web/src/core/files/store.ts", 'import { x } from "../../lib/bytes.ts";\nimport "../../p2p/node.ts";\n');
    write("web/src/state/files.svelte.ts", 'import { store } from "../core/files/store.ts";\n');
    write(
      "web/src/ui/Files.svelte",
      '<script lang="ts">\n  import { files } from "../state/files.svelte.ts";\n</script>\n',
    );
    write("web/src/main.ts", 'import "./p2p/node.ts";\nimport "./ui/Files.svelte";\n');
    write("web/workers/files.worker.ts", 'import { x } from "../src/lib/bytes.ts";\n');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it("accepts imports that flow ui → state → core → p2p → lib, and counts them by room", () => {
    const report = checkLayers(root);
    expect(report.problems).toEqual([]);
    expect(report.files).toHaveLength(7);
    expect(Object.fromEntries(report.edges)).toEqual({
      "p2p → lib": 1,
      "core → lib": 1,
      "core → p2p": 1,
      "state → core": 1,
      "ui → state": 1,
      "main → p2p": 1,
      "main → ui": 1,
      "workers → lib": 1,
    });
  });

  it("names each import that goes the wrong way, with its file and line", () => {
    write("web/src/ui/Peers.svelte", '<script lang="ts">\n  import { x } from "../core/files/store.ts";\n</script>\n');
    write("web/src/state/peers.svelte.ts", '// peers\nimport type { Libp2p } from "@libp2p/interface";\n');
    write("web/src/p2p/store.ts", 'import { store } from "../core/files/store.ts";\n');
    write("web/src/storage/db.ts", 'export { node } from "../p2p/node.ts";\n');
    write("web/src/lib/up.ts", 'const w = new URL("../state/files.svelte.ts", import.meta.url);\n');
    write("web/src/core/view.ts", 'const load = () => import("../ui/Files.svelte");\n');
    expect(checkLayers(root).problems.sort()).toEqual(
      [
        "web/src/ui/Peers.svelte:2: ui may not import core (web/src/core/files/store.ts)",
        "web/src/state/peers.svelte.ts:2: state imports the package @libp2p/interface; reach it through core",
        "web/src/p2p/store.ts:1: p2p may not import core (web/src/core/files/store.ts)",
        "web/src/storage/db.ts:1: storage may not import p2p (web/src/p2p/node.ts)",
        "web/src/lib/up.ts:1: lib may not import state (web/src/state/files.svelte.ts)",
        "web/src/core/view.ts:1: core may not import ui (web/src/ui/Files.svelte)",
      ].sort(),
    );
  });

  it("refuses code outside the app's rooms and imports that leave them", () => {
    write("web/src/bench/main.ts", "export {};\n");
    write("web/src/core/tool.ts", 'import "../../../scripts/bench.ts";\n');
    expect(checkLayers(root).problems.sort()).toEqual([
      "web/src/bench/main.ts: not in any room of the app (main, ui, state, core, p2p, storage, chain, workers, lib)",
      "web/src/core/tool.ts:1: imports scripts/bench.ts, which is outside the app's rooms",
    ]);
  });
});
