import { randomBytes } from "node:crypto";
import type { Libp2p } from "@libp2p/interface";
import { getAddress } from "viem";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createTcpNode } from "../../testing/tcp-node.ts";
import type { PaymentTerms } from "../pay/index.ts";
import {
  blobSource,
  decodeTicket,
  deriveKeys,
  encodeTicket,
  openChunk,
  PAID_CHUNK_BYTES,
  sealChunk,
  type Transfer,
  type TransferSink,
  type TransferSource,
  transfer,
} from "./index.ts";

type Node = Libp2p<{ transfer: Transfer }>;

const MiB = 1024 * 1024;

/** Byte equality without Vitest's element-by-element diffing (slow on megabytes). */
function same(a: Uint8Array | undefined, b: Uint8Array): boolean {
  return (
    a !== undefined &&
    Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
  );
}

/** A sink that keeps each file's bytes in memory and can run a hook after each write. */
function memorySink(
  sizes: number[],
  after?: (file: number, end: number) => void,
): TransferSink & { files: Uint8Array[] } {
  const files = sizes.map((size) => new Uint8Array(size));
  return {
    files,
    write: async (file, offset, bytes) => {
      (files[file] as Uint8Array).set(bytes, offset);
      after?.(file, offset + bytes.byteLength);
    },
  };
}

/** A source over bytes that counts what the sender read. */
function countingSource(
  name: string,
  bytes: Uint8Array,
  counter: { bytes: number; offsets: number[] },
): TransferSource {
  const source = blobSource(new Blob([bytes as Uint8Array<ArrayBuffer>]), name, "application/octet-stream");
  return {
    ...source,
    read: async (offset, length, options) => {
      counter.bytes += length;
      counter.offsets.push(offset);
      return await source.read(offset, length, options);
    },
  };
}

