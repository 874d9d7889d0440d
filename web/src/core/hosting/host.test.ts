import "fake-indexeddb/auto";
import { randomBytes } from "node:crypto";
import * as dagCbor from "@ipld/dag-cbor";
import type { Libp2p } from "@libp2p/interface";
import { IDBBlockstore } from "blockstore-idb";
import { IDBDatastore } from "datastore-idb";
import { createHeliaLight, type Helia } from "helia";
import { openDB } from "idb";
import { CID } from "multiformats/cid";
import { sha256 } from "multiformats/hashes/sha2";
import { type Account, bytesToHex, numberToBytes, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBlock } from "viem/actions";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { TabulaClient } from "../../chain/client.ts";
import { acceptDealsSync } from "../../chain/market/accept-deals.ts";
import { proposeDealsSync } from "../../chain/market/propose-deals.ts";
import { quote } from "../../chain/market/quote.ts";
import { registerHost } from "../../chain/market/register-host.ts";
import type { DealTerms } from "../../chain/market/storage-receipt.ts";
import { authorizeOperator } from "../../chain/operators/authorize-operator.ts";
import { OperatorRole } from "../../chain/operators/roles.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { startTestChain, type TestChain } from "../../chain/testing/hardhat.ts";
import type { MerkleHasher } from "../../lib/merkle/hasher.ts";
import { loadMerkleHasher } from "../../lib/testing/node-wasm.ts";
import type { HostRole } from "../../p2p/node.ts";
import { type Audit, audit, firstLeaves, type PieceRootFn, shardRootOf } from "../../p2p/protocols/audit/index.ts";
import { pieceCid, readPiece } from "../../p2p/protocols/common/pieces.ts";
import { type ShardFetch, shardFetch } from "../../p2p/protocols/shard-fetch/index.ts";
import {
  type OfferMessage,
  type ShardStore,
  type ShardUpload,
  shardStore,
} from "../../p2p/protocols/shard-store/index.ts";
import { createTcpNode } from "../../p2p/testing/tcp-node.ts";
import { addPublicFile } from "../public/add-public-file.ts";
import { encodeHeldShard, totalBytesOf } from "./catalog.ts";
import { DealDesk } from "./deal-desk.ts";
import { Host } from "./host.ts";
import { hostPieceStore } from "./host-store.ts";

type Services = { shardStore: ShardStore; shardFetch: ShardFetch; audit: Audit };

let hasher: MerkleHasher;
let pieceRoot: PieceRootFn;
beforeAll(async () => {
  hasher = await loadMerkleHasher();
  pieceRoot = (piece, firstLeaf) => hasher.pieceRoot(piece, firstLeaf);
});

