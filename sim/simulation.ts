import * as dagCbor from "@ipld/dag-cbor";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import type { ReedSolomon } from "../web/src/lib/erasure/reed-solomon.ts";
import { loadReedSolomon } from "../web/src/lib/testing/node-wasm.ts";
import { ANNOUNCE_INTERVAL_MS, HostDirectory } from "../web/src/p2p/protocols/announce/index.ts";
import { LEAF_SIZE_BYTES, pieceRoot, shardRootOf } from "../web/src/p2p/protocols/audit/index.ts";
import { equalBytes, pieceCid } from "../web/src/p2p/protocols/common/pieces.ts";
import { announce, type SimHost, type SimNode, startHost, startOwner } from "./peers.ts";
import { mapLimit, randomBytesFrom, seededRandom } from "./random.ts";

/**
 * A churn simulation over real libp2p peers (loopback TCP) running the same protocol modules as the tabs: hosts
 * announce themselves (signed), an owner spreads files k+m over them (shard store, with the Merkle root checked),
 * hosts leave for good and new ones join every round, and the owner audits and repairs one set of files (audit,
 * shard fetch, Reed-Solomon rebuild, shard store) while an identical set is left alone.
 */
export interface SimulationParams {
  /** Hosts online at any time (as many join as leave). */
  peers: number;
  /** Files in each set (the repaired one and the untouched one). */
  filesPerSet: number;
  k: number;
  m: number;
  /** Segments per file, i.e. pieces per shard. */
  segments: number;
  pieceBytes: number;
  rounds: number;
  /** Chance that a host leaves for good during one round (one announcement interval). */
  churn: number;
  seed: number;
}

export interface SimulationResult {
  params: SimulationParams;
  lostWithoutRepair: number;
  lostWithRepair: number;
  shardsRebuilt: number;
  auditsRun: number;
  auditsFailed: number;
  peersLeft: number;
  peersJoined: number;
  storeRetries: number;
  auditRetries: number;
  durationMs: number;
}

interface SimFile {
  manifest: CID;
  /** pieces[shard][segment] */
  pieces: CID[][];
  roots: Uint8Array[];
  holders: (string | undefined)[];
  repaired: boolean;
  lost: boolean;
}

export const DEFAULT_PARAMS: SimulationParams = {
  peers: 100,
  filesPerSet: 25,
  k: 4,
  m: 2,
  segments: 2,
  pieceBytes: 1024,
  rounds: 16,
  churn: 0.05,
  seed: 1,
};

export async function simulate(
  overrides: Partial<SimulationParams> = {},
  onRound?: (round: number, lost: { withRepair: number; withoutRepair: number }) => void,
): Promise<SimulationResult> {
  const params = { ...DEFAULT_PARAMS, ...overrides };
  const started = performance.now();
  const sim = new Simulation(params, await loadReedSolomon());
  try {
    await sim.setUp();
    for (let round = 1; round <= params.rounds; round++) {
      await sim.churnRound();
      await sim.repairRound();
      onRound?.(round, sim.lostCounts());
    }
    await sim.finalAudit();
    return { params, ...sim.stats(), durationMs: performance.now() - started };
  } finally {
    await sim.tearDown();
  }
}

