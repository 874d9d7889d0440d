/**
 * What happens to one segment, as pure functions of the WASM coders: the worker entry (web/workers/) exposes
 * exactly these, and tests call them in-process. Buffers come in and go out as whole ArrayBuffers so that callers
 * can transfer them between threads instead of copying.
 */
import { equalBytes } from "./bytes.ts";
import { sha256 } from "./cid.ts";
import { AES_GCM_TAG_BYTES, KECCAK256_BYTES, SHA256_BYTES } from "./constants.ts";
import { decryptSegment, encryptSegment } from "./crypto/aes-gcm.ts";
import type { ReedSolomon } from "./erasure/reed-solomon.ts";
import type { MerkleHasher } from "./merkle/hasher.ts";

export interface CodecContext {
  rs: ReedSolomon;
  hasher: MerkleHasher;
}

export interface EncryptRequest {
  key: CryptoKey;
  fileId: Uint8Array;
  index: number;
  plaintext: ArrayBuffer;
  k: number;
  pieceSize: number;
}

export interface EncodeRequest {
  /** k * pieceSize bytes of ciphertext (zero-padded). */
  ciphertext: ArrayBuffer;
  k: number;
  m: number;
  pieceSize: number;
  /** Shard-wide index of the pieces' first Merkle leaf. */
  firstLeaf: number;
}

export interface EncodeResult {
  /** The k data pieces end to end (the ciphertext, handed back). */
  data: ArrayBuffer;
  /** The m parity pieces end to end. */
  parity: ArrayBuffer;
  /** sha2-256 of each of the k + m pieces, 32 bytes each end to end. */
  digests: Uint8Array;
  /** Merkle subtree root of each piece, 32 bytes each end to end. */
  roots: Uint8Array;
}

export interface StoreSegmentRequest {
  key: CryptoKey;
  fileId: Uint8Array;
  index: number;
  /** The segment's plaintext is the first `plainLength` bytes of this buffer (it may be longer: it is recycled). */
  plaintext: ArrayBuffer;
  plainLength: number;
  k: number;
  m: number;
  pieceSize: number;
  /** Shard-wide index of the pieces' first Merkle leaf. */
  firstLeaf: number;
  /** Recycled buffers for the pieces; those of exactly `pieceSize` bytes are filled, the others handed back. */
  spare?: ArrayBuffer[];
}

export interface StoreSegmentResult {
  /** The k + m pieces, each in a buffer of exactly `pieceSize` bytes. */
  pieces: ArrayBuffer[];
  /** sha2-256 of each piece, 32 bytes each end to end. */
  digests: Uint8Array;
  /** Merkle subtree root of each piece, 32 bytes each end to end. */
  roots: Uint8Array;
  /** The request's plaintext buffer and unused spare buffers, handed back for reuse. */
  plaintext: ArrayBuffer;
  spare: ArrayBuffer[];
}

export interface DecodeRequest {
  key: CryptoKey;
  fileId: Uint8Array;
  index: number;
  k: number;
  m: number;
  pieceSize: number;
  plainLength: number;
  /** Piece i of the segment or null; any k intact pieces suffice. */
  pieces: (ArrayBuffer | null)[];
  /** Expected sha2-256 of every piece (from the manifest's CIDs). */
  digests: Uint8Array[];
}

export type DecodeResult =
  | { status: "ok"; plaintext: ArrayBuffer; bad: number[] }
  /** Fewer than k pieces were intact: `bad` failed their CID check; the caller may fetch others. */
  | { status: "too-few"; bad: number[]; intact: number }
  /** The pieces matched their CIDs but the ciphertext failed authentication. */
  | { status: "corrupt"; bad: number[] };

export interface RepairRequest {
  k: number;
  m: number;
  pieceSize: number;
  pieces: (ArrayBuffer | null)[];
  digests: Uint8Array[];
  /** Indices of the pieces to rebuild. */
  targets: number[];
}

export type RepairResult =
  | { status: "ok"; rebuilt: ArrayBuffer[]; bad: number[] }
  | { status: "too-few"; bad: number[]; intact: number }
  /** A rebuilt piece did not match its CID: the manifest does not describe these pieces. */
  | { status: "corrupt"; bad: number[] };

/** The segment operations, wherever they run (a worker pool, or in-process). */
export interface SegmentCodec {
  /** Segments it works on at once at full speed (its workers); callers keep about twice that many in flight. */
  readonly parallelism?: number;
  /** Encrypts, codes and hashes one segment in one call: what storing a file uses. */
  storeSegment(req: StoreSegmentRequest): Promise<StoreSegmentResult>;
  encrypt(req: EncryptRequest): Promise<ArrayBuffer>;
  encode(req: EncodeRequest): Promise<EncodeResult>;
  decode(req: DecodeRequest): Promise<DecodeResult>;
  repair(req: RepairRequest): Promise<RepairResult>;
}

