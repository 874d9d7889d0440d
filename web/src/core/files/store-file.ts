import type { CID } from "multiformats/cid";
import { randomBytes } from "../../lib/bytes.ts";
import { rawCidFromDigest } from "../../lib/cid.ts";
import { DEFAULT_DATA_SHARDS, DEFAULT_PARITY_SHARDS, FILE_ID_BYTES } from "../../lib/constants.ts";
import { importFileKey } from "../../lib/crypto/aes-gcm.ts";
import { generateFileKey } from "../../lib/crypto/file-key.ts";
import { encodedSizeBytes, firstLeafOf, layoutFor, pieceSizeOf } from "../../lib/erasure/layout.ts";
import { createManifest, type Manifest } from "../../lib/manifest.ts";
import { rootOf } from "../../lib/merkle/tree.ts";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import type { BlockPut, BlockStore, FileRecord, KeyRecord } from "../../storage/files-db.ts";
import { BatchWriter } from "./batch-writer.ts";
import { pipelineDepth } from "./constants.ts";
import { runPipeline } from "./pipeline.ts";
import { readSegments } from "./segments.ts";

/** What a file to store must offer: a File, a Blob with a name, or anything with a byte stream. */
export interface FileSource {
  name: string;
  type: string;
  size: number;
  stream(): ReadableStream<Uint8Array>;
}

export interface StoreProgress {
  totalBytes: number;
  /** Plaintext bytes encrypted, coded, and committed to IndexedDB. */
  encryptedBytes: number;
  encodedBytes: number;
  storedBytes: number;
}

export interface StoreFileParameters {
  k?: number;
  m?: number;
  signal?: AbortSignal;
  onProgress?: (progress: StoreProgress) => void;
  /** The file key; a fresh random one by default. */
  rawKey?: Uint8Array;
}

export interface StoreFileReturnType {
  cid: CID;
  manifest: Manifest;
  manifestBytes: Uint8Array;
  rawKey: Uint8Array;
  encodedBytes: number;
}

export interface StoreFileParts {
  codec: SegmentCodec;
  store: Pick<BlockStore, "putBlocks" | "deleteBlocks"> & {
    putFile(record: FileRecord, manifest: Uint8Array, key?: KeyRecord): Promise<void>;
  };
  /** Throws QuotaExceededError when `bytes` do not fit (storage/files-db.ts `ensureQuota`). */
  ensureQuota?: (bytes: number) => Promise<void>;
  /** Seals the file key for the keys store (crypto/key-vault.ts); without it no key is kept. */
  sealKey?: (rawKey: Uint8Array, cid: string) => Promise<Uint8Array>;
}

/**
 * Stores a file in this browser: stream → segments → in a worker, per segment: AES-256-GCM, Reed-Solomon k + m,
 * sha2-256 and Merkle root of each piece → pieces as raw blocks in IndexedDB, then the manifest. Two segments are in
 * flight per worker, so while one waits for WebCrypto the other is coded and both cores stay busy. Either the whole file is stored or nothing is: on any failure
 * (quota, abort, a worker error) the blocks already written are deleted.
 */
export async function storeFile(
  parts: StoreFileParts,
  file: FileSource,
  params: StoreFileParameters = {},
): Promise<StoreFileReturnType> {
  const { codec, store } = parts;
  const k = params.k ?? DEFAULT_DATA_SHARDS;
  const m = params.m ?? DEFAULT_PARITY_SHARDS;
  const signal = params.signal;
  const layout = layoutFor(file.size, k, m);
  const n = k + m;
  const encodedBytes = encodedSizeBytes(layout);
  await parts.ensureQuota?.(encodedBytes);

  const rawKey = params.rawKey ?? generateFileKey();
  const key = await importFileKey(rawKey);
  const fileId = randomBytes(FILE_ID_BYTES);
  const pieceCids: CID[][] = Array.from({ length: n }, () => new Array<CID>(layout.segmentCount));
  const pieceRoots: Uint8Array[][] = Array.from({ length: n }, () => new Array<Uint8Array>(layout.segmentCount));
  const progress: StoreProgress = { totalBytes: file.size, encryptedBytes: 0, encodedBytes: 0, storedBytes: 0 };
  const report = () => params.onProgress?.({ ...progress });
  // Buffers go round: segment buffers come back from the workers with the pieces, piece buffers once their
  // transaction has committed, so the pipeline allocates a few tens of MiB whatever the file's size.
  const plainBuffers: ArrayBuffer[] = [];
  const pieceBuffers: ArrayBuffer[] = [];
  const writer = new BatchWriter(store);
  writer.onCommitted = (weight, blocks) => {
    for (const b of blocks)
      if (b.bytes.byteLength === layout.pieceSizeBytes) pieceBuffers.push(b.bytes.buffer as ArrayBuffer);
    progress.storedBytes += weight;
    report();
  };

  const processSegment = async (index: number, plaintext: ArrayBuffer, plainLength: number): Promise<void> => {
    const pieceSize = pieceSizeOf(layout, index);
    const spare = pieceSize === layout.pieceSizeBytes ? pieceBuffers.splice(0, n) : [];
    const coded = await codec.storeSegment({
      key,
      fileId,
      index,
      plaintext,
      plainLength,
      k,
      m,
      pieceSize,
      firstLeaf: firstLeafOf(layout, index),
      spare,
    });
    plainBuffers.push(coded.plaintext);
    pieceBuffers.push(...coded.spare);
    progress.encryptedBytes += plainLength;
    progress.encodedBytes += plainLength;
    report();
    signal?.throwIfAborted();
    const puts: BlockPut[] = [];
    for (let i = 0; i < n; i++) {
      const cid = rawCidFromDigest(coded.digests.slice(i * 32, i * 32 + 32));
      (pieceCids[i] as CID[])[index] = cid;
      (pieceRoots[i] as Uint8Array[])[index] = coded.roots.slice(i * 32, i * 32 + 32);
      puts.push({ cid: cid.toString(), bytes: new Uint8Array(coded.pieces[i] as ArrayBuffer) });
    }
    await writer.write(puts, plainLength);
  };

  try {
    const segments = readSegments(file.stream(), file.size, layout.segmentSizeBytes, {
      ...(signal ? { signal } : {}),
      reuse: () => plainBuffers.pop(),
    });
    await runPipeline(segments, pipelineDepth(codec), ({ index, plaintext, length }) =>
      processSegment(index, plaintext, length),
    );
    await writer.close();
    signal?.throwIfAborted();

    const shards = pieceCids.map((pieces, i) => ({
      size: layout.shardSizeBytes,
      root: rootOf(pieceRoots[i] as Uint8Array[]),
      pieces,
    }));
    const meta = { name: file.name, type: file.type, size: file.size };
    const { manifest, bytes, cid } = await createManifest({ fileId, layout, shards, rawKey, meta });
    const cidText = cid.toString();
    const sealed = parts.sealKey ? await parts.sealKey(rawKey, cidText) : undefined;
    await store.putFile(
      { cid: cidText, createdAt: Date.now(), encodedBytes },
      bytes,
      sealed ? { cid: cidText, wrapped: sealed } : undefined,
    );
    return { cid, manifest, manifestBytes: bytes, rawKey, encodedBytes };
  } catch (error) {
    await writer.settle();
    await store.deleteBlocks(writer.written).catch(() => {});
    throw error;
  }
}