class Simulation {
  readonly #p: SimulationParams;
  readonly #rs: ReedSolomon;
  readonly #random: () => number;
  #clockMs = 0;
  readonly #directory = new HostDirectory({ now: () => this.#clockMs, maxAgeMs: 2 * ANNOUNCE_INTERVAL_MS });
  readonly #hosts = new Map<string, SimHost>();
  /** Where the owner reaches each host it placed a shard on (from its announcement). */
  readonly #addrs = new Map<string, Multiaddr[]>();
  #owner: SimNode | undefined;
  readonly #files: SimFile[] = [];
  #counters = {
    shardsRebuilt: 0,
    auditsRun: 0,
    auditsFailed: 0,
    auditRetries: 0,
    peersLeft: 0,
    peersJoined: 0,
    storeRetries: 0,
  };

  constructor(params: SimulationParams, rs: ReedSolomon) {
    this.#p = params;
    this.#rs = rs;
    this.#random = seededRandom(params.seed);
  }

  get #n(): number {
    return this.#p.k + this.#p.m;
  }

  async setUp(): Promise<void> {
    this.#owner = await startOwner();
    await this.#join(this.#p.peers);
    await this.#announceAll();
    const indexes = Array.from({ length: 2 * this.#p.filesPerSet }, (_, i) => i);
    this.#files.push(...(await mapLimit(indexes, 4, (i) => this.#upload(i, i < this.#p.filesPerSet))));
  }

  async tearDown(): Promise<void> {
    await Promise.all([...this.#hosts.values()].map((host) => host.node.stop()));
    await this.#owner?.stop();
  }

  lostCounts(): { withRepair: number; withoutRepair: number } {
    const lost = (repaired: boolean) =>
      this.#files.filter((f) => f.repaired === repaired && (f.lost || this.#alive(f) < this.#p.k)).length;
    return { withRepair: lost(true), withoutRepair: lost(false) };
  }

  stats() {
    const { withRepair, withoutRepair } = this.lostCounts();
    return { lostWithRepair: withRepair, lostWithoutRepair: withoutRepair, ...this.#counters };
  }

  /** Hosts leave for good (their shards go with them) and as many new ones join; everyone re-announces. */
  async churnRound(): Promise<void> {
    this.#clockMs += ANNOUNCE_INTERVAL_MS;
    const leaving = [...this.#hosts.values()].filter(() => this.#random() < this.#p.churn);
    for (const host of leaving) this.#hosts.delete(host.peer);
    this.#counters.peersLeft += leaving.length;
    await Promise.all([...leaving.map((host) => host.node.stop()), this.#join(leaving.length)]);
    await this.#announceAll();
  }

  /** The owner audits every shard of its repaired set and rebuilds what is lost onto new hosts. */
  async repairRound(): Promise<void> {
    const files = this.#files.filter((f) => f.repaired && !f.lost);
    await this.#audit(files);
    await mapLimit(files, 8, (file) => this.#repair(file));
  }

  /** At the end, both sets are audited the same way; a file with fewer than k passing shards is lost. */
  async finalAudit(): Promise<void> {
    await this.#audit(this.#files.filter((f) => !f.lost));
  }

  #alive(file: SimFile): number {
    return file.holders.filter((holder) => holder !== undefined).length;
  }

  async #join(count: number): Promise<void> {
    const hosts = await Promise.all(Array.from({ length: count }, () => startHost()));
    for (const host of hosts) this.#hosts.set(host.peer, host);
    this.#counters.peersJoined += count;
  }

  async #announceAll(): Promise<void> {
    for (const host of this.#hosts.values()) {
      await this.#directory.receive(await announce(host, this.#clockMs, 1 << 30), { from: host.peer });
    }
  }

  async #upload(index: number, repaired: boolean): Promise<SimFile> {
    const { k, m, segments, pieceBytes } = this.#p;
    const bytes: Uint8Array[][] = Array.from({ length: this.#n }, () => []);
    for (let s = 0; s < segments; s++) {
      const data = randomBytesFrom(this.#random, k * pieceBytes);
      const parity = this.#rs.encode(data, k, m, pieceBytes);
      for (let i = 0; i < this.#n; i++) {
        const source = i < k ? data : parity;
        const at = (i < k ? i : i - k) * pieceBytes;
        bytes[i]?.push(source.slice(at, at + pieceBytes));
      }
    }
    const pieces = await Promise.all(bytes.map((shard) => Promise.all(shard.map((piece) => pieceCid(piece)))));
    const roots = bytes.map((shard) => this.#shardRoot(shard));
    const manifest = CID.createV1(dagCbor.code, await sha256.digest(dagCbor.encode({ index, pieces })));
    const file: SimFile = {
      manifest,
      pieces,
      roots,
      holders: new Array(this.#n).fill(undefined),
      repaired,
      lost: false,
    };
    const hosts = this.#directory.pick(this.#n, { random: this.#random });
    await Promise.all(bytes.map((shard, i) => this.#place(file, i, shard, hosts[i]?.peer)));
    return file;
  }

  #shardRoot(shard: readonly Uint8Array[]): Uint8Array {
    const leavesPerPiece = this.#p.pieceBytes / LEAF_SIZE_BYTES;
    return shardRootOf(shard.map((piece, s) => pieceRoot(piece, s * leavesPerPiece) as Uint8Array));
  }

  /** Stores shard `index` on `first` or, when that fails, on other hosts from the directory. */
  async #place(file: SimFile, index: number, shard: Uint8Array[], first: string | undefined): Promise<void> {
    const owner = this.#owner as SimNode;
    const tried = new Set(file.holders.filter((h): h is string => h !== undefined));
    let candidate = first;
    for (let attempt = 0; attempt < 4; attempt++) {
      candidate ??= this.#directory.pick(1, { exclude: tried, random: this.#random })[0]?.peer;
      if (candidate === undefined) return;
      tried.add(candidate);
      const addrs = (this.#directory.get(candidate)?.addrs ?? []).map((a) => multiaddr(a));
      try {
        await owner.services.shardStore.storeShard(addrs, {
          manifest: file.manifest,
          shardIndex: index,
          root: file.roots[index] as Uint8Array,
          pieces: file.pieces[index] as CID[],
          sizes: shard.map((piece) => piece.byteLength),
          readPiece: async (s) => shard[s] as Uint8Array,
        });
        file.holders[index] = candidate;
        this.#addrs.set(candidate, addrs);
        return;
      } catch {
        // a host that left recently is still in the directory until its announcement goes stale
        this.#counters.storeRetries += 1;
        candidate = undefined;
      }
    }
  }

  /** Challenges one random leaf of every held shard, one stream per host; a failed shard loses its holder. */
  async #audit(files: readonly SimFile[]): Promise<void> {
    const owner = this.#owner as SimNode;
    const leaves = (this.#p.segments * this.#p.pieceBytes) / LEAF_SIZE_BYTES;
    const byHost = new Map<string, { file: SimFile; shard: number; leafIndex: number }[]>();
    for (const file of files) {
      for (const [shard, holder] of file.holders.entries()) {
        if (holder === undefined) continue;
        const list = byHost.get(holder) ?? [];
        list.push({ file, shard, leafIndex: Math.floor(this.#random() * leaves) });
        byHost.set(holder, list);
      }
    }
    await mapLimit([...byHost], 16, async ([host, challenges]) => {
      this.#counters.auditsRun += challenges.length;
      const request = challenges.map(({ file, shard, leafIndex }) => ({
        manifest: file.manifest,
        shardIndex: shard,
        leafIndex,
        root: file.roots[shard] as Uint8Array,
      }));
      let passed: boolean[] = challenges.map(() => false);
      // A stream that fails is tried once more before the host's shards count as lost, as the tab does.
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          const results = await owner.services.audit.audit(this.#addrs.get(host) ?? [], request, {
            signal: AbortSignal.timeout(10_000),
          });
          passed = results.map((r) => r.ok);
          break;
        } catch {
          this.#counters.auditRetries += 1;
        }
      }
      for (const [i, { file, shard }] of challenges.entries()) {
        if (passed[i]) continue;
        this.#counters.auditsFailed += 1;
        file.holders[shard] = undefined;
      }
    });
  }

  /** Rebuilds a file's lost shards from any k live ones and places them on new hosts. */
  async #repair(file: SimFile): Promise<void> {
    const { k, m, segments, pieceBytes } = this.#p;
    const live = file.holders.flatMap((holder, shard) => (holder === undefined ? [] : [{ holder, shard }]));
    if (live.length === this.#n) return;
    if (live.length < k) {
      file.lost = true;
      return;
    }
    const owner = this.#owner as SimNode;
    const fetched: (Uint8Array[] | undefined)[] = new Array(this.#n).fill(undefined);
    let have = 0;
    for (const { holder, shard } of live) {
      if (have === k) break;
      try {
        const pieces: Uint8Array[] = [];
        for await (const piece of owner.services.shardFetch.fetchPieces(
          this.#addrs.get(holder) ?? [],
          file.pieces[shard] as CID[],
        )) {
          if (!piece.bytes) throw new Error("missing piece");
          pieces.push(piece.bytes);
        }
        fetched[shard] = pieces;
        have += 1;
      } catch {
        file.holders[shard] = undefined;
      }
    }
    if (have < k) {
      file.lost = this.#alive(file) < k;
      return;
    }
    const rebuilt: Uint8Array[][] = Array.from({ length: this.#n }, () => []);
    for (let s = 0; s < segments; s++) {
      const data = this.#rs.reconstruct(
        fetched.map((shard) => shard?.[s]),
        k,
        m,
        pieceBytes,
      ) as Uint8Array;
      const parity = this.#rs.encode(data, k, m, pieceBytes);
      for (let i = 0; i < this.#n; i++) {
        const source = i < k ? data : parity;
        const at = (i < k ? i : i - k) * pieceBytes;
        rebuilt[i]?.push(source.slice(at, at + pieceBytes));
      }
    }
    for (const [shard, holder] of file.holders.entries()) {
      if (holder !== undefined) continue;
      const pieces = rebuilt[shard] as Uint8Array[];
      // Repair works on ciphertext and must give back exactly the pieces the manifest names.
      const cids = await Promise.all(pieces.map((piece) => pieceCid(piece)));
      const expected = file.pieces[shard] as CID[];
      if (!cids.every((cid, s) => expected[s] !== undefined && equalBytes(cid.bytes, expected[s].bytes))) {
        throw new Error("a rebuilt piece does not match the manifest");
      }
      await this.#place(file, shard, pieces, undefined);
      if (file.holders[shard] !== undefined) this.#counters.shardsRebuilt += 1;
    }
  }
}