describe("transfer over TCP", () => {
  let sender: Node;
  let receiver: Node;

  beforeEach(async () => {
    sender = await createTcpNode({ transfer: transfer({ chunkBytes: 256 * 1024 }) });
    receiver = await createTcpNode({ transfer: transfer() });
  });

  afterEach(async () => {
    await Promise.all([sender.stop(), receiver.stop()]);
  });

  it("sends several files byte-identical, with progress and speed on both sides", async () => {
    const a = new Uint8Array(randomBytes(5 * MiB + 12_345));
    const b = new Uint8Array(randomBytes(700_001));
    const counter = { bytes: 0, offsets: [] as number[] };
    const senderProgress: number[] = [];
    const share = await sender.services.transfer.share(
      [
        countingSource("a.bin", a, counter),
        blobSource(new Blob([]), "empty.txt", "text/plain"),
        countingSource("b.bin", b, counter),
      ],
      { onProgress: (p) => senderProgress.push(p.bytes) },
    );
    expect(decodeTicket(share.link)).toEqual(share.ticket);

    const sink = memorySink([a.byteLength, 0, b.byteLength]);
    const speeds: number[] = [];
    let offered: string[] = [];
    const result = await receiver.services.transfer.receive(share.link, sink, {
      peer: sender.getMultiaddrs(),
      onOffer: (files) => {
        offered = files.map((f) => `${f.name}:${f.size}:${f.type}`);
        return true;
      },
      onProgress: (p) => speeds.push(p.bytesPerSecond),
    });
    await share.done;

    expect(offered).toEqual([
      `a.bin:${a.byteLength}:application/octet-stream`,
      "empty.txt:0:text/plain",
      `b.bin:${b.byteLength}:application/octet-stream`,
    ]);
    expect(result).toMatchObject({ totalBytes: a.byteLength + b.byteLength, attempts: 1 });
    expect(same(sink.files[0], a)).toBe(true);
    expect(same(sink.files[2], b)).toBe(true);
    expect(counter.bytes).toBe(a.byteLength + b.byteLength);
    expect(senderProgress.at(-1)).toBe(a.byteLength + b.byteLength);
    expect(speeds.some((s) => s > 0)).toBe(true);
    share.close();
  });

  it("resumes from the last acknowledged chunk after the connection is closed mid-way", async () => {
    const data = new Uint8Array(randomBytes(12 * MiB));
    const counter = { bytes: 0, offsets: [] as number[] };
    const share = await sender.services.transfer.share([countingSource("big.bin", data, counter)]);
    let dropped = false;
    const interruptions: number[] = [];
    const sink = memorySink([data.byteLength], (_file, end) => {
      if (!dropped && end >= 5 * MiB) {
        dropped = true;
        // The network goes away: every connection between the two tabs closes at once.
        for (const connection of receiver.getConnections(sender.peerId)) connection.abort(new Error("network lost"));
      }
    });
    const result = await receiver.services.transfer.receive(share.link, sink, {
      peer: sender.getMultiaddrs(),
      onInterrupted: (position) => interruptions.push(position),
    });

    expect(same(sink.files[0], data)).toBe(true);
    expect(result.attempts).toBe(2);
    expect(interruptions).toHaveLength(1);
    const resumedAt = interruptions[0] as number;
    expect(resumedAt).toBeGreaterThanOrEqual(5 * MiB);
    // The second session started where the first stopped: the only bytes read twice are the in-flight window.
    const secondStart = counter.offsets.find((offset, i) => i > 0 && offset < (counter.offsets[i - 1] as number));
    expect(secondStart).toBe(resumedAt);
    expect(counter.bytes).toBeLessThan(data.byteLength + 9 * MiB);
    share.close();
  });

  it("writes to a slow sink one chunk at a time, in order, while later chunks are already decrypted", async () => {
    const data = new Uint8Array(randomBytes(6 * MiB + 1234));
    const share = await sender.services.transfer.share([countingSource("slow.bin", data, { bytes: 0, offsets: [] })]);
    const files = [new Uint8Array(data.byteLength)];
    const writes: number[] = [];
    let writing = 0;
    let overlapping = false;
    const sink: TransferSink = {
      write: async (file, offset, bytes) => {
        writing += 1;
        if (writing > 1) overlapping = true;
        writes.push(offset);
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20));
        (files[file] as Uint8Array).set(bytes, offset);
        writing -= 1;
      },
    };
    await receiver.services.transfer.receive(share.link, sink, { peer: sender.getMultiaddrs() });
    expect(overlapping).toBe(false);
    expect(writes).toEqual(Array.from({ length: writes.length }, (_, i) => i * 256 * 1024));
    expect(writes).toHaveLength(Math.ceil(data.byteLength / (256 * 1024)));
    expect(same(files[0], data)).toBe(true);
    share.close();
  });

  it("refuses a receiver whose link has the wrong secret, without retrying", async () => {
    const share = await sender.services.transfer.share([blobSource(new Blob([new Uint8Array(1000)]), "x", "")]);
    const wrong = { ...share.ticket, secret: new Uint8Array(32).fill(7) };
    let interruptions = 0;
    await expect(
      receiver.services.transfer.receive(encodeTicket(wrong), memorySink([1000]), {
        peer: sender.getMultiaddrs(),
        onInterrupted: () => interruptions++,
      }),
    ).rejects.toMatchObject({ name: "RemoteRefusedError", code: "unknown-transfer" });
    expect(interruptions).toBe(0);
  });

  it("lets the receiver decline, and tells the sender", async () => {
    let declined = false;
    const share = await sender.services.transfer.share([blobSource(new Blob([new Uint8Array(10)]), "x", "")], {
      onDeclined: () => {
        declined = true;
      },
    });
    await expect(
      receiver.services.transfer.receive(share.link, memorySink([10]), {
        peer: sender.getMultiaddrs(),
        onOffer: () => false,
      }),
    ).rejects.toMatchObject({ name: "TransferDeclinedError" });
    await expect.poll(() => declined).toBe(true);
  });

  it("stops when the receiver aborts, with its reason and no reconnection", async () => {
    const data = new Uint8Array(randomBytes(4 * MiB));
    const share = await sender.services.transfer.share([blobSource(new Blob([data]), "x", "")]);
    const controller = new AbortController();
    const sink = memorySink([data.byteLength], (_file, end) => {
      if (end >= MiB) controller.abort(new Error("receiver cancelled"));
    });
    await expect(
      receiver.services.transfer.receive(share.link, sink, { peer: sender.getMultiaddrs(), signal: controller.signal }),
    ).rejects.toThrow("receiver cancelled");
  });

  it("gives up with TransferInterruptedError when the sender is gone", async () => {
    const share = await sender.services.transfer.share([blobSource(new Blob([new Uint8Array(10)]), "x", "")]);
    const addrs = sender.getMultiaddrs();
    await sender.stop();
    await expect(
      receiver.services.transfer.receive(share.link, memorySink([10]), { peer: addrs, maxAttempts: 2 }),
    ).rejects.toMatchObject({ name: "TransferInterruptedError", receivedBytes: 0 });
  });

  it("carries a paid share's terms in its link, and refuses a link whose terms are cut or tampered", async () => {
    const share = await sender.services.transfer.share([blobSource(new Blob([new Uint8Array(10)]), "x", "")], {
      payment: { terms: TERMS, admit: async () => Promise.reject(new Error("unused")) },
    });
    expect(share.link.length).toBeGreaterThan(0);
    expect(decodeTicket(share.link)).toEqual(share.ticket);
    expect(share.ticket.terms).toEqual(TERMS);
    const bytes = Buffer.from(share.link, "base64url");
    expect(() => decodeTicket(bytes.subarray(0, bytes.length - 3).toString("base64url"))).toThrow(
      expect.objectContaining({ name: "TransferLinkError" }),
    );
    // A price of 0 is no paid link.
    const free = Buffer.from(encodeTicket({ ...share.ticket, terms: { ...TERMS, pricePerMB: 0n } }), "base64url");
    expect(() => decodeTicket(free.toString("base64url"))).toThrow(
      expect.objectContaining({ name: "TransferLinkError" }),
    );
    share.close();
  });

  it("gates a paid share's chunks by its payee gate, and closes only once the last byte is paid", async () => {
    const data = new Uint8Array(randomBytes(3 * MiB + 5));
    const allowed: number[] = [];
    const payments: string[] = [];
    let paidUpTo = 0;
    let sentAtMost = 0;
    const share = await sender.services.transfer.share([blobSource(new Blob([data]), "p", "")], {
      payment: {
        terms: TERMS,
        admit: async (payment, session) => {
          expect(new TextDecoder().decode(payment.data)).toBe("open");
          expect(session).toMatchObject({ totalBytes: data.byteLength, position: 0 });
          return {
            allow: async (end) => {
              // Never more than one chunk beyond what was paid.
              while (end > paidUpTo + PAID_CHUNK_BYTES) await new Promise((r) => setTimeout(r, 5));
              allowed.push(end);
              sentAtMost = end;
            },
            receive: async (payment) => {
              const position = Number(new TextDecoder().decode(payment.data));
              expect(position).toBeLessThanOrEqual(sentAtMost);
              paidUpTo = position;
              return { scheme: "test", data: new TextEncoder().encode(`ok ${position}`) };
            },
            paid: (end) => paidUpTo >= end,
          };
        },
      },
    });
    const sink = memorySink([data.byteLength]);
    await receiver.services.transfer.receive(share.link, sink, {
      peer: sender.getMultiaddrs(),
      payer: () => ({
        opening: { scheme: "test", data: new TextEncoder().encode("open") },
        received: async (position) => ({ scheme: "test", data: new TextEncoder().encode(String(position)) }),
        answer: async (payment) => {
          payments.push(new TextDecoder().decode(payment.data));
          return undefined;
        },
      }),
    });
    await share.done;
    expect(same(sink.files[0], data)).toBe(true);
    expect(allowed.at(-1)).toBe(data.byteLength);
    expect(allowed.every((end, i) => i === 0 || end > (allowed[i - 1] as number))).toBe(true);
    // Every payment was answered, the last one (for the last byte) included, before the sender closed.
    expect(payments.at(-1)).toBe(`ok ${data.byteLength}`);
    expect(payments).toHaveLength(Math.ceil(data.byteLength / PAID_CHUNK_BYTES));
  });

  it("tells a receiver whose link lost its terms that the share is paid, and sends no byte unpaid", async () => {
    const share = await sender.services.transfer.share([blobSource(new Blob([new Uint8Array(1000)]), "q", "")], {
      payment: { terms: TERMS, admit: async () => Promise.reject(new Error("unused")) },
    });
    // A receiver given the link without its terms still learns them from the offer, and cannot take the bytes
    // without a way to pay.
    const { terms: _terms, ...free } = share.ticket;
    let offered: PaymentTerms | undefined;
    await expect(
      receiver.services.transfer.receive(free, memorySink([1000]), {
        peer: sender.getMultiaddrs(),
        onOffer: (_files, terms) => {
          offered = terms;
          return true;
        },
      }),
    ).rejects.toMatchObject({ name: "TransferLinkError" });
    expect(offered).toEqual(TERMS);
    share.close();
  });
});

