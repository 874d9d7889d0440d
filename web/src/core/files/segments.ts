import { BaseError } from "../../lib/errors.ts";

export class FileChangedError extends BaseError {
  override name = "FileChangedError";
  constructor(expected: number, got: number) {
    super(`The file changed while it was read (${got} bytes instead of ${expected}).`, {
      details: "Choose the file again once nothing else is writing to it.",
    });
  }
}

export interface Segment {
  index: number;
  /** The segment's bytes are the first `length` bytes of this buffer, which may be longer (it is recycled). */
  plaintext: ArrayBuffer;
  length: number;
}

export interface ReadSegmentsOptions {
  signal?: AbortSignal;
  /**
   * Hands out a recycled buffer of at least `segmentSize` bytes, or undefined for a fresh one: the pipeline gives
   * segment buffers back once the workers are done with them, so a file of any size goes through a few buffers.
   */
  reuse?: () => ArrayBuffer | undefined;
}

/**
 * Cuts a byte stream into segments of `segmentSize` bytes (the last one shorter), each in an ArrayBuffer of its own
 * that can be transferred to a worker. Reads ahead by at most one segment.
 *
 * Chunks are copied into the segment buffers rather than read into them with a BYOB reader: in Chromium 156 a BYOB
 * read of File.stream() stopped resolving after a few segments when reads paused for the workers (seen with a File
 * built from in-memory bytes), and the copy costs far less than the segment's encryption.
 */
export async function* readSegments(
  stream: ReadableStream<Uint8Array>,
  totalBytes: number,
  segmentSize: number,
  options: ReadSegmentsOptions | AbortSignal = {},
): AsyncGenerator<Segment> {
  const { signal, reuse } = options instanceof AbortSignal ? { signal: options, reuse: undefined } : options;
  const sizeOf = (i: number) => Math.max(0, Math.min(segmentSize, totalBytes - i * segmentSize));
  const bufferFor = (length: number): ArrayBuffer => {
    const recycled = reuse?.();
    return recycled && recycled.byteLength >= length ? recycled : new ArrayBuffer(length);
  };
  const reader = stream.getReader();
  let index = 0;
  let read = 0;
  let current = new Uint8Array(bufferFor(sizeOf(0)), 0, sizeOf(0));
  let filled = 0;
  try {
    for (;;) {
      signal?.throwIfAborted();
      const { done, value } = await reader.read();
      if (done) break;
      let offset = 0;
      read += value.length;
      if (read > totalBytes) throw new FileChangedError(totalBytes, read);
      while (offset < value.length) {
        const n = Math.min(current.length - filled, value.length - offset);
        current.set(value.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === current.length) {
          yield { index, plaintext: current.buffer as ArrayBuffer, length: current.length };
          index++;
          filled = 0;
          const length = sizeOf(index);
          if (length === 0) break;
          current = new Uint8Array(bufferFor(length), 0, length);
        }
      }
    }
    if (read !== totalBytes) throw new FileChangedError(totalBytes, read);
    // An empty file is still one (empty) segment, so it has a key commitment and pieces like any other.
    if (totalBytes === 0) yield { index: 0, plaintext: current.buffer as ArrayBuffer, length: 0 };
  } finally {
    reader.releaseLock();
  }
}
