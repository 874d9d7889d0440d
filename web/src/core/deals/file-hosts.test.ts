import "fake-indexeddb/auto";
import { generateKeyPair } from "@libp2p/crypto/keys";
import type { DialTarget } from "@libp2p/interface";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { CID } from "multiformats/cid";
import { bytesToHex, custom, type Hash, type Hex, parseEther, toHex } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBlock, readContract, writeContract } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployedContract } from "../../chain/chain.ts";
import { createTabulaClient } from "../../chain/client.ts";
import { acceptDealsSync } from "../../chain/market/accept-deals.ts";
import { cancelProposals } from "../../chain/market/cancel-proposals.ts";
import { challengeDeals } from "../../chain/market/challenge-deals.ts";
import { endDeals } from "../../chain/market/end-deals.ts";
import { fileDeals } from "../../chain/market/file-deals.ts";
import { finalizeMissedAudit } from "../../chain/market/finalize-missed-audit.ts";
import { fixAuditSeeds } from "../../chain/market/fix-audit-seeds.ts";
import { openAudit } from "../../chain/market/open-audit.ts";
import { proposeDealsSync } from "../../chain/market/propose-deals.ts";
import { signReceipt } from "../../chain/market/receipts.ts";
import { registerHost } from "../../chain/market/register-host.ts";
import type { DealTerms } from "../../chain/market/storage-receipt.ts";
import { updateHost } from "../../chain/market/update-host.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { startTestChain, TEST_MARKET_PARAMETERS, type TestChain } from "../../chain/testing/hardhat.ts";
import { rawCid } from "../../lib/cid.ts";
import { decodeManifest } from "../../lib/manifest.ts";
import { leafHash, rootOf } from "../../lib/merkle/tree.ts";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import { pseudoRandomBytes } from "../../lib/testing/node-wasm.ts";
import type { FetchedPiece } from "../../p2p/protocols/shard-fetch/index.ts";
import type { FilesDB } from "../../storage/files-db.ts";
import { fileSource, useFilesFixture } from "../../storage/testing/files-fixture.ts";
import { openFile, readAll } from "../files/open-file.ts";
import { storeFile } from "../files/store-file.ts";
import { NetworkStore, type NetworkStoreParts } from "../network/download/index.ts";
import { chainHolders, mergeHolders, withChainHolders } from "./file-hosts.ts";

const SHARD_BYTES = 4096;
const DURATION = 30n * 24n * 3600n;

type Wallet = ReturnType<typeof privateKeyToAccount>;

let chain: TestChain;
const client = privateKeyToAccount(generatePrivateKey());
/** Five hosts, each with its tab's peer id as registered. */
const hosts = Array.from({ length: 5 }, () => ({ wallet: privateKeyToAccount(generatePrivateKey()), peer: "" }));
const host = (i: number) => hosts[i] as { wallet: Wallet; peer: string };

const mined = (hash: Hash) => waitForSuccess(chain.client(), { hash, what: "test step" });
const now = async () => (await getBlock(chain.client())).timestamp;

async function tabPeer(): Promise<{ id: string; bytes: Hex }> {
  const id = peerIdFromPrivateKey(await generateKeyPair("Ed25519"));
  return { id: id.toString(), bytes: toHex(id.toMultihash().bytes) };
}

