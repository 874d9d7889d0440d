import { BaseError } from "../../lib/errors.ts";

export class FileChangedError extends BaseError {
  override name = "FileChangedError";
  constructor(expected: number, got: number) {
    super(`The file changed while it was read (${got} bytes instead of ${expected}).`, {
      details: "Choose the file again once nothing else is writing to it.",
    });
  }
}

/**
 * Cuts a byte stream into segments of `segmentSize` bytes (the last one shorter), each a fresh ArrayBuffer that
 * can be transferred to a worker. Reads ahead by at most one segment.
 */
export async function* readSegments(
  stream: ReadableStream<Uint8Array>,
  totalBytes: number,
  segmentSize: number,
  signal?: AbortSignal,
): AsyncGenerator<{ index: number; plaintext: ArrayBuffer }> {
  const reader = stream.getReader();
  let index = 0;
  let read = 0;
  const sizeOf = (i: number) => Math.min(segmentSize, totalBytes - i * segmentSize);
  let current = new Uint8Array(Math.max(0, sizeOf(0)));
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
          yield { index, plaintext: current.buffer };
          index++;
          filled = 0;
          current = new Uint8Array(Math.max(0, sizeOf(index)));
          if (current.length === 0) break;
        }
      }
    }
    if (read !== totalBytes) throw new FileChangedError(totalBytes, read);
    // An empty file is still one (empty) segment, so it has a key commitment and pieces like any other.
    if (totalBytes === 0) yield { index: 0, plaintext: new ArrayBuffer(0) };
  } finally {
    reader.releaseLock();
  }
}
