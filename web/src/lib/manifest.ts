/**
 * The manifest of a stored file (dag-cbor): how it was cut and coded, the cipher, the encrypted name/type/size,
 * and per shard the CIDs of its pieces and its Merkle root. Its CID is the file's link pointer L.
 *
 * Integrity: the CID covers the bytes; in addition the metadata's AEAD binds the whole rest of the manifest
 * (AAD = SHA-256 of the dag-cbor manifest without `meta`), so holding the key is enough to detect any change even
 * when the manifest came from somewhere that does not check CIDs.
 */
import * as dagCbor from "@ipld/dag-cbor";
import { CID } from "multiformats/cid";
import * as Digest from "multiformats/hashes/digest";
import { equalBytes } from "./bytes.ts";
import {
  DAG_CBOR_CODEC,
  FILE_ID_BYTES,
  KECCAK256_BYTES,
  LEAF_SIZE_BYTES,
  MANIFEST_FORMAT_VERSION,
  MAX_TOTAL_SHARDS,
  SHA2_256_CODE,
} from "./constants.ts";
import { CIPHER_PARAMETERS, decryptMetadata, encryptMetadata, importFileKey } from "./crypto/aes-gcm.ts";
import { keyCommitment } from "./crypto/file-key.ts";
import { type Layout, layoutFor } from "./erasure/layout.ts";
import { ManifestAlteredError, UnsupportedFormatVersionError, WrongKeyError } from "./file-errors.ts";

export interface FileMeta {
  name: string;
  type: string;
  size: number;
}

export interface ShardEntry {
  /** Bytes in the shard (its pieces end to end). */
  size: number;
  /** Merkle root over the shard's leaves (merkle/tree.ts). */
  root: Uint8Array;
  /** Piece i is segment i's piece of this shard. */
  pieces: CID[];
}

export interface Manifest {
  version: number;
  fileId: Uint8Array;
  k: number;
  m: number;
  segmentSize: number;
  pieceSize: number;
  segmentCount: number;
  leafSize: number;
  cipher: typeof CIPHER_PARAMETERS;
  keyCommitment: Uint8Array;
  /** AES-GCM of dag-cbor {name, type, size}. */
  meta: Uint8Array;
  shards: ShardEntry[];
}

export type ManifestBody = Omit<Manifest, "meta">;

async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

async function metadataAad(body: ManifestBody): Promise<Uint8Array> {
  const { version, fileId, k, m, segmentSize, pieceSize, segmentCount, leafSize, cipher, keyCommitment, shards } = body;
  return await sha256(
    dagCbor.encode({
      version,
      fileId,
      k,
      m,
      segmentSize,
      pieceSize,
      segmentCount,
      leafSize,
      cipher,
      keyCommitment,
      shards,
    }),
  );
}

export async function cidOfManifest(bytes: Uint8Array): Promise<CID> {
  return CID.createV1(DAG_CBOR_CODEC, Digest.create(SHA2_256_CODE, await sha256(bytes)));
}

/** Writes the manifest of a file whose shards are known: encrypts the metadata and encodes. */
export async function createManifest(params: {
  fileId: Uint8Array;
  layout: Layout;
  shards: ShardEntry[];
  rawKey: Uint8Array;
  meta: FileMeta;
}): Promise<{ manifest: Manifest; bytes: Uint8Array; cid: CID }> {
  const { fileId, layout, shards, rawKey, meta } = params;
  const body: ManifestBody = {
    version: MANIFEST_FORMAT_VERSION,
    fileId,
    k: layout.k,
    m: layout.m,
    segmentSize: layout.segmentSizeBytes,
    pieceSize: layout.pieceSizeBytes,
    segmentCount: layout.segmentCount,
    leafSize: LEAF_SIZE_BYTES,
    cipher: CIPHER_PARAMETERS,
    keyCommitment: await keyCommitment(rawKey, fileId),
    shards,
  };
  const key = await importFileKey(rawKey);
  const metaBytes = dagCbor.encode({ name: meta.name, type: meta.type, size: meta.size });
  const manifest: Manifest = { ...body, meta: await encryptMetadata(key, metaBytes, await metadataAad(body)) };
  const bytes = dagCbor.encode(manifest);
  return { manifest, bytes, cid: await cidOfManifest(bytes) };
}