/** Proposes one deal per [shard, host] for the file `manifest` with one permit; accepts those `accept` names. */
async function deals(manifest: CID, placements: [number, number][], accept: (i: number) => boolean) {
  const market = deployedContract(chain.chain, "StorageMarket");
  const t = await now();
  const root = bytesToHex(
    rootOf(Array.from({ length: SHARD_BYTES / 256 }, (_, i) => leafHash(i, new Uint8Array(256).fill(i)))),
  );
  const terms: DealTerms[] = await Promise.all(
    placements.map(async ([shardIndex, i]) => ({
      host: host(i).wallet.address,
      manifestCid: bytesToHex(manifest.bytes),
      shardIndex,
      shardSizeBytes: BigInt(SHARD_BYTES),
      shardRoot: root,
      durationSeconds: DURATION,
      price: await readContract(chain.client(), {
        address: market.address,
        abi: market.abi,
        functionName: "quote",
        args: [host(i).wallet.address, BigInt(SHARD_BYTES), DURATION],
      }),
      acceptBy: t + 3600n,
    })),
  );
  const { deals: proposed } = await proposeDealsSync(chain.client(client), { terms, permitDeadline: t + 3600n });
  const receipts = await Promise.all(
    proposed
      .filter((_, i) => accept(i))
      .map(async (d) => ({
        dealId: d.dealId,
        signature: await signReceipt(
          chain.client(hosts.find((h) => h.wallet.address === d.terms.host)?.wallet as Wallet),
          { dealId: d.dealId, client: client.address, terms: d.terms },
        ),
      })),
  );
  if (receipts.length > 0) await acceptDealsSync(chain.client(client), { receipts });
  return proposed.map((d) => d.dealId);
}

beforeAll(async () => {
  chain = await startTestChain({ market: true });
  await chain.fund([client.address, ...hosts.map((h) => h.wallet.address)]);
  const deadline = (await now()) + 3600n;
  for (const h of hosts) {
    const peer = await tabPeer();
    h.peer = peer.id;
    await mined(
      await registerHost(chain.client(h.wallet), {
        peerId: peer.bytes,
        capacityBytes: 1n << 30n,
        pricePerGiBMonth: parseEther("2"),
        openRegistration: true,
        stake: 2n * TEST_MARKET_PARAMETERS.minStake,
        permitDeadline: deadline,
      }),
    );
  }
});
afterAll(() => chain.close());

