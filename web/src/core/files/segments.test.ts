import { describe, expect, it } from "vitest";
import { pseudoRandomBytes } from "../../lib/testing/node-wasm.ts";
import { FileChangedError, readSegments, type Segment } from "./segments.ts";

/** A byte stream, as File.stream() is in Chromium, that hands out at most `chunk` bytes per read. */
function byteStream(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    type: "bytes",
    pull(controller) {
      const request = controller.byobRequest;
      if (offset >= bytes.length) {
        controller.close();
        request?.respond(0);
        return;
      }
      if (request?.view) {
        const view = new Uint8Array(request.view.buffer, request.view.byteOffset, request.view.byteLength);
        const n = Math.min(chunk, view.length, bytes.length - offset);
        view.set(bytes.subarray(offset, offset + n));
        offset += n;
        request.respond(n);
      } else {
        const n = Math.min(chunk, bytes.length - offset);
        controller.enqueue(bytes.slice(offset, offset + n));
        offset += n;
      }
    },
  }) as ReadableStream<Uint8Array>;
}

function chunkStream(bytes: Uint8Array, chunk: number): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (let off = 0; off < bytes.length; off += chunk) controller.enqueue(bytes.slice(off, off + chunk));
      controller.close();
    },
  });
}

async function collect(segments: AsyncGenerator<Segment>, recycle: ArrayBuffer[] | undefined) {
  const out: Uint8Array[] = [];
  const buffers = new Set<ArrayBuffer>();
  for await (const s of segments) {
    out.push(new Uint8Array(s.plaintext, 0, s.length).slice());
    buffers.add(s.plaintext);
    recycle?.push(s.plaintext);
  }
  return { out, buffers };
}

describe("readSegments", () => {
  for (const [kind, make] of [
    ["byte stream", byteStream],
    ["chunked stream", chunkStream],
  ] as const) {
    it(`cuts a ${kind} into segments and reuses the buffers it is given back`, async () => {
      const data = pseudoRandomBytes(10_000, 1);
      const pool: ArrayBuffer[] = [];
      let reused = 0;
      const reuse = () => {
        const buffer = pool.pop();
        if (buffer) reused++;
        return buffer;
      };
      const { out, buffers } = await collect(readSegments(make(data, 777), data.length, 4096, { reuse }), pool);
      expect(out.map((s) => s.length)).toEqual([4096, 4096, 1808]);
      expect(out.flatMap((s) => [...s])).toEqual([...data]);
      // Each segment's buffer went back to the pool before the next was read, and was filled again.
      expect(reused).toBe(2);
      expect(buffers.size).toBe(1);
    });

    it(`says the file changed when a ${kind} is longer or shorter than its size`, async () => {
      const data = pseudoRandomBytes(5000, 2);
      await expect(collect(readSegments(make(data, 1000), 4000, 4096), undefined)).rejects.toThrow(FileChangedError);
      await expect(collect(readSegments(make(data, 1000), 6000, 4096), undefined)).rejects.toThrow(FileChangedError);
    });

    it(`gives one empty segment for an empty ${kind}`, async () => {
      const { out } = await collect(readSegments(make(new Uint8Array(), 100), 0, 4096), undefined);
      expect(out).toEqual([new Uint8Array()]);
    });
  }
});