const RANDOM_CHUNK_BYTES = 65536;

/** Fills `bytes` from the system's CSPRNG, which hands out at most 64 KiB per call. */
export function fillRandom(bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length; off += RANDOM_CHUNK_BYTES) {
    crypto.getRandomValues(bytes.subarray(off, off + RANDOM_CHUNK_BYTES));
  }
}

/** Encrypts one segment into k pieces' worth of ciphertext (padded for the last, shorter segment). */
export async function encryptPieces(req: EncryptRequest): Promise<ArrayBuffer> {
  const ct = await encryptSegment(req.key, req.fileId, req.index, req.plaintext);
  const size = req.k * req.pieceSize;
  if (ct.byteLength === size) return ct;
  if (ct.byteLength > size) throw new RangeError(`segment ${req.index} does not fit in ${req.k} pieces`);
  // Random rather than zero padding: with zeros, the pieces of a short last segment that hold no ciphertext would
  // be identical blocks with one CID shared by several shards, so losing one shard's block would lose the others'.
  const padded = new Uint8Array(size);
  padded.set(new Uint8Array(ct));
  fillRandom(padded.subarray(ct.byteLength));
  return padded.buffer;
}

function piecesOf(buffer: Uint8Array, count: number, pieceSize: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let i = 0; i < count; i++) out.push(buffer.subarray(i * pieceSize, (i + 1) * pieceSize));
  return out;
}

/** Reed-Solomon parity, piece digests (for CIDs) and piece Merkle roots of one encrypted segment. */
export async function encodePieces(ctx: CodecContext, req: EncodeRequest): Promise<EncodeResult> {
  const { k, m, pieceSize } = req;
  const data = new Uint8Array(req.ciphertext);
  if (data.length !== k * pieceSize) throw new RangeError(`expected ${k * pieceSize} bytes of ciphertext`);
  const parity = ctx.rs.encode(data, k, m, pieceSize);
  const pieces = [...piecesOf(data, k, pieceSize), ...piecesOf(parity, m, pieceSize)];
  // WebCrypto hashes on its own thread while this one computes the Merkle roots.
  const digestsPromise = Promise.all(pieces.map((p) => sha256(p)));
  const roots = new Uint8Array(pieces.length * 32);
  pieces.forEach((p, i) => {
    roots.set(ctx.hasher.pieceRoot(p, req.firstLeaf), i * 32);
  });
  const digests = new Uint8Array(pieces.length * SHA256_BYTES);
  (await digestsPromise).forEach((d, i) => {
    digests.set(d, i * SHA256_BYTES);
  });
  return { data: req.ciphertext, parity: parity.buffer, digests, roots };
}

/**
 * One segment from plaintext to stored pieces: AES-256-GCM, then Reed-Solomon inside the coder's WASM memory (the
 * short last segment padded with random bytes, as `encryptPieces` does), then each piece's sha2-256 and Merkle root
 * taken from there and the piece copied once into its own buffer, ready to be written as a block.
 */
export async function storeSegment(ctx: CodecContext, req: StoreSegmentRequest): Promise<StoreSegmentResult> {
  const { k, m, pieceSize } = req;
  const n = k + m;
  const ciphertext = await encryptSegment(
    req.key,
    req.fileId,
    req.index,
    new Uint8Array(req.plaintext, 0, req.plainLength),
  );
  if (ciphertext.byteLength > k * pieceSize) throw new RangeError(`segment ${req.index} does not fit in ${k} pieces`);
  // From here to the digests' copies, nothing awaits: the coder's memory is not touched by another segment.
  const coded = ctx.rs.encodeInPlace(new Uint8Array(ciphertext), k, m, pieceSize, fillRandom);
  const spare = req.spare ?? [];
  const unused = spare.filter((b) => b.byteLength !== pieceSize);
  const fitting = spare.filter((b) => b.byteLength === pieceSize);
  const pieces: ArrayBuffer[] = [];
  const digestPromises: Promise<Uint8Array>[] = [];
  const roots = new Uint8Array(n * KECCAK256_BYTES);
  for (let i = 0; i < n; i++) {
    const view = coded.subarray(i * pieceSize, (i + 1) * pieceSize);
    // WebCrypto copies its input before digest() returns, so the view can be reused right after.
    digestPromises.push(sha256(view));
    roots.set(ctx.hasher.pieceRoot(view, req.firstLeaf), i * KECCAK256_BYTES);
    const out = fitting.pop() ?? new ArrayBuffer(pieceSize);
    new Uint8Array(out).set(view);
    pieces.push(out);
  }
  unused.push(...fitting);
  const digests = new Uint8Array(n * SHA256_BYTES);
  (await Promise.all(digestPromises)).forEach((d, i) => {
    digests.set(d, i * SHA256_BYTES);
  });
  return { pieces, digests, roots, plaintext: req.plaintext, spare: unused };
}