describe("a file's holders from its deals on the chain", () => {
  it("gives each shard the peer ids of the hosts of its accepted deals, and none of the other deals", async () => {
    const manifest = await rawCid(new TextEncoder().encode("a manifest"));
    // Shard 1 on two hosts (a repair placed it again); shard 2 proposed only; shard 3 ended early, shard 4 slashed
    // after a missed audit, shard 5 cancelled.
    const [, , , , d3, d4, d5] = (await deals(
      manifest,
      [
        [0, 0],
        [1, 1],
        [1, 2],
        [2, 2],
        [3, 3],
        [4, 4],
        [5, 0],
      ],
      (i) => i !== 3 && i !== 6,
    )) as bigint[];
    // Another file's deal with host 3 does not count for this one.
    await deals(await rawCid(new TextEncoder().encode("another manifest")), [[3, 3]], () => true);

    await mined(await cancelProposals(chain.client(client), { dealIds: [d5 as bigint] }));
    await mined(await endDeals(chain.client(client), { dealIds: [d3 as bigint] }));
    const market = deployedContract(chain.chain, "StorageMarket");
    await mined(
      await writeContract(chain.client(client), {
        address: chain.token,
        abi: deployedContract(chain.chain, "Token").abi,
        functionName: "approve",
        args: [market.address, TEST_MARKET_PARAMETERS.challengeBond],
        chain: null,
        account: client,
      }),
    );
    await mined(await challengeDeals(chain.client(client), { dealIds: [d4 as bigint], bondPayer: client.address }));
    await chain.advance(1);
    await mined(await fixAuditSeeds(chain.client(client), { dealIds: [d4 as bigint] }));
    const audit = await openAudit(chain.client(), d4 as bigint);
    if (!audit) throw new Error("the deal has no open audit");
    await chain.advance(audit.deadline - (await now()) + 1n);
    await mined(await finalizeMissedAudit(chain.client(client), { dealId: d4 as bigint }));

    const statuses = (await fileDeals(chain.client(), { manifestCid: bytesToHex(manifest.bytes) })).map((d) => [
      d.terms.shardIndex,
      d.status,
    ]);
    expect(statuses).toEqual([
      [0, "Active"],
      [1, "Active"],
      [1, "Active"],
      [2, "Proposed"],
      [3, "Ended"],
      [4, "Slashed"],
      [5, "Cancelled"],
    ]);
    expect(await chainHolders({ reader: chain.client() }, manifest)).toEqual([
      [host(0).peer],
      [host(1).peer, host(2).peer],
    ]);
    expect(await chainHolders({ reader: chain.client() }, manifest.toString())).toEqual([
      [host(0).peer],
      [host(1).peer, host(2).peer],
    ]);

    // A host that moved to another tab is found at its new peer id.
    const moved = await tabPeer();
    await mined(
      await updateHost(chain.client(host(2).wallet), {
        peerId: moved.bytes,
        capacityBytes: 1n << 30n,
        pricePerGiBMonth: parseEther("2"),
      }),
    );
    host(2).peer = moved.id;
    expect(await chainHolders({ reader: chain.client() }, manifest)).toEqual([
      [host(0).peer],
      [host(1).peer, moved.id],
    ]);
    // A file nobody made deals for has none.
    expect(await chainHolders({ reader: chain.client() }, await rawCid(new Uint8Array([1])))).toEqual([]);
  });

  it("merges holders of several sources, each once per shard, in the order of the sources", () => {
    expect(mergeHolders([["a"], ["b"]], [["a", "c"], [], ["d"]], [undefined, ["b", "e"]])).toEqual([
      ["a", "c"],
      ["b", "e"],
      ["d"],
    ]);
    expect(mergeHolders()).toEqual([]);
  });

  it("asks the chain only for a file the owner's placements know no holder of, once, and not at all in free mode", async () => {
    const manifest = await rawCid(new TextEncoder().encode("a file of someone else"));
    await deals(manifest, [[0, 0]], () => true);
    let chainReads = 0;
    const reader = chain.client();
    const counted = createTabulaClient({
      chain: chain.chain,
      transport: custom({
        request: (args) => {
          chainReads++;
          return reader.request(args);
        },
      }),
    });
    const notMine = withChainHolders(async () => [], { reader: counted });
    expect(await notMine(manifest.toString())).toEqual([[host(0).peer]]);
    const reads = chainReads;
    expect(await notMine(manifest.toString())).toEqual([[host(0).peer]]);
    expect(chainReads).toBe(reads);

    const mine = withChainHolders(async () => [[], ["placed"]], { reader: counted });
    expect(await mine(manifest.toString())).toEqual([[], ["placed"]]);
    expect(chainReads).toBe(reads);

    const free = async () => [[], []];
    expect(withChainHolders(free, undefined)).toBe(free);
    // A chain without the market: the download goes on with the hosts it hears of.
    const noMarket = withChainHolders(async () => [], {
      reader: { ...reader, chain: chain.without("StorageMarket") } as typeof reader,
    });
    expect(await noMarket(manifest.toString())).toEqual([]);
  });
});

