/**
 * The bench page (bench/index.html): `window.tabulaBench.run()` measures each stage in a worker, IndexedDB from the page,
 * and the whole pipeline (storeFile / openFile with the worker pool and the real IndexedDB). scripts/bench.ts
 * drives it in headless Chromium and samples memory from outside while it runs.
 */
import * as Comlink from "comlink";
import { openFile } from "../../web/src/core/files/open-file.ts";
import { storeFile } from "../../web/src/core/files/store-file.ts";
import { randomBytes } from "../../web/src/lib/bytes.ts";
import { FilesDB } from "../../web/src/storage/files-db.ts";
import { WorkerPool } from "../../web/workers/pool.ts";
import type { BenchWorkerApi } from "../bench.worker.ts";
import type { KernelName } from "./kernels.ts";

const MiB = 1024 * 1024;

/**
 * Marks a phase for scripts/bench.ts, which reads the CPU time of all of Chromium's processes at each mark (through
 * a function it exposes on the page) and waits for it, so the page's own timing starts after the reading. Without
 * the script (the page opened by hand) it does nothing.
 */
async function phase(label: string): Promise<void> {
  await (globalThis as { tabulaBenchPhase?: (label: string) => Promise<void> }).tabulaBenchPhase?.(label);
}

const log = (line: string) => {
  console.log(line);
  const pre = document.getElementById("log");
  if (pre) pre.textContent += `${line}\n`;
};

/**
 * A file of `bytes` bytes: one random Blob of 4 MiB - 8 bytes referenced over and over, each time behind an 8-byte
 * header with the chunk's number, so every 4 MiB of the file starts with its number. Whole Blobs are references,
 * so the file costs ~4 MiB however large it is. (Slicing the random Blob for each chunk would not: Chromium copies
 * a slice of an in-memory Blob, so a 1 GiB file built from slices put 1 GiB into the browser's Blob storage, paged
 * to disk while the pipeline ran, and reading it failed with "network error" when Blob storage ran short.)
 */
function syntheticFile(bytes: number): File {
  const chunk = randomBytes(4 * MiB);
  const body = new Blob([chunk.subarray(8)]);
  const parts: BlobPart[] = [];
  for (let off = 0, i = 0; off < bytes; off += chunk.length, i++) {
    const header = new Uint8Array(8);
    new DataView(header.buffer).setFloat64(0, i);
    const length = Math.min(chunk.length, bytes - off);
    parts.push(header.subarray(0, Math.min(8, length)));
    if (length > 8) parts.push(length === chunk.length ? body : body.slice(0, length - 8));
  }
  return new File(parts, "bench.bin", { type: "application/octet-stream" });
}

async function kernels(totalBytes: number): Promise<Record<string, number>> {
  const worker = new Worker(new URL("../bench.worker.ts", import.meta.url), { type: "module" });
  const api = Comlink.wrap<BenchWorkerApi>(worker);
  const run = (name: KernelName, k?: number, m?: number) =>
    api.run({ name, totalBytes, ...(k ? { k } : {}), ...(m ? { m } : {}) });
  const out: Record<string, number> = {};
  out.copy_MBps = await run("copy");
  out.aes_gcm_encrypt_MBps = await run("aes_gcm_encrypt");
  out.sha256_MBps = await run("sha256");
  out.keccak_merkle_MBps = await run("keccak_merkle");
  out.rs_encode_10_4_MBps = await run("rs_encode", 10, 4);
  out.rs_reconstruct_10_4_MBps = await run("rs_reconstruct", 10, 4);
  out.rs_encode_4_2_MBps = await run("rs_encode", 4, 2);
  out.rs_reconstruct_4_2_MBps = await run("rs_reconstruct", 4, 2);
  worker.terminate();
  return out;
}

