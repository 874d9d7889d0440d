/** Vitest set-up shared by the data-path tests: one in-process codec, and a fresh files database per test. */
import { afterEach, beforeAll, beforeEach } from "vitest";
import { localCodec, type SegmentCodec } from "../../lib/segment-codec.ts";
import { loadCodecContext } from "../../lib/testing/node-wasm.ts";
import { FilesDB } from "../files-db.ts";

/**
 * Registers hooks that load the WASM codec once and open a new FilesDB (named `<prefix>-<n>`, on whatever
 * IndexedDB the test file set up) before each test, closing it after; `use` receives both before each test.
 */
export function useFilesFixture(prefix: string, use: (codec: SegmentCodec, db: FilesDB) => void): void {
  let codec: SegmentCodec;
  let db: FilesDB;
  let count = 0;
  beforeAll(async () => {
    codec = localCodec(await loadCodecContext());
  });
  beforeEach(async () => {
    db = await FilesDB.open(`${prefix}-${count++}`);
    use(codec, db);
  });
  afterEach(() => db.close());
}

/** `bytes` as a file to store: what storeFile reads from a File. */
export function fileSource(bytes: Uint8Array, name = "a.bin") {
  return {
    name,
    type: "application/octet-stream",
    size: bytes.length,
    stream: () => new Blob([bytes as Uint8Array<ArrayBuffer>]).stream(),
  };
}
