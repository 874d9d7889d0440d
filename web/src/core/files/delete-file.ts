import type { CID } from "multiformats/cid";
import type { BlockReader } from "../../lib/blocks.ts";
import { loadManifest } from "./open-file.ts";

export interface DeleteFileParts {
  store: Pick<BlockReader, "getManifest"> & {
    deleteFile(cid: string, blockCids: readonly string[]): Promise<void>;
  };
}

/** Deletes a stored file from this browser: every piece of every shard, its manifest, listing, key and receipts. */
export async function deleteFile(parts: DeleteFileParts, cid: CID | string): Promise<void> {
  const manifest = await loadManifest(parts.store, cid);
  const blocks = manifest.shards.flatMap((s) => s.pieces.map((p) => p.toString()));
  await parts.store.deleteFile(cid.toString(), blocks);
}