function isUint(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

function isBytes(value: unknown, length?: number): value is Uint8Array {
  return value instanceof Uint8Array && (length === undefined || value.length === length);
}

/**
 * Reads manifest bytes, checking them against `expected` (the link pointer) when given, the format version and
 * the manifest's shape. Throws UnsupportedFormatVersionError or ManifestAlteredError.
 */
export async function decodeManifest(bytes: Uint8Array, expected?: CID): Promise<Manifest> {
  if (expected && !(await cidOfManifest(bytes)).equals(expected)) {
    throw new ManifestAlteredError("bytes do not hash to the manifest CID");
  }
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch (cause) {
    throw new ManifestAlteredError("not dag-cbor", { cause });
  }
  if (typeof value !== "object" || value === null) throw new ManifestAlteredError("not a map");
  const m = value as Partial<Manifest>;
  if (m.version !== MANIFEST_FORMAT_VERSION)
    throw new UnsupportedFormatVersionError(m.version, MANIFEST_FORMAT_VERSION);
  const shardsOk =
    Array.isArray(m.shards) &&
    m.shards.every(
      (s) =>
        typeof s === "object" &&
        s !== null &&
        isUint(s.size) &&
        isBytes(s.root, KECCAK256_BYTES) &&
        Array.isArray(s.pieces) &&
        s.pieces.length === m.segmentCount &&
        s.pieces.every((p) => CID.asCID(p) !== null),
    );
  const ok =
    isBytes(m.fileId, FILE_ID_BYTES) &&
    isUint(m.k) &&
    isUint(m.m) &&
    m.k >= 1 &&
    m.m >= 1 &&
    m.k + m.m <= MAX_TOTAL_SHARDS &&
    isUint(m.segmentSize) &&
    isUint(m.pieceSize) &&
    m.pieceSize > 0 &&
    isUint(m.segmentCount) &&
    m.segmentCount >= 1 &&
    m.leafSize === LEAF_SIZE_BYTES &&
    typeof m.cipher === "object" &&
    m.cipher?.name === CIPHER_PARAMETERS.name &&
    isBytes(m.keyCommitment, 32) &&
    isBytes(m.meta) &&
    shardsOk &&
    m.shards?.length === m.k + m.m &&
    m.segmentSize === m.k * m.pieceSize - CIPHER_PARAMETERS.tagBytes;
  if (!ok) throw new ManifestAlteredError("manifest fields are missing or inconsistent");
  return m as Manifest;
}

/** Piece sizes from the public fields alone (repair needs no key). */
export function publicLayoutOf(manifest: Manifest): { pieceSize: number; lastPieceSize: number } {
  const shardSize = manifest.shards[0]?.size ?? 0;
  return { pieceSize: manifest.pieceSize, lastPieceSize: shardSize - (manifest.segmentCount - 1) * manifest.pieceSize };
}

/**
 * Checks `rawKey` against the manifest and decrypts its metadata: WrongKeyError when the key is not this file's,
 * ManifestAlteredError when the manifest changed after it was written.
 */
export async function openManifest(
  manifest: Manifest,
  rawKey: Uint8Array,
): Promise<{ meta: FileMeta; key: CryptoKey; layout: Layout }> {
  if (!equalBytes(await keyCommitment(rawKey, manifest.fileId), manifest.keyCommitment)) throw new WrongKeyError();
  const key = await importFileKey(rawKey);
  let metaBytes: Uint8Array;
  try {
    metaBytes = await decryptMetadata(key, manifest.meta, await metadataAad(manifest));
  } catch (cause) {
    throw new ManifestAlteredError("metadata failed authentication", { cause });
  }
  const meta = dagCbor.decode(metaBytes) as FileMeta;
  const layout = layoutFor(meta.size, manifest.k, manifest.m, manifest.pieceSize);
  const consistent =
    layout.segmentCount === manifest.segmentCount &&
    layout.segmentSizeBytes === manifest.segmentSize &&
    manifest.shards.every((s) => s.size === layout.shardSizeBytes);
  if (!consistent) throw new ManifestAlteredError("sizes do not match the file's length");
  return { meta, key, layout };
}
