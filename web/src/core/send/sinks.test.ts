import { describe, expect, it } from "vitest";
import { type FileWriter, SequentialSink } from "./sinks.ts";

function memoryWriter(): FileWriter & { chunks: Uint8Array[]; closed: boolean; aborted: boolean } {
  const writer = {
    chunks: [] as Uint8Array[],
    closed: false,
    aborted: false,
    write: async (chunk: Uint8Array) => void writer.chunks.push(chunk),
    close: async () => {
      writer.closed = true;
    },
    abort: async () => {
      writer.aborted = true;
    },
  };
  return writer;
}

describe("SequentialSink", () => {
  it("writes each file front to back and refuses gaps or repeats", async () => {
    const [a, b] = [memoryWriter(), memoryWriter()];
    const sink = new SequentialSink([a, b]);
    await sink.write(0, 0, new Uint8Array(3));
    await sink.write(0, 3, new Uint8Array(2));
    await sink.write(1, 0, new Uint8Array(1));
    await expect(sink.write(0, 3, new Uint8Array(1))).rejects.toThrow(RangeError);
    await expect(sink.write(1, 5, new Uint8Array(1))).rejects.toThrow(RangeError);
    await expect(sink.write(2, 0, new Uint8Array(1))).rejects.toThrow(RangeError);
    expect(sink.written).toEqual([5, 1]);
    await sink.close();
    expect(a.closed && b.closed).toBe(true);
  });

  it("aborts every writer", async () => {
    const [a, b] = [memoryWriter(), memoryWriter()];
    await new SequentialSink([a, b]).abort();
    expect(a.aborted && b.aborted).toBe(true);
  });
});
