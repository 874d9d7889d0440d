import type { CID } from "multiformats/cid";
import type { BlockReader } from "../../lib/blocks.ts";
import { asCid } from "../../lib/cid.ts";
import { pieceSizeOf, segmentPlainBytes } from "../../lib/erasure/layout.ts";
import { CorruptSegmentError, FileNotFoundError, TooFewShardsError } from "../../lib/file-errors.ts";
import { decodeManifest, type FileMeta, type Manifest, openManifest } from "../../lib/manifest.ts";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import { pipelineDepth } from "./constants.ts";
import { withPieces } from "./pieces.ts";

export interface OpenFileParts {
  codec: SegmentCodec;
  store: BlockReader;
}

export interface OpenProgress {
  totalBytes: number;
  decodedBytes: number;
  /** Shards whose pieces were missing or failed their CID check, so far. */
  damagedShards: number[];
}

export interface OpenFileParameters {
  signal?: AbortSignal;
  onProgress?: (progress: OpenProgress) => void;
}

export interface OpenFileReturnType {
  meta: FileMeta;
  manifest: Manifest;
  /** The plaintext, segment by segment, decoded a few segments ahead of the reader. */
  stream: ReadableStream<Uint8Array>;
}

/** Reads and checks a manifest from the store. */
export async function loadManifest(store: Pick<BlockReader, "getManifest">, cid: CID | string): Promise<Manifest> {
  const parsed = asCid(cid);
  const bytes = await store.getManifest(parsed.toString());
  if (!bytes) throw new FileNotFoundError(parsed.toString());
  return await decodeManifest(bytes, parsed);
}

/**
 * Opens a stored file with its key: checks the manifest and the key, then streams the plaintext back from any k
 * intact pieces of each segment (missing pieces and pieces failing their CID check are erasures).
 */
export async function openFile(
  parts: OpenFileParts,
  cid: CID | string,
  rawKey: Uint8Array,
  params: OpenFileParameters = {},
): Promise<OpenFileReturnType> {
  const { codec, store } = parts;
  const depth = pipelineDepth(codec);
  const { signal } = params;
  const manifest = await loadManifest(store, cid);
  const { meta, key, layout } = await openManifest(manifest, rawKey);
  const { k, m, fileId } = manifest;
  const progress: OpenProgress = { totalBytes: meta.size, decodedBytes: 0, damagedShards: [] };
  const damaged = new Set<number>();

  const decodeSegment = (index: number): Promise<ArrayBuffer> =>
    withPieces<ArrayBuffer>(store, manifest, index, damaged, async ({ pieces, digests }) => {
      const result = await codec.decode({
        key,
        fileId,
        index,
        k,
        m,
        pieceSize: pieceSizeOf(layout, index),
        plainLength: segmentPlainBytes(layout, index),
        pieces,
        digests,
      });
      if (result.status === "ok") return { done: result.plaintext };
      if (result.status === "corrupt") throw new CorruptSegmentError(index);
      if (result.bad.length === 0) throw new TooFewShardsError(k, result.intact, index);
      return { bad: result.bad };
    });

  let nextToStart = 0;
  const started: Promise<ArrayBuffer>[] = [];
  const startMore = () => {
    while (nextToStart < layout.segmentCount && started.length < depth) {
      const p = decodeSegment(nextToStart);
      p.catch(() => {}); // observed when its turn comes
      started.push(p);
      nextToStart++;
    }
  };

  let delivered = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (delivered === layout.segmentCount) {
          controller.close();
          return;
        }
        signal?.throwIfAborted();
        startMore();
        const plaintext = await (started.shift() as Promise<ArrayBuffer>);
        delivered++;
        startMore();
        progress.decodedBytes += plaintext.byteLength;
        progress.damagedShards = [...damaged].sort((a, b) => a - b);
        params.onProgress?.({ ...progress, damagedShards: progress.damagedShards.slice() });
        if (plaintext.byteLength > 0) controller.enqueue(new Uint8Array(plaintext));
        if (delivered === layout.segmentCount) controller.close();
      },
      cancel() {
        nextToStart = layout.segmentCount;
      },
    },
    { highWaterMark: 0 },
  );
  return { meta, manifest, stream };
}

/** Reads a whole stream into one Uint8Array (tests, small files). */
export async function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let length = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    length += value.length;
  }
  const out = new Uint8Array(length);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out;
}
