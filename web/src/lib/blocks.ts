/**
 * What the data path reads a file from: this browser's files database, or a store over one file that fetches what
 * this browser lacks from the hosts. Blocks and manifests are named by their CID's string form.
 */
export interface BlockReader {
  /** Reads blocks; undefined where missing. */
  getBlocks(cids: readonly string[]): Promise<(Blob | undefined)[]>;
  /** The same as bytes, each in a buffer of its own (transferable), without a Blob in between. */
  getBlockBytes?(cids: readonly string[]): Promise<(Uint8Array | undefined)[]>;
  getManifest(cid: string): Promise<Uint8Array | undefined>;
}