describe("a tab with only the share link", () => {
  let codec: SegmentCodec;
  let db: FilesDB;
  useFilesFixture("file-hosts-test", (c, d) => {
    codec = c;
    db = d;
  });

  /**
   * Hosts that serve the file stored in `db`, each only the shards `held` gives it (and the manifest, if it holds
   * any); `announced` are the hosts the tab heard of.
   */
  async function hostsOf(held: Record<string, number[]>, cid: string, announced: string[]) {
    const manifestBytes = (await db.getManifest(cid)) as Uint8Array;
    const manifest = await decodeManifest(manifestBytes, CID.parse(cid));
    const shardOf = new Map(manifest.shards.flatMap((s, shard) => s.pieces.map((p) => [p.toString(), shard] as const)));
    const manifestAsked: string[] = [];
    const dialed: string[] = [];
    const parts: Omit<NetworkStoreParts, "holders"> = {
      self: "me",
      dial: async (peer) => {
        dialed.push(peer);
        return { host: peer } as unknown as DialTarget;
      },
      shardFetch: {
        holds: async () => [],
        async *fetchPieces(target: DialTarget, cids: readonly CID[]): AsyncGenerator<FetchedPiece> {
          const peer = (target as unknown as { host: string }).host;
          for (const c of cids) {
            await Promise.resolve();
            if (c.toString() === cid) {
              manifestAsked.push(peer);
              yield { cid: c, bytes: peer in held ? manifestBytes : undefined };
              continue;
            }
            const holds = held[peer]?.includes(shardOf.get(c.toString()) ?? -1);
            yield { cid: c, bytes: holds ? (await db.getBlockBytes([c.toString()]))[0] : undefined };
          }
        },
      },
      hosts: {
        list: () => announced.map((peer) => ({ peer, freeBytes: 1 << 30, pricePerGiBMonth: 0n, addrs: [] })),
        reportFailure: () => {},
        reportSuccess: () => {},
      },
      local: {
        getBlocks: async (cids) => cids.map(() => undefined),
        getBlockBytes: async (cids) => cids.map(() => undefined),
        getManifest: async () => undefined,
      },
    };
    return { parts, manifestAsked, dialed };
  }

  async function storedFile(seed: number) {
    const bytes = pseudoRandomBytes(3 * 1024 * 1024 + 7, seed);
    const { cid, rawKey } = await storeFile({ codec, store: db }, fileSource(bytes), { k: 2, m: 1 });
    return { bytes, cid: cid.toString(), rawKey };
  }

  it("finds the file's hosts in its deals on the chain, with no announcement, and downloads it", async () => {
    const { bytes, cid, rawKey } = await storedFile(21);
    await deals(
      CID.parse(cid),
      [
        [0, 0],
        [1, 1],
        [2, 3],
      ],
      () => true,
    );
    const held = { [host(0).peer]: [0], [host(1).peer]: [1], [host(3).peer]: [2] };
    const { parts, dialed } = await hostsOf(held, cid, []);
    const network = new NetworkStore(
      { ...parts, holders: withChainHolders(async () => [], { reader: chain.client() }) },
      cid,
    );
    try {
      const { stream } = await openFile({ codec, store: network }, cid, rawKey);
      const back = await readAll(stream);
      expect(Buffer.compare(back, bytes)).toBe(0);
    } finally {
      network.close();
    }
    // Only the hosts the chain named were dialed.
    expect(dialed.length).toBeGreaterThan(0);
    expect(dialed.filter((peer) => !(peer in held))).toEqual([]);
  });

  it("asks a host both announced and found on the chain for the manifest once", async () => {
    const { cid, rawKey } = await storedFile(22);
    await deals(
      CID.parse(cid),
      [
        [0, 0],
        [1, 1],
      ],
      () => true,
    );
    const held = { [host(0).peer]: [0], [host(1).peer]: [1] };
    const { parts, manifestAsked } = await hostsOf(held, cid, [host(1).peer, "announced-elsewhere"]);
    const network = new NetworkStore(
      { ...parts, holders: withChainHolders(async () => [], { reader: chain.client() }) },
      cid,
    );
    try {
      const { stream } = await openFile({ codec, store: network }, cid, rawKey);
      await readAll(stream);
    } finally {
      network.close();
    }
    expect(manifestAsked.filter((peer) => peer === host(1).peer)).toEqual([host(1).peer]);
  });

  it("once the deals have run their time, no host must hold the file: the chain names none", async () => {
    const { cid } = await storedFile(23);
    await deals(CID.parse(cid), [[0, 0]], () => true);
    expect(await chainHolders({ reader: chain.client() }, cid)).toEqual([[host(0).peer]]);
    await chain.advance(DURATION + 1n);
    expect(await chainHolders({ reader: chain.client() }, cid)).toEqual([]);
  });
});
