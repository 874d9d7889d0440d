import type { CID } from "multiformats/cid";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { Manifest } from "../../../lib/manifest.ts";
import type { FetchedPiece } from "../../../p2p/protocols/shard-fetch/index.ts";
import { HostStalledError } from "../errors.ts";
import { AHEAD_SEGMENTS, FETCH_STALL_MS } from "./constants.ts";
import { PieceBuffer } from "./piece-buffer.ts";
import { DownloadProgress } from "./progress.ts";
import { NotHeldError, ShardStream, type ShardStreamEnd } from "./shard-stream.ts";
import { fakeShardFetch, fakeShards, targetOf } from "./testing/fake-shards.ts";

/** Lets every pending promise and callback run (no timer fires: they are fake). */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** A fetch that serves pieces after `delaysMs[i]` each (fake time), then hangs, ignoring its signal, when told to. */
function pacedFetch(bytes: ReadonlyMap<string, Uint8Array>, delaysMs: number[], hangAfter = Infinity) {
  return {
    async *fetchPieces(_target: unknown, cids: readonly CID[]): AsyncGenerator<FetchedPiece> {
      for (const [index, cid] of cids.entries()) {
        if (index >= hangAfter) await new Promise(() => {});
        const delayMs = delaysMs[index] ?? 0;
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        yield { cid, bytes: bytes.get(cid.toString()) };
      }
    },
  };
}

async function setup(segments: number) {
  const { manifest, bytes } = await fakeShards(3, segments);
  const download = new AbortController();
  const buffer = new PieceBuffer(manifest, download.signal);
  const progress = new DownloadProgress();
  const succeeded: string[] = [];
  const verified: number[] = [];
  const stream = (
    shardFetch: { fetchPieces: (...args: never[]) => AsyncGenerator<FetchedPiece> },
    from = 0,
  ): { stream: ShardStream; outcome: () => { end?: ShardStreamEnd; error?: unknown } | undefined } => {
    const s = new ShardStream(
      {
        shardFetch: shardFetch as unknown as ConstructorParameters<typeof ShardStream>[0]["shardFetch"],
        hosts: { list: () => [] },
        providers: { dial: async (host) => targetOf(host), succeeded: (host) => void succeeded.push(host) },
        buffer,
        progress,
      },
      {
        host: "a",
        shard: 1,
        pieces: (manifest as Manifest).shards[1]?.pieces ?? [],
        pieceBytes: 32,
        from,
        signal: download.signal,
        onVerified: (v) => void verified.push(v.next),
      },
    );
    let result: { end?: ShardStreamEnd; error?: unknown } | undefined;
    s.run().then(
      (end) => {
        result = { end };
      },
      (error: unknown) => {
        result = { error };
      },
    );
    return { stream: s, outcome: () => result };
  };
  const piece = (seg: number) => String(manifest.shards[1]?.pieces[seg]);
  return { manifest, bytes, download, buffer, progress, succeeded, verified, stream, piece };
}

describe("ShardStream", () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"] });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("streams a shard's pieces into the buffer and reports the host's success", async () => {
    const { manifest, bytes, buffer, progress, succeeded, verified, stream, piece } = await setup(4);
    const waited = buffer.wait(piece(2));
    const { shardFetch } = fakeShardFetch(manifest, bytes, { a: { shards: [1] } });
    const { stream: s, outcome } = stream(shardFetch);
    expect(s.view.state).toBe("asking");
    await flush();
    expect(outcome()).toEqual({ end: "done" });
    expect(await waited).toEqual(bytes.get(piece(2)));
    expect(buffer.get(piece(3))).toEqual(bytes.get(piece(3)));
    expect(verified).toEqual([1]);
    expect(succeeded).toEqual(["a"]);
    expect(progress.current.hosts).toEqual([]);
    expect(s.view).toMatchObject({ state: "done", pieces: 4, bytes: 4 * 32 });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("rejects with NotHeldError when the host lacks a piece", async () => {
    const { manifest, bytes, succeeded, stream } = await setup(2);
    const { shardFetch } = fakeShardFetch(manifest, bytes, { a: { shards: [0] } });
    const { stream: s, outcome } = stream(shardFetch);
    await flush();
    expect(outcome()?.error).toBeInstanceOf(NotHeldError);
    expect(s.verified).toBe(false);
    expect(succeeded).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("drops a host that sends nothing for FETCH_STALL_MS, even one whose stream ignores the signal", async () => {
    const { bytes, stream } = await setup(4);
    const { stream: s, outcome } = stream(pacedFetch(bytes, [0], 1));
    await flush();
    expect(s.next).toBe(1);
    expect(s.view.state).toBe("streaming");

    await vi.advanceTimersByTimeAsync(FETCH_STALL_MS - 1);
    await flush();
    expect(outcome()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    await flush();
    expect(outcome()?.error).toBeInstanceOf(HostStalledError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("counts the stall from the last piece: a slow host that keeps sending is kept", async () => {
    const { bytes, stream } = await setup(4);
    const { outcome } = stream(pacedFetch(bytes, [FETCH_STALL_MS - 1, FETCH_STALL_MS - 1, FETCH_STALL_MS - 1, 0]));
    for (let i = 0; i < 3; i++) {
      await flush();
      await vi.advanceTimersByTimeAsync(FETCH_STALL_MS - 1);
    }
    await flush();
    expect(outcome()).toEqual({ end: "done" });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("holds back too far ahead of the decoder without counting it as a stall, and goes on when there is room", async () => {
    const segments = AHEAD_SEGMENTS + 4;
    const { manifest, bytes, buffer, stream } = await setup(segments);
    const { shardFetch } = fakeShardFetch(manifest, bytes, { a: { shards: [1] } });
    const { stream: s, outcome } = stream(shardFetch);
    await flush();
    expect(s.next).toBe(AHEAD_SEGMENTS + 1);
    expect(vi.getTimerCount()).toBe(0);

    await vi.advanceTimersByTimeAsync(FETCH_STALL_MS * 3);
    await flush();
    expect(outcome()).toBeUndefined();
    buffer.requested(segments - AHEAD_SEGMENTS);
    await flush();
    expect(outcome()).toEqual({ end: "done" });
    expect(s.next).toBe(segments);
  });

  it("ends as closed and leaves no timer when the download closes", async () => {
    const { bytes, download, stream } = await setup(4);
    const { outcome } = stream(pacedFetch(bytes, [0], 1));
    await flush();
    expect(vi.getTimerCount()).toBe(1);
    download.abort();
    await flush();
    expect(outcome()).toEqual({ end: "closed" });
    expect(vi.getTimerCount()).toBe(0);
  });

  it("ends as cancelled when it is not needed", async () => {
    const { bytes, stream } = await setup(4);
    const { stream: s, outcome } = stream(pacedFetch(bytes, [FETCH_STALL_MS / 2]));
    await flush();
    s.cancel();
    await flush();
    expect(outcome()).toEqual({ end: "cancelled" });
    expect(s.view.state).toBe("cancelled");
    await vi.advanceTimersByTimeAsync(FETCH_STALL_MS);
    expect(vi.getTimerCount()).toBe(0);
  });
});
