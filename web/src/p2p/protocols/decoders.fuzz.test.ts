import { randomBytes } from "node:crypto";
import * as dagCbor from "@ipld/dag-cbor";
import type { Libp2p } from "@libp2p/interface";
import { MemoryBlockstore } from "blockstore-core";
import fc from "fast-check";
import * as lp from "it-length-prefixed";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { identity } from "multiformats/hashes/identity";
import { sha256 } from "multiformats/hashes/sha2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MemoryHost } from "../testing/memory-host.ts";
import { createTcpNode } from "../testing/tcp-node.ts";
import { decodeAnnouncement } from "./announce/index.ts";
import * as audit from "./audit/codec.ts";
import { AnnouncementInvalidError, MalformedMessageError } from "./common/errors.ts";
import { pieceCid, pieceMatches } from "./common/pieces.ts";
import * as pay from "./pay/index.ts";
import * as fetch from "./shard-fetch/codec.ts";
import * as store from "./shard-store/codec.ts";
import { SHARD_STORE_PROTOCOL, type ShardStore, shardStore } from "./shard-store/index.ts";
import * as transfer from "./transfer/codec.ts";
import * as proxy from "./transfer/proxy.ts";

const decoders: [string, (bytes: Uint8Array) => unknown][] = [
  ["shard-store client", store.decodeClientMessage],
  ["shard-store host", store.decodeHostMessage],
  ["shard-fetch requester", fetch.decodeRequesterMessage],
  ["shard-fetch host", fetch.decodeHostMessage],
  ["audit auditor", audit.decodeAuditorMessage],
  ["audit host", audit.decodeHostMessage],
  ["transfer receiver", transfer.decodeReceiverMessage],
  ["transfer sender", transfer.decodeSenderMessage],
  ["transfer file list", transfer.decodeFileList],
  ["transfer proxy route", proxy.decodeRouteMessage],
  ["transfer proxy ready", proxy.decodeReadyMessage],
  ["payment terms", pay.decodeTerms],
  ["bandwidth payment", pay.decodeBandwidthMessage],
  ["hash-chain payment", pay.decodeHashChainMessage],
  ["Merkle payment", pay.decodeMerkleMessage],
  ["lottery payment", pay.decodeLotteryMessage],
];

/** The only way a decoder may fail: a named MalformedMessageError. Anything it returns must re-encode. */
function decodesOrRefuses(decode: (bytes: Uint8Array) => unknown, bytes: Uint8Array): void {
  try {
    decode(bytes);
  } catch (error) {
    if (!(error instanceof MalformedMessageError)) throw error;
  }
}

const sha = await sha256.digest(new Uint8Array([1]));
const cids = [
  CID.createV1(raw.code, sha),
  CID.createV1(dagCbor.code, sha),
  CID.createV0(sha),
  CID.createV1(raw.code, identity.digest(new Uint8Array([1, 2, 3]))),
];
const fieldNames = [
  "t",
  "deal",
  "manifest",
  "shard",
  "root",
  "pieces",
  "sizes",
  "i",
  "data",
  "need",
  "receipt",
  "sig",
  "code",
  "msg",
  "scheme",
  "cids",
  "cid",
  "leaf",
  "path",
  "id",
  "auth",
  "pos",
  "meta",
  "chunk",
  "file",
  "off",
  "files",
  "name",
  "size",
  "type",
  "v",
  "host",
  "client",
  "count",
  "bytes",
  "at",
  "to",
  "pay",
  "proxy",
  "__proto__",
  "constructor",
];
const typeNames = [
  "offer",
  "piece",
  "payment",
  "accept",
  "ack",
  "receipt",
  "error",
  "want",
  "paid",
  "done",
  "block",
  "missing",
  "challenge",
  "proof",
  "hello",
  "decline",
  "chunk",
  "done",
  "have",
  "held",
  "route",
  "ready",
  "x",
];

/** Any value dag-cbor can carry, biased towards the shapes the protocols use. */
const { value: cborValue } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.nat(),
    fc.constantFrom(0, 1, 31, 32, 255, 256, 2 ** 20, 2 ** 32, Number.MAX_SAFE_INTEGER),
    fc.bigInt({ min: -(2n ** 64n) + 1n, max: 2n ** 64n - 1n }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.string({ maxLength: 40 }),
    fc.constantFrom(...typeNames),
    fc.uint8Array({ maxLength: 80 }),
    fc.constantFrom(12, 16, 28, 32, 33, 64).map((n) => new Uint8Array(n)),
    fc.constantFrom(...cids),
    fc.array(tie("value"), { maxLength: 6 }),
    fc.dictionary(fc.constantFrom(...fieldNames), tie("value"), { maxKeys: 8 }),
  ),
}));

