/**
 * Packs `dist/` as UnixFS into a CAR file (`tabula.car`) and prints its root CID, ready to pin on any IPFS node.
 * The importer's settings are fixed, so the same sources give the same CID.
 */
import { createWriteStream } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CarWriter } from "@ipld/car/writer";
import { importer } from "ipfs-unixfs-importer";
import type { CID } from "multiformats/cid";

const ROOT = join(import.meta.dirname, "..");
const DIST = join(ROOT, "dist");
const OUT = join(ROOT, "tabula.car");

async function* files(dir: string): AsyncGenerator<string> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile()) yield path;
  }
}

/** Collects the importer's blocks in insertion order. */
class BlockCollector {
  readonly blocks = new Map<string, { cid: CID; bytes: Uint8Array }>();
  async put(cid: CID, bytes: Uint8Array): Promise<CID> {
    this.blocks.set(cid.toString(), { cid, bytes });
    return cid;
  }
}

/** Imports `dir` as a UnixFS directory and returns its root CID and blocks. */
export async function importDirectory(dir: string): Promise<{ root: CID; blocks: BlockCollector["blocks"] }> {
  const blockstore = new BlockCollector();
  const source = async function* () {
    for await (const path of files(dir)) yield { path: relative(dir, path), content: await readFile(path) };
  };
  let root: CID | undefined;
  for await (const entry of importer(source(), blockstore, {
    cidVersion: 1,
    rawLeaves: true,
    wrapWithDirectory: true,
  })) {
    if (entry.path === "") root = entry.cid;
  }
  if (!root) throw new Error(`nothing to import in ${dir}`);
  return { root, blocks: blockstore.blocks };
}

if (import.meta.main) {
  const { root, blocks } = await importDirectory(DIST);
  const { writer, out } = CarWriter.create([root]);
  const written = pipeline(Readable.from(out), createWriteStream(OUT));
  for (const block of blocks.values()) await writer.put(block);
  await writer.close();
  await written;
  console.log(`CAR      ${relative(ROOT, OUT)}`);
  console.log(`root CID ${root.toString()}`);
}