describe("transfer chunk sealing", () => {
  it("opens only the chunk sealed for that transfer, file and offset", async () => {
    const id = crypto.getRandomValues(new Uint8Array(16));
    const keys = await deriveKeys(crypto.getRandomValues(new Uint8Array(32)), id);
    const other = await deriveKeys(crypto.getRandomValues(new Uint8Array(32)), id);
    const plain = crypto.getRandomValues(new Uint8Array(1000));
    const sealed = await sealChunk(keys, 2, 4096, plain);
    expect(await openChunk(keys, 2, 4096, sealed)).toEqual(plain);
    await expect(openChunk(keys, 2, 0, sealed)).rejects.toMatchObject({ name: "TransferIntegrityError" });
    await expect(openChunk(keys, 1, 4096, sealed)).rejects.toMatchObject({ name: "TransferIntegrityError" });
    await expect(openChunk(other, 2, 4096, sealed)).rejects.toMatchObject({ name: "TransferIntegrityError" });
    const flipped = sealed.slice();
    flipped[20] = (flipped[20] as number) ^ 1;
    await expect(openChunk(keys, 2, 4096, flipped)).rejects.toMatchObject({ name: "TransferIntegrityError" });
    await expect(openChunk(keys, 2, 4096, sealed.subarray(0, 20))).rejects.toMatchObject({
      name: "TransferIntegrityError",
    });
  });

  it("rejects malformed links", () => {
    expect(() => decodeTicket("not a link!")).toThrow(expect.objectContaining({ name: "TransferLinkError" }));
    expect(() => decodeTicket("AAAA")).toThrow(expect.objectContaining({ name: "TransferLinkError" }));
  });
});

const TERMS: PaymentTerms = {
  chainId: 31337,
  payee: getAddress("0x00000000000000000000000000000000000000aa"),
  pricePerMB: 10n ** 15n,
  schemes: ["bandwidth"],
};
