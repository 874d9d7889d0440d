/** A small file's shards and hosts that serve them, for the download's unit tests: no libp2p, no codec. */
import type { DialTarget } from "@libp2p/interface";
import type { CID } from "multiformats/cid";
import { rawCid } from "../../../../lib/cid.ts";
import type { Manifest } from "../../../../lib/manifest.ts";
import { pseudoRandomBytes } from "../../../../lib/testing/node-wasm.ts";
import { PieceMismatchError } from "../../../../p2p/protocols/common/errors.ts";
import type { FetchedPiece } from "../../../../p2p/protocols/shard-fetch/index.ts";

/** A manifest of `n` shards of `segments` pieces each (k of them decode), and every piece's bytes by CID. */
export async function fakeShards(n: number, segments: number, k = 2) {
  const bytes = new Map<string, Uint8Array>();
  const shards = [];
  for (let shard = 0; shard < n; shard++) {
    const pieces: CID[] = [];
    for (let seg = 0; seg < segments; seg++) {
      const piece = pseudoRandomBytes(32, shard * 1000 + seg + 1);
      const cid = await rawCid(piece);
      bytes.set(cid.toString(), piece);
      pieces.push(cid);
    }
    shards.push({ size: 32 * segments, root: new Uint8Array(32), pieces });
  }
  const manifest = { k, m: n - k, segmentCount: segments, shards } as unknown as Manifest;
  return { manifest, bytes };
}

/** How a fake host serves: the pieces it has, or a piece that does not match its CID. */
export interface FakeHost {
  /** Shards it holds (it answers "not held" for the others). */
  shards: number[];
  /** Serves a piece that does not match its CID. */
  bad?: boolean;
}

/** The dial target of a fake host: its name. */
export function targetOf(host: string): DialTarget {
  return { host } as unknown as DialTarget;
}

function hostOf(target: DialTarget): string {
  return (target as unknown as { host: string }).host;
}

/** A shard-fetch client over fake hosts; it records each request as [host, number of pieces asked]. */
export function fakeShardFetch(
  manifest: Manifest,
  bytes: ReadonlyMap<string, Uint8Array>,
  hosts: Record<string, FakeHost>,
) {
  const requests: [string, number][] = [];
  const shardOf = new Map(manifest.shards.flatMap((s, shard) => s.pieces.map((p) => [p.toString(), shard] as const)));
  return {
    requests,
    shardFetch: {
      async holds(target: DialTarget, cids: readonly CID[]): Promise<CID[]> {
        const host = hosts[hostOf(target)];
        return cids.filter((cid) => host?.shards.includes(shardOf.get(cid.toString()) ?? -1));
      },
      async *fetchPieces(
        target: DialTarget,
        cids: readonly CID[],
        options: { signal?: AbortSignal } = {},
      ): AsyncGenerator<FetchedPiece> {
        const name = hostOf(target);
        requests.push([name, cids.length]);
        const host = hosts[name];
        for (const cid of cids) {
          options.signal?.throwIfAborted();
          await Promise.resolve();
          const held = host?.shards.includes(shardOf.get(cid.toString()) ?? -1);
          if (held && host?.bad) throw new PieceMismatchError(cid.toString());
          yield { cid, bytes: held ? bytes.get(cid.toString()) : undefined };
        }
      },
    },
  };
}