/** A shard with a true Merkle root (the host checks it), of random pieces or of the pieces given. */
async function makeShard(
  pieces: (number | Uint8Array)[],
  shardIndex = 0,
): Promise<{ upload: ShardUpload; bytes: Uint8Array[] }> {
  const bytes = pieces.map((piece) => (typeof piece === "number" ? new Uint8Array(randomBytes(piece)) : piece));
  const sizes = bytes.map((piece) => piece.byteLength);
  const cids = await Promise.all(bytes.map((piece) => pieceCid(piece)));
  const first = firstLeaves(sizes);
  return {
    upload: {
      manifest: CID.createV1(dagCbor.code, await sha256.digest(dagCbor.encode({ cids }))),
      shardIndex,
      root: shardRootOf(bytes.map((piece, i) => hasher.pieceRoot(piece, first[i] as number))),
      pieces: cids,
      sizes,
      readPiece: async (index) => bytes[index] as Uint8Array,
    },
    bytes,
  };
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/** Every block of the store, as CID text. */
async function storedCids(blocks: IDBBlockstore): Promise<string[]> {
  const cids: string[] = [];
  for await (const { cid } of blocks.getAll()) cids.push(cid.toString());
  return cids.sort();
}

/** Resolves when `test` holds, checked at each of the host's `change` events. */
function until(host: Host, test: () => boolean): Promise<void> {
  if (test()) return Promise.resolve();
  return new Promise((resolve) => {
    const check = () => {
      if (!test()) return;
      host.removeEventListener("change", check);
      resolve();
    };
    host.addEventListener("change", check);
  });
}

let count = 0;

/** Makes the host's pin lookups fail (a datastore that cannot be read) while true. */
let pinsUnreadable = false;

interface HostParts {
  host: Host;
  blocks: IDBBlockstore;
  datastore: IDBDatastore;
  /** Helia on the host's stores, as a tab has it: what public files are added to and pinned in. */
  helia: Helia;
  node: Libp2p<Services>;
  /** The role the node serves through. */
  role: HostRole;
}

/** The offer a client sends for a shard. */
function offerOf(upload: ShardUpload): OfferMessage {
  const { manifest, shardIndex, root, pieces, sizes } = upload;
  return { type: "offer", dealId: null, manifest, shardIndex, root, pieces, sizes };
}

/** A host tab's parts: its Host (IndexedDB), block and data stores (IndexedDB), wired as main.ts wires a tab. */
async function startHost(storeName: string): Promise<HostParts> {
  const host = await Host.open(storeName);
  const blocks = new IDBBlockstore(`${storeName}-blocks`);
  const datastore = new IDBDatastore(`${storeName}-data`);
  await Promise.all([blocks.open(), datastore.open()]);
  const helia = createHeliaLight({ blockstore: blocks, datastore });
  const store = hostPieceStore(blocks, {
    isPinned: (cid, options) =>
      pinsUnreadable ? Promise.reject(new Error("the datastore is closed")) : helia.pins.isPinned(cid, options),
  });
  const role = host.serve(store, { pieceRoot });
  const node = await createTcpNode<Services>({
    shardStore: shardStore({ host: role.shardStore, timeoutMs: 5_000 }),
    shardFetch: shardFetch({ host: role.shardFetch }),
    audit: audit({ host: role.audit }),
  });
  return { host, blocks, datastore, helia, node, role };
}

describe("host mode", () => {
  let storeName: string;
  let host: Host;
  let blocks: IDBBlockstore;
  let datastore: IDBDatastore;
  let helia: Helia;
  let node: Libp2p<Services>;
  let role: HostRole;
  let client: Libp2p<Services>;

  beforeEach(async () => {
    storeName = `host-test-${count++}`;
    pinsUnreadable = false;
    ({ host, blocks, datastore, helia, node, role } = await startHost(storeName));
    client = await createTcpNode<Services>({ shardStore: shardStore(), shardFetch: shardFetch(), audit: audit() });
  });

  afterEach(async () => {
    host.stop();
    await Promise.all([node.stop(), client.stop()]);
    await Promise.all([blocks.close(), datastore.close()]);
  });

  it("counts pushes under way against the quota: of two offers that together exceed it, one is refused", async () => {
    await host.setEnabled(true);
    await host.setQuota(300_000);
    const a = await makeShard([100_000, 100_000], 0);
    const b = await makeShard([100_000, 100_000], 1);
    const gate = deferred();
    for (const shard of [a, b]) {
      shard.upload.readPiece = async (index) => {
        if (index === 1) await gate.promise;
        return shard.bytes[index] as Uint8Array;
      };
    }
    const pushes = [a, b].map((shard) => client.services.shardStore.storeShard(node.getMultiaddrs(), shard.upload));
    const outcome = Promise.allSettled(pushes);
    const refused = await Promise.any(
      pushes.map((push) =>
        push.then(
          () => Promise.reject(),
          (error) => error,
        ),
      ),
    );
    expect(refused).toMatchObject({ name: "RemoteRefusedError", code: "no-space" });
    // The other push holds its reservation while its pieces arrive, and the host shows it.
    expect(host.reservedBytes).toBe(200_000);
    expect(host.pushes).toBe(1);
    expect(host.freeBytes).toBe(100_000);
    gate.resolve();
    const settled = await outcome;
    expect(settled.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(host.reservedBytes).toBe(0);
    expect(host.pushes).toBe(0);
    expect(host.usedBytes).toBe(200_000);

    const small = await makeShard([100_000], 2);
    await client.services.shardStore.storeShard(node.getMultiaddrs(), small.upload);
    const big = await makeShard([1_000], 3);
    await expect(client.services.shardStore.storeShard(node.getMultiaddrs(), big.upload)).rejects.toMatchObject({
      code: "no-space",
    });
    expect(host.usedBytes).toBe(300_000);
    expect(host.reservedBytes).toBe(0);
  });

  it("releases the reservation of a push that fails, and keeps none of its pieces", async () => {
    await host.setEnabled(true);
    await host.setQuota(150_000);
    const { upload, bytes } = await makeShard([50_000, 50_000, 50_000]);
    const controller = new AbortController();
    upload.readPiece = async (index) => {
      if (index === 2) controller.abort(new Error("owner left"));
      return bytes[index] as Uint8Array;
    };
    await expect(
      client.services.shardStore.storeShard(node.getMultiaddrs(), upload, { signal: controller.signal }),
    ).rejects.toThrow("owner left");
    // The reservation is released once the push's blocks are deleted.
    await until(host, () => host.pushes === 0);
    expect(host.reservedBytes).toBe(0);
    expect(host.catalog.hostBlocks()).toEqual([]);
    expect(await storedCids(blocks)).toEqual([]);
    // The whole quota is free again: the same shard fits.
    upload.readPiece = async (index) => bytes[index] as Uint8Array;
    await client.services.shardStore.storeShard(node.getMultiaddrs(), upload);
    expect(host.usedBytes).toBe(150_000);
  });

  it("with Share storage off, refuses new pushes with not-hosting but still serves and proves held shards", async () => {
    await host.setEnabled(true);
    const { upload, bytes } = await makeShard([4096, 4096, 1000]);
    await client.services.shardStore.storeShard(node.getMultiaddrs(), upload);
    await host.setEnabled(false);

    const other = await makeShard([4096], 1);
    const refused = client.services.shardStore.storeShard(node.getMultiaddrs(), other.upload);
    await expect(refused).rejects.toMatchObject({ name: "RemoteRefusedError", code: "not-hosting" });
    await expect(refused).rejects.toThrow("pick another host");
    expect(await blocks.has(other.upload.pieces[0] as CID)).toBe(false);
    expect(host.reservedBytes).toBe(0);

    const fetched: Uint8Array[] = [];
    for await (const piece of client.services.shardFetch.fetchPieces(node.getMultiaddrs(), upload.pieces)) {
      if (piece.bytes) fetched.push(piece.bytes);
    }
    expect(fetched).toEqual(bytes);
    const results = await client.services.audit.audit(node.getMultiaddrs(), [
      { manifest: upload.manifest, shardIndex: upload.shardIndex, leafIndex: 0, root: upload.root },
      { manifest: upload.manifest, shardIndex: upload.shardIndex, leafIndex: 35, root: upload.root },
    ]);
    expect(results.map((r) => r.ok)).toEqual([true, true]);
  });

  it("removes held shards with their blocks, but not blocks shared with public content or another held shard", async () => {
    await host.setEnabled(true);
    // A public file of one block: its CID is the raw block's, the same as a shard piece of those bytes.
    const publicBytes = new Uint8Array(randomBytes(20_000));
    const publicCid = await addPublicFile(helia, new Blob([publicBytes]));
    expect(publicCid.toString()).toBe((await pieceCid(publicBytes)).toString());
    const shared = new Uint8Array(randomBytes(20_000));
    const first = await makeShard([publicBytes, shared, 20_000], 0);
    const second = await makeShard([shared, 20_000], 1);
    await client.services.shardStore.storeShard(node.getMultiaddrs(), first.upload);
    await client.services.shardStore.storeShard(node.getMultiaddrs(), second.upload);
    expect(host.usedBytes).toBe(100_000);

    expect(await host.remove([first.upload])).toEqual({ shards: 1, blocks: 1 });
    expect(await host.catalog.get(first.upload.manifest, 0)).toBeUndefined();
    expect(await blocks.has(first.upload.pieces[2] as CID)).toBe(false);
    expect(await readPiece(blocks, publicCid)).toEqual(publicBytes);
    expect(await readPiece(blocks, first.upload.pieces[1] as CID)).toEqual(shared);
    expect(host.usedBytes).toBe(40_000);

    expect(await host.removeAll()).toEqual({ shards: 1, blocks: 2 });
    expect(host.catalog.list()).toEqual([]);
    expect(host.usedBytes).toBe(0);
    expect(await storedCids(blocks)).toEqual([publicCid.toString()]);
    expect(host.catalog.hostBlocks()).toEqual([]);

    // What was removed stays removed after a reload.
    const reloaded = await Host.open(storeName);
    expect(reloaded.catalog.list()).toEqual([]);
    expect(reloaded.catalog.hostBlocks()).toEqual([]);
    reloaded.stop();
  });

  it("keeps a hosted piece that a public file published later holds, and forgets it as a host block", async () => {
    await host.setEnabled(true);
    const { upload, bytes } = await makeShard([20_000, 20_000, 20_000], 0);
    await client.services.shardStore.storeShard(node.getMultiaddrs(), upload);
    // The same bytes published as a public file: the block is already in the store, now pinned as well.
    const publicCid = await addPublicFile(helia, new Blob([bytes[1] as Uint8Array<ArrayBuffer>]));
    expect(publicCid.toString()).toBe((upload.pieces[1] as CID).toString());
    expect(await helia.pins.isPinned(publicCid)).toBe(true);
    // Publishing it again changes nothing.
    expect((await addPublicFile(helia, new Blob([bytes[1] as Uint8Array<ArrayBuffer>]))).toString()).toBe(
      publicCid.toString(),
    );

    expect(await host.removeAll()).toEqual({ shards: 1, blocks: 2 });
    expect(await storedCids(blocks)).toEqual([publicCid.toString()]);
    expect(await readPiece(blocks, publicCid)).toEqual(bytes[1]);
    expect(host.catalog.hostBlocks()).toEqual([]);

    // Not a host block any more: the next start leaves it alone too.
    const reloaded = await Host.open(storeName);
    expect(reloaded.catalog.hostBlocks()).toEqual([]);
    reloaded.stop();
  });

  it("leaves a block whose pins cannot be read as a host block, and deletes it once they can be", async () => {
    await host.setEnabled(true);
    const { upload } = await makeShard([20_000, 20_000], 0);
    await client.services.shardStore.storeShard(node.getMultiaddrs(), upload);
    pinsUnreadable = true;
    expect(await host.removeAll()).toEqual({ shards: 1, blocks: 0 });
    expect(await storedCids(blocks)).toEqual(upload.pieces.map((cid) => cid.toString()).sort());
    expect(
      host.catalog
        .hostBlocks()
        .map((cid) => cid.toString())
        .sort(),
    ).toEqual(upload.pieces.map((cid) => cid.toString()).sort());

    pinsUnreadable = false;
    expect(await role.shardStore.recover?.()).toBe(2);
    expect(await storedCids(blocks)).toEqual([]);
    expect(host.catalog.hostBlocks()).toEqual([]);
  });

  it("deletes, when the tab starts again, what a push cut short by a crash wrote", async () => {
    await host.setEnabled(true);
    const kept = await makeShard([10_000, 10_000], 0);
    await client.services.shardStore.storeShard(node.getMultiaddrs(), kept.upload);
    const before = new Uint8Array(randomBytes(10_000));
    const beforeCid = await pieceCid(before);
    await blocks.put(beforeCid, before);

    // A push under way when the tab dies: two of its pieces are written, one shared with the held shard.
    const cut = await makeShard([10_000, kept.bytes[0] as Uint8Array, before, 10_000, 10_000], 1);
    const push = await role.shardStore.begin(offerOf(cut.upload));
    expect(push.need).toEqual([0, 3, 4]);
    await push.put(cut.upload.pieces[0] as CID, cut.bytes[0] as Uint8Array);
    await push.put(cut.upload.pieces[3] as CID, cut.bytes[3] as Uint8Array);
    const leftOver = [...kept.upload.pieces, beforeCid, cut.upload.pieces[0], cut.upload.pieces[3]].map(String).sort();
    expect(await storedCids(blocks)).toEqual(leftOver);

    // The tab is gone; a new one opens the same IndexedDB databases and starts its peer.
    const again = await startHost(storeName);
    try {
      const expected = [...kept.upload.pieces, beforeCid].map(String).sort();
      expect(await storedCids(again.blocks)).toEqual(expected);
      expect(again.host.catalog.hostBlocks().map(String).sort()).toEqual(kept.upload.pieces.map(String).sort());
      expect(again.host.catalog.list()).toHaveLength(1);
    } finally {
      again.host.stop();
      await again.node.stop();
      await again.blocks.close();
    }
  });

  it("counts the pieces of shards held before host blocks were recorded as the host's, so removing them frees them", async () => {
    // A profile whose hosting database predates host blocks (version 1): one held shard, its pieces in the store.
    const legacyName = `host-test-legacy-${count++}`;
    const { upload, bytes } = await makeShard([3_000, 3_000]);
    const shard = {
      manifest: upload.manifest,
      shardIndex: 0,
      root: upload.root,
      pieces: upload.pieces,
      sizes: upload.sizes,
      owner: client.peerId.toString(),
      dealId: null,
      storedAtMs: Date.now(),
    };
    const v1 = await openDB(`${legacyName}-hosting`, 1, {
      upgrade(database) {
        database.createObjectStore("settings");
        database.createObjectStore("shards", { keyPath: "key" }).createIndex("storedAtMs", "storedAtMs");
      },
    });
    await v1.put("shards", {
      key: `${upload.manifest}/0`,
      manifest: upload.manifest.toString(),
      shardIndex: 0,
      owner: shard.owner,
      totalBytes: totalBytesOf(shard),
      storedAtMs: shard.storedAtMs,
      body: encodeHeldShard(shard),
    });
    v1.close();
    const legacy = await startHost(legacyName);
    try {
      for (const [index, cid] of upload.pieces.entries()) await legacy.blocks.put(cid, bytes[index] as Uint8Array);
      expect(legacy.host.catalog.hostBlocks().map(String).sort()).toEqual(upload.pieces.map(String).sort());
      expect(await legacy.host.removeAll()).toEqual({ shards: 1, blocks: 2 });
      expect(await storedCids(legacy.blocks)).toEqual([]);
      // Recorded once: opening the profile again finds nothing left to record.
      const again = await Host.open(legacyName);
      expect(again.catalog.hostBlocks()).toEqual([]);
      again.stop();
    } finally {
      legacy.host.stop();
      await legacy.node.stop();
      await legacy.blocks.close();
    }
  });
});

describe("host mode, paid: a push that names a deal is taken only for a deal the chain holds, and returns σ", () => {
  let chain: TestChain;
  const owner = privateKeyToAccount(generatePrivateKey());
  const operator = privateKeyToAccount(generatePrivateKey());
  const payer = privateKeyToAccount(generatePrivateKey());
  let storeName: string;
  let parts: HostParts;
  let client: Libp2p<Services>;
  const wallet = (account: typeof owner) => chain.client(account) as TabulaClient<Account>;
  const mined = async (hash: `0x${string}`) => waitForSuccess(chain.client(), { hash, what: "setup" });

  async function proposeFor(upload: ShardUpload): Promise<bigint> {
    const now = (await getBlock(chain.client())).timestamp;
    const shardSizeBytes = BigInt(upload.sizes.reduce((a, b) => a + b, 0));
    const durationSeconds = 30n * 86_400n;
    const terms: DealTerms = {
      host: owner.address,
      manifestCid: bytesToHex(upload.manifest.bytes),
      shardIndex: upload.shardIndex,
      shardSizeBytes,
      shardRoot: bytesToHex(upload.root),
      durationSeconds,
      price: await quote(chain.client(), { host: owner.address, shardSizeBytes, durationSeconds }),
      acceptBy: now + 3600n,
    };
    const { deals } = await proposeDealsSync(wallet(payer), { terms: [terms], permitDeadline: now + 3600n });
    return (deals[0] as (typeof deals)[number]).dealId;
  }

  beforeAll(async () => {
    chain = await startTestChain({ market: true });
    await chain.fund([owner.address, payer.address]);
    const now = (await getBlock(chain.client())).timestamp;
    await mined(
      await registerHost(wallet(owner), {
        peerId: "0x0024",
        capacityBytes: 1n << 30n,
        pricePerGiBMonth: parseEther("2"),
        openRegistration: true,
        stake: parseEther("100"),
        permitDeadline: now + 3600n,
      }),
    );
    await mined(
      await authorizeOperator(wallet(owner), {
        operator: operator.address,
        roles: OperatorRole.Host,
        expiresAt: now + 86_400n,
      }),
    );
  });
  afterAll(() => chain.close());

  beforeEach(async () => {
    storeName = `host-test-${count++}`;
    pinsUnreadable = false;
    parts = await startHost(storeName);
    await parts.host.setEnabled(true);
    client = await createTcpNode<Services>({ shardStore: shardStore(), shardFetch: shardFetch(), audit: audit() });
  });
  afterEach(async () => {
    parts.host.stop();
    await Promise.all([parts.node.stop(), client.stop()]);
    await Promise.all([parts.blocks.close(), parts.datastore.close()]);
  });

  it("refuses a paid push with bad-deal until the owner staked and the tab's key may sign, keeping no piece", async () => {
    const { upload } = await makeShard([4096, 1000]);
    const dealId = await proposeFor(upload);
    const refused = client.services.shardStore.storeShard(parts.node.getMultiaddrs(), {
      ...upload,
      dealId: numberToBytes(dealId, { size: 32 }),
    });
    await expect(refused).rejects.toMatchObject({ name: "RemoteRefusedError", code: "bad-deal" });
    await expect(refused).rejects.toThrow("takes no paid deals");
    expect(await storedCids(parts.blocks)).toEqual([]);
    // Free pushes are still taken.
    const free = await client.services.shardStore.storeShard(parts.node.getMultiaddrs(), upload);
    expect(free.sigma).toBeNull();
  });

  it("stores the shard of a proposed deal and returns σ by the operator key, which activates the deal", async () => {
    parts.host.setDealDesk(new DealDesk({ reader: chain.client(), owner: owner.address, operator }));
    expect(parts.host.paid).toBe(true);
    const { upload } = await makeShard([4096, 4096, 1000], 1);
    const dealId = await proposeFor(upload);
    // Another shard's deal: refused before any piece is sent.
    const other = await makeShard([2048], 2);
    const wrong = client.services.shardStore.storeShard(parts.node.getMultiaddrs(), {
      ...other.upload,
      dealId: numberToBytes(dealId, { size: 32 }),
    });
    await expect(wrong).rejects.toMatchObject({ code: "bad-deal" });
    await expect(wrong).rejects.toThrow("another Merkle root");
    expect(await storedCids(parts.blocks)).toEqual([]);

    const result = await client.services.shardStore.storeShard(parts.node.getMultiaddrs(), {
      ...upload,
      dealId: numberToBytes(dealId, { size: 32 }),
    });
    expect(result.sigma).toHaveLength(65);
    expect(parts.host.catalog.get(upload.manifest, upload.shardIndex)).toBeDefined();
    const { deals } = await acceptDealsSync(wallet(payer), {
      receipts: [{ dealId, signature: bytesToHex(result.sigma as Uint8Array) }],
    });
    expect(deals[0]).toMatchObject({ dealId, host: owner.address, signer: operator.address });
  });
});