async function idb(totalBytes: number): Promise<Record<string, number>> {
  const name = `tabula-bench-idb-${Date.now()}`;
  const db = await FilesDB.open(name);
  // Random throughout, as ciphertext is: Chromium compresses large values (Snappy) before it writes them, so a
  // block that is mostly zeros would measure the compressor, not the writes.
  const block = randomBytes(MiB);
  const count = Math.round(totalBytes / MiB);
  const cids = Array.from({ length: count }, (_, i) => `block-${i}`);
  const batch = 24;
  await phase("idb-write-start");
  let start = performance.now();
  const writes: Promise<void>[] = [];
  for (let i = 0; i < count; i += batch) {
    writes.push(db.putBlocks(cids.slice(i, i + batch).map((cid) => ({ cid, bytes: block }))));
    if (writes.length >= 2) await writes.shift();
  }
  await Promise.all(writes);
  const writeMs = performance.now() - start;
  await phase("idb-write-end");
  start = performance.now();
  let read = 0;
  for (let i = 0; i < count; i += 4) {
    const blobs = await db.getBlocks(cids.slice(i, i + 4));
    for (const b of await Promise.all(blobs.map((x) => (x as Blob).arrayBuffer()))) read += b.byteLength;
  }
  const readMs = performance.now() - start;
  db.close();
  await new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(name);
    req.onsuccess = req.onerror = req.onblocked = resolve;
  });
  return {
    idb_write_MBps: (count * MiB) / 1e6 / (writeMs / 1000),
    idb_read_MBps: read / 1e6 / (readMs / 1000),
  };
}

async function pipeline(bytes: number, k = 4, m = 2): Promise<Record<string, number>> {
  const dbName = `tabula-bench-pipeline-${Date.now()}`;
  const db = await FilesDB.open(dbName);
  const pool = new WorkerPool();
  await pool.ready();
  const file = syntheticFile(bytes);

  await phase("encode-start");
  let start = performance.now();
  const stored = await storeFile({ codec: pool, store: db }, file, { k, m });
  const encodeMs = performance.now() - start;
  await phase("encode-end");

  await phase("decode-start");
  start = performance.now();
  const { stream } = await openFile({ codec: pool, store: db }, stored.cid, stored.rawKey);
  let received = 0;
  let mismatches = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    // Spot check: every 4 MiB of the synthetic file starts with its chunk number.
    for (let off = (4 * MiB - (received % (4 * MiB))) % (4 * MiB); off + 8 <= value.length; off += 4 * MiB) {
      const chunk = Math.round((received + off) / (4 * MiB));
      if (new DataView(value.buffer, value.byteOffset + off, 8).getFloat64(0) !== chunk) mismatches++;
    }
    received += value.length;
  }
  const decodeMs = performance.now() - start;
  await phase("decode-end");
  if (received !== bytes || mismatches > 0) throw new Error(`decoded ${received} bytes, ${mismatches} mismatches`);
  pool.terminate();
  db.close();
  await new Promise((resolve) => {
    const req = indexedDB.deleteDatabase(dbName);
    req.onsuccess = req.onerror = req.onblocked = resolve;
  });
  return {
    encode_MBps: bytes / 1e6 / (encodeMs / 1000),
    decode_MBps: bytes / 1e6 / (decodeMs / 1000),
    encodeMs,
    decodeMs,
  };
}

/**
 * The encode pipeline with every piece dropped instead of written (workers, AES-GCM, Reed-Solomon, hashes and
 * Merkle roots all run): set beside `pipeline`'s encode figure, the difference is what IndexedDB costs.
 */
async function encodeWithoutStorage(bytes: number, k = 4, m = 2): Promise<Record<string, number>> {
  const pool = new WorkerPool();
  await pool.ready();
  const nowhere = { putBlocks: async () => {}, deleteBlocks: async () => {}, putFile: async () => {} };
  const file = syntheticFile(bytes);
  await phase("encode-start");
  const start = performance.now();
  await storeFile({ codec: pool, store: nowhere }, file, { k, m });
  const encodeMs = performance.now() - start;
  await phase("encode-end");
  pool.terminate();
  return { encode_MBps: bytes / 1e6 / (encodeMs / 1000), encodeMs };
}

const bench = {
  async kernels(totalBytes = 256 * MiB) {
    const r = await kernels(totalBytes);
    log(JSON.stringify(r));
    return r;
  },
  async idb(totalBytes = 256 * MiB) {
    const r = await idb(totalBytes);
    log(JSON.stringify(r));
    return r;
  },
  async encodeWithoutStorage(bytes = 256 * MiB, k = 4, m = 2) {
    const r = await encodeWithoutStorage(bytes, k, m);
    log(JSON.stringify(r));
    return r;
  },
  async pipeline(bytes = 256 * MiB, k = 4, m = 2) {
    const r = await pipeline(bytes, k, m);
    log(JSON.stringify(r));
    return r;
  },
};

Object.assign(globalThis, { tabulaBench: bench });
document.getElementById("status")?.replaceChildren("ready");