const message = fc
  .tuple(fc.constantFrom(...typeNames), fc.dictionary(fc.constantFrom(...fieldNames), cborValue, { maxKeys: 10 }))
  .map(([t, fields]) => ({ ...fields, t }));

describe("protocol decoders under fuzzing", () => {
  it.each(decoders)("%s: arbitrary bytes decode or throw MalformedMessageError", (_name, decode) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => decodesOrRefuses(decode, bytes)),
      { numRuns: 2_000 },
    );
  });

  it.each(decoders)("%s: arbitrary dag-cbor maps decode or throw MalformedMessageError", (_name, decode) => {
    fc.assert(
      fc.property(message, (value) => {
        let bytes: Uint8Array;
        try {
          bytes = dagCbor.encode(value);
        } catch {
          return; // not representable in dag-cbor (e.g. a key order quirk); nothing to send
        }
        decodesOrRefuses(decode, bytes);
      }),
      { numRuns: 1_500 },
    );
  });

  it("valid messages survive a round trip, and their mutations decode or are refused", async () => {
    const piece = new Uint8Array(randomBytes(100));
    const cid = await pieceCid(piece);
    const valid: [(bytes: Uint8Array) => unknown, (m: never) => Uint8Array, unknown][] = [
      [
        store.decodeClientMessage,
        store.encodeClientMessage,
        {
          type: "offer",
          dealId: null,
          manifest: cids[1],
          shardIndex: 3,
          root: new Uint8Array(32),
          pieces: [cid, cid],
          sizes: [100, 100],
        },
      ],
      [store.decodeClientMessage, store.encodeClientMessage, { type: "piece", index: 1, bytes: piece }],
      [store.decodeHostMessage, store.encodeHostMessage, { type: "accept", need: [0, 2, 5] }],
      [fetch.decodeRequesterMessage, fetch.encodeRequesterMessage, { type: "want", cids: [cid, cids[1]] }],
      [fetch.decodeHostMessage, fetch.encodeHostMessage, { type: "block", cid, bytes: piece }],
      [
        fetch.decodeRequesterMessage,
        fetch.encodeRequesterMessage,
        { type: "paid", total: 4_000_000, scheme: "bandwidth", data: new Uint8Array([1, 2, 3]) },
      ],
      [fetch.decodeRequesterMessage, fetch.encodeRequesterMessage, { type: "done" }],
      [fetch.decodeHostMessage, fetch.encodeHostMessage, { type: "payment", scheme: "bandwidth", data: piece }],
      [audit.decodeHostMessage, audit.encodeHostMessage, { type: "proof", leaf: piece, proof: [new Uint8Array(32)] }],
      [
        transfer.decodeSenderMessage,
        transfer.encodeSenderMessage,
        { type: "chunk", file: 2, offset: 1024, sealed: piece },
      ],
      [transfer.decodeReceiverMessage, transfer.encodeReceiverMessage, { type: "ack", position: 2 ** 40 }],
      [
        pay.decodeTerms,
        pay.encodeTerms,
        {
          chainId: 31337,
          payee: "0x00000000000000000000000000000000000000AA",
          pricePerMB: 10n ** 15n,
          schemes: ["bandwidth", "lottery"],
        },
      ],
      [
        pay.decodeBandwidthMessage,
        pay.encodeBandwidthMessage,
        {
          type: "unit",
          unit: {
            usage: {
              channelId: 7n,
              sequence: 3n,
              totalBytes: 5_000_001n,
              time: 1_700_000_000n,
              link: `0x${"ab".repeat(32)}`,
            },
            signature: `0x${"cd".repeat(65)}`,
          },
        },
      ],
      [
        pay.decodeBandwidthMessage,
        pay.encodeBandwidthMessage,
        { type: "sign", sequence: 3n, signature: `0x${"ef".repeat(65)}` },
      ],
      [pay.decodeHashChainMessage, pay.encodeHashChainMessage, { type: "open", channelId: `0x${"12".repeat(32)}` }],
      [
        pay.decodeHashChainMessage,
        pay.encodeHashChainMessage,
        { type: "token", depth: 68, preimage: `0x${"34".repeat(32)}` },
      ],
      [
        pay.decodeMerkleMessage,
        pay.encodeMerkleMessage,
        {
          type: "tokens",
          tokens: [
            { index: 5, treeIndex: 140, proof: [`0x${"56".repeat(32)}`, `0x${"78".repeat(32)}`] },
            { index: 6, treeIndex: 139, proof: [`0x${"9a".repeat(32)}`] },
          ],
        },
      ],
      [pay.decodeLotteryMessage, pay.encodeLotteryMessage, { type: "open", lotId: 7n }],
      [
        pay.decodeLotteryMessage,
        pay.encodeLotteryMessage,
        {
          type: "tickets",
          tickets: [
            { index: 0, nonce: 2n ** 255n + 3n, signature: `0x${"ab".repeat(65)}` },
            { index: 99, nonce: 1n, signature: `0x${"cd".repeat(65)}` },
          ],
        },
      ],
    ];
    for (const [decode, encode, original] of valid) {
      const bytes = encode(original as never);
      expect(encode(decode(bytes) as never)).toEqual(bytes);
      fc.assert(
        fc.property(fc.nat(bytes.length - 1), fc.nat(255), fc.nat(bytes.length), (at, xor, cut) => {
          const mutated = bytes.slice(0, Math.max(cut, at + 1));
          mutated[at] = (mutated[at] as number) ^ (xor || 1);
          decodesOrRefuses(decode, mutated);
        }),
        { numRuns: 500 },
      );
    }
  });

  it("announcements: arbitrary bytes are refused with AnnouncementInvalidError", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.uint8Array({ maxLength: 300 }),
          message.map((m) => dagCbor.encode({ p: dagCbor.encode(m), s: new Uint8Array(64) })),
        ),
        async (bytes) => {
          await expect(decodeAnnouncement(bytes)).rejects.toBeInstanceOf(AnnouncementInvalidError);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe("a shard-store host under fuzzed streams", () => {
  let client: Libp2p;
  let host: Libp2p<{ shardStore: ShardStore }>;
  const blocks = new MemoryBlockstore();
  const role = new MemoryHost(blocks);

  beforeAll(async () => {
    client = await createTcpNode({});
    host = await createTcpNode({ shardStore: shardStore({ host: role.shardStore(), timeoutMs: 300 }) });
  });

  afterAll(async () => {
    await Promise.all([client.stop(), host.stop()]);
  });

  it("never stores a block that does not match its CID, and keeps serving", async () => {
    const pieces: { bytes: Uint8Array; cid: CID }[] = await Promise.all(
      [1, 2, 3].map(async () => {
        const bytes = new Uint8Array(randomBytes(64));
        return { bytes, cid: await pieceCid(bytes) };
      }),
    );
    const manifest = CID.createV1(dagCbor.code, sha);
    const offer = store.encodeClientMessage({
      type: "offer",
      dealId: null,
      manifest,
      shardIndex: 0,
      root: new Uint8Array(32),
      pieces: pieces.map((p) => p.cid),
      sizes: pieces.map(() => 64),
    });
    // What a hostile client can send after a valid offer: right pieces, corrupted ones, wrong indexes, garbage.
    const frame = fc.oneof(
      fc
        .nat(2)
        .map((i) =>
          store.encodeClientMessage({ type: "piece", index: i, bytes: (pieces[i] as { bytes: Uint8Array }).bytes }),
        ),
      fc.tuple(fc.nat(2), fc.nat(63), fc.integer({ min: 1, max: 255 })).map(([i, at, xor]) => {
        const bytes = (pieces[i] as { bytes: Uint8Array }).bytes.slice();
        bytes[at] = (bytes[at] as number) ^ xor;
        return store.encodeClientMessage({ type: "piece", index: i, bytes });
      }),
      fc.constant(store.encodeClientMessage({ type: "payment", scheme: "hash-chain", data: new Uint8Array(8) })),
      message.map((m) => {
        try {
          return dagCbor.encode(m);
        } catch {
          return new Uint8Array([0xa0]);
        }
      }),
      fc.uint8Array({ maxLength: 100 }),
    );
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.array(frame, { maxLength: 6 }), async (withOffer, frames) => {
        const stream = await client.dialProtocol(host.getMultiaddrs(), SHARD_STORE_PROTOCOL);
        const ended = new Promise<void>((resolve) => stream.addEventListener("close", () => resolve(), { once: true }));
        try {
          for (const bytes of withOffer ? [offer, ...frames] : frames) stream.send(lp.encode.single(bytes));
          await stream.close();
        } catch {
          // the host may reset the stream before we are done: that is a correct answer to garbage
        }
        try {
          for await (const _ of stream) {
            // drain the host's answers
          }
        } catch {
          // reset by the host: a correct answer to garbage
        }
        await ended;
      }),
      { numRuns: 80 },
    );
    for await (const { cid, bytes } of blocks.getAll()) {
      const chunks: Uint8Array[] = [];
      for await (const chunk of bytes) chunks.push(chunk);
      expect(await pieceMatches(cid, chunks[0] as Uint8Array)).toBe(true);
    }
    // Still a working host afterwards.
    const peerClient = await createTcpNode({ shardStore: shardStore() });
    const result = await peerClient.services.shardStore.storeShard(host.getMultiaddrs(), {
      manifest,
      shardIndex: 1,
      root: new Uint8Array(32),
      pieces: pieces.map((p) => p.cid),
      sizes: pieces.map(() => 64),
      readPiece: async (i) => (pieces[i] as { bytes: Uint8Array }).bytes,
    });
    expect(result.receipt.pieceCount).toBe(3);
    await peerClient.stop();
  });
});