/** Checks the given pieces against their digests; returns the intact ones (others undefined) and the bad indices. */
async function verifyPieces(
  pieces: (ArrayBuffer | null)[],
  digests: Uint8Array[],
  pieceSize: number,
): Promise<{ intact: (Uint8Array | undefined)[]; bad: number[]; count: number }> {
  const bad: number[] = [];
  const intact = await Promise.all(
    pieces.map(async (buffer, i) => {
      if (!buffer) return undefined;
      const bytes = new Uint8Array(buffer);
      const expected = digests[i];
      if (bytes.length !== pieceSize || !expected || !equalBytes(await sha256(bytes), expected)) {
        bad.push(i);
        return undefined;
      }
      return bytes;
    }),
  );
  bad.sort((a, b) => a - b);
  return { intact, bad, count: intact.filter(Boolean).length };
}

/**
 * The k data pieces end to end, inside the coder's WASM memory (valid until its next call): laid side by side when
 * all are intact, else rebuilt by Reed-Solomon from exactly k intact pieces (the fewer it copies in, the faster).
 */
function dataOf(ctx: CodecContext, intact: (Uint8Array | undefined)[], k: number, m: number, pieceSize: number) {
  const chosen: (Uint8Array | undefined)[] = new Array(k + m).fill(undefined);
  let taken = 0;
  for (let i = 0; i < k + m && taken < k; i++) {
    if (intact[i]) {
      chosen[i] = intact[i];
      taken++;
    }
  }
  return ctx.rs.reconstructInPlace(chosen, k, m, pieceSize);
}

/** Verifies, reconstructs when needed, and decrypts one segment. */
export async function decodePieces(ctx: CodecContext, req: DecodeRequest): Promise<DecodeResult> {
  const { k, m, pieceSize } = req;
  const { intact, bad, count } = await verifyPieces(req.pieces, req.digests, pieceSize);
  if (count < k) return { status: "too-few", bad, intact: count };
  const data = dataOf(ctx, intact, k, m, pieceSize);
  if (!data) return { status: "too-few", bad, intact: count };
  try {
    const plaintext = await decryptSegment(
      req.key,
      req.fileId,
      req.index,
      data.subarray(0, req.plainLength + AES_GCM_TAG_BYTES),
    );
    return { status: "ok", plaintext, bad };
  } catch {
    return { status: "corrupt", bad };
  }
}

/** Rebuilds pieces from any k intact others, without the key, and checks them against their digests. */
export async function repairPieces(ctx: CodecContext, req: RepairRequest): Promise<RepairResult> {
  const { k, m, pieceSize } = req;
  const { intact, bad, count } = await verifyPieces(req.pieces, req.digests, pieceSize);
  if (count < k) return { status: "too-few", bad, intact: count };
  const data = dataOf(ctx, intact, k, m, pieceSize);
  if (!data) return { status: "too-few", bad, intact: count };
  const needParity = req.targets.some((t) => t >= k);
  const all = needParity ? ctx.rs.encodeInPlace(data, k, m, pieceSize) : data;
  // Copied out before any await: the coder's memory belongs to whichever segment runs next.
  const rebuilt = req.targets.map((t) => all.slice(t * pieceSize, (t + 1) * pieceSize));
  for (const [j, t] of req.targets.entries()) {
    const expected = req.digests[t];
    if (!expected || !equalBytes(await sha256(rebuilt[j] as Uint8Array), expected)) return { status: "corrupt", bad };
  }
  return { status: "ok", rebuilt: rebuilt.map((b) => b.buffer), bad };
}

/** The codec run in the calling thread (tests, and browsers without module workers). */
export function localCodec(ctx: CodecContext): SegmentCodec {
  return {
    storeSegment: (req) => storeSegment(ctx, req),
    encrypt: (req) => encryptPieces(req),
    encode: (req) => encodePieces(ctx, req),
    decode: (req) => decodePieces(ctx, req),
    repair: (req) => repairPieces(ctx, req),
  };
}
