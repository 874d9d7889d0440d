import type { CID } from "multiformats/cid";
import { randomBytes } from "../../lib/bytes.ts";
import { rawCidFromDigest } from "../../lib/cid.ts";
import { DEFAULT_DATA_SHARDS, DEFAULT_PARITY_SHARDS, FILE_ID_BYTES } from "../../lib/constants.ts";
import { importFileKey } from "../../lib/crypto/aes-gcm.ts";
import { generateFileKey } from "../../lib/crypto/file-key.ts";
import { encodedSizeBytes, firstLeafOf, layoutFor, pieceSizeOf, segmentPlainBytes } from "../../lib/erasure/layout.ts";
import { createManifest, type Manifest } from "../../lib/manifest.ts";
import { rootOf } from "../../lib/merkle/tree.ts";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import type { BlockPut, BlockStore, FileRecord, KeyRecord } from "../../storage/files-db.ts";
import { BatchWriter } from "./batch-writer.ts";
import { PIPELINE_DEPTH_SEGMENTS } from "./constants.ts";
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
 * Stores a file in this browser: stream → segments → AES-256-GCM → Reed-Solomon k + m in the worker pool → pieces
 * as raw blocks in IndexedDB, then the manifest. Either the whole file is stored or nothing is: on any failure
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
  const writer = new BatchWriter(store);
  writer.onCommitted = (bytes) => {
    progress.storedBytes += bytes;
    report();
  };

  const processSegment = async (index: number, plaintext: ArrayBuffer): Promise<void> => {
    const plainBytes = segmentPlainBytes(layout, index);
    const pieceSize = pieceSizeOf(layout, index);
    const ciphertext = await codec.encrypt({ key, fileId, index, plaintext, k, pieceSize });
    progress.encryptedBytes += plainBytes;
    report();
    signal?.throwIfAborted();
    const coded = await codec.encode({ ciphertext, k, m, pieceSize, firstLeaf: firstLeafOf(layout, index) });
    progress.encodedBytes += plainBytes;
    report();
    const puts: BlockPut[] = [];
    for (let i = 0; i < n; i++) {
      const cid = rawCidFromDigest(coded.digests.slice(i * 32, i * 32 + 32));
      (pieceCids[i] as CID[])[index] = cid;
      (pieceRoots[i] as Uint8Array[])[index] = coded.roots.slice(i * 32, i * 32 + 32);
      const bytes =
        i < k
          ? new Uint8Array(coded.data, i * pieceSize, pieceSize)
          : new Uint8Array(coded.parity, (i - k) * pieceSize, pieceSize);
      puts.push({ cid: cid.toString(), bytes });
    }
    signal?.throwIfAborted();
    await writer.write(puts, plainBytes);
  };

  const inFlight = new Set<Promise<void>>();
  let failure: { error: unknown } | undefined;
  try {
    for await (const { index, plaintext } of readSegments(file.stream(), file.size, layout.segmentSizeBytes, signal)) {
      if (failure) break;
      const task: Promise<void> = processSegment(index, plaintext)
        .catch((error: unknown) => {
          failure ??= { error };
        })
        .finally(() => inFlight.delete(task));
      inFlight.add(task);
      if (inFlight.size >= PIPELINE_DEPTH_SEGMENTS) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    if (failure) throw failure.error;
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
    await Promise.allSettled(inFlight);
    await writer.settle();
    await store.deleteBlocks(writer.written).catch(() => {});
    throw error;
  }
}
