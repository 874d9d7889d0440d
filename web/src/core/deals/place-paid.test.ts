import "fake-indexeddb/auto";
import { type Account, type Address, bytesToHex, getAddress, type LocalAccount, parseEther } from "viem";
import { generatePrivateKey, privateKeyToAccount } from "viem/accounts";
import { getBlock, getTransactionCount } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TabulaClient } from "../../chain/client.ts";
import { DealStatus, dealInfo } from "../../chain/market/deal-info.ts";
import { hostStatus } from "../../chain/market/host-status.ts";
import type { RegisteredHost } from "../../chain/market/registered-hosts.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { startTestChain, type TestChain } from "../../chain/testing/hardhat.ts";
import { stakeHost } from "../../chain/testing/stake-host.ts";
import { allowance } from "../../chain/token/allowance.ts";
import { approve } from "../../chain/token/approve.ts";
import { balanceOf } from "../../chain/token/balance-of.ts";
import { asCid } from "../../lib/cid.ts";
import type { SegmentCodec } from "../../lib/segment-codec.ts";
import { pseudoRandomBytes } from "../../lib/testing/node-wasm.ts";
import type { FilesDB } from "../../storage/files-db.ts";
import { fileSource, useFilesFixture } from "../../storage/testing/files-fixture.ts";
import { loadManifest } from "../files/open-file.ts";
import { storeFile } from "../files/store-file.ts";
import { DealDesk } from "../hosting/deal-desk.ts";
import { UploadIncompleteError } from "../network/errors.ts";
import { placementsOf } from "../network/placements.ts";
import { type Attest, type Behaviour, fakeNetwork } from "../network/testing/fake-hosts.ts";
import { uploadFile } from "../network/upload-file.ts";
import { InsufficientFundsError, NothingToRenewError } from "./errors.ts";
import { DEFAULT_DEAL_DURATION_SECONDS, UploadDealBook } from "./paid-upload.ts";
import { placePaid, quoteFile } from "./place-paid.ts";
import { dealsToRenew, finishRenewals, quoteRenewal, RENEWAL_WINDOW_SECONDS, renewFile } from "./renew-file.ts";
import { endFileDeals, resumeFileDeals } from "./settle-file.ts";
import { verifyDeal } from "./verify-deal.ts";

let codec: SegmentCodec;
let db: FilesDB;
useFilesFixture("place-paid-test", (c, d) => {
  codec = c;
  db = d;
});

const NAMES = ["a", "b", "c", "d"] as const;
/** Host d asks ten times the others' price: it is quoted last. */
const PRICES: Record<string, bigint> = {
  a: parseEther("2"),
  b: parseEther("2"),
  c: parseEther("2"),
  d: parseEther("20"),
};

describe("a file placed for pay: deals escrowed at once, σ from each host's key, all accepted at once", () => {
  let chain: TestChain;
  const owners = new Map<string, LocalAccount>(NAMES.map((n) => [n, privateKeyToAccount(generatePrivateKey())]));
  const operators = new Map<string, LocalAccount>(NAMES.map((n) => [n, privateKeyToAccount(generatePrivateKey())]));
  const client = privateKeyToAccount(generatePrivateKey());
  let payer: TabulaClient<Account>;
  let attest: Record<string, Attest>;

  const registry = async (): Promise<RegisteredHost[]> =>
    await Promise.all(
      NAMES.map(async (peer) => {
        const host = (owners.get(peer) as LocalAccount).address;
        return { ...(await hostStatus(chain.client(), host)), host, peer, peerId: "0x", registeredAt: 0n };
      }),
    );
  const balance = (address: Address) => balanceOf(chain.client(), { address });

  async function storedFile(seed: number): Promise<string> {
    const file = fileSource(pseudoRandomBytes(3 * 1024 * 1024 + 17, seed));
    const { cid } = await storeFile({ codec, store: db }, file, { k: 2, m: 1 });
    return cid.toString();
  }

  async function network(behaviours: Record<string, Behaviour[]>) {
    const { parts } = await fakeNetwork(db, behaviours, { attest });
    return { ...parts, reader: chain.client(), payer: async () => payer, registry };
  }

  beforeAll(async () => {
    chain = await startTestChain({ market: true });
    await chain.fund([client, ...owners.values()].map((a) => a.address));
    for (const peer of NAMES) {
      await stakeHost(chain, {
        owner: owners.get(peer) as LocalAccount,
        operator: operators.get(peer) as LocalAccount,
        peer,
        pricePerGiBMonth: PRICES[peer] as bigint,
      });
    }
    payer = chain.client(client) as TabulaClient<Account>;
    attest = Object.fromEntries(
      NAMES.map((peer) => {
        const desk = new DealDesk({
          reader: chain.client(),
          owner: (owners.get(peer) as LocalAccount).address,
          operator: operators.get(peer) as LocalAccount,
        });
        return [peer, (shard) => desk.attest({ ...shard, dealId: shard.dealId ?? null })] as const;
      }),
    );
  });
  afterAll(() => chain.close());

  it("quotes the cheapest staked hosts, escrows exactly the total, and activates every deal with its host's σ", async () => {
    const cid = await storedFile(1);
    const parts = await network({ a: ["store"], b: ["store"], c: ["store"], d: ["store"] });
    const manifest = await loadManifest(db, cid);
    const quote = await quoteFile(parts, { manifest, manifestCid: cid, placements: [], payer });
    expect(quote.shards.map((s) => s.peer).sort()).toEqual(["a", "b", "c"]);
    expect(quote.candidates.at(-1)?.peer).toBe("d");
    expect(quote.total).toBe(quote.shards.reduce((sum, s) => sum + s.price, 0n));
    expect(quote.tokens).toBe(await balance(client.address));

    // The owner's audit budget (its allowance to the market) outlives the escrow's permit.
    const budget = parseEther("0.5");
    await waitForSuccess(chain.client(), {
      hash: await approve(payer, { spender: marketOf(chain), value: budget }),
      what: "setting the audit budget",
    });
    const before = { client: await balance(client.address), market: await balance(marketOf(chain)) };
    const txs: string[] = [];
    const { placed, refused } = await placePaid({ ...parts, store: db, placements: db }, cid, {
      manifest,
      quote,
      payer,
      onTransaction: (tx) => txs.push(tx.what),
    });
    expect(refused).toEqual([]);
    expect(txs).toEqual(["propose", "accept"]);
    expect(await allowance(chain.client(), { owner: client.address, spender: marketOf(chain) })).toBe(budget);
    expect(await balance(client.address)).toBe(before.client - quote.total);
    expect(await balance(marketOf(chain))).toBe(before.market + quote.total);

    const saved = (await placementsOf(db, cid)).filter((p) => p.deal);
    expect(saved).toHaveLength(3);
    for (const p of placed) {
      const deal = p.deal as NonNullable<typeof p.deal>;
      expect(deal.acceptTx).toMatch(/^0x/);
      expect(deal.sigma).toHaveLength(65);
      expect(deal.endsAtS).toBeGreaterThan(0);
      const info = await dealInfo(chain.client(), deal.id);
      expect(info.status).toBe(DealStatus.Active);
      expect(getAddress(info.host)).toBe((owners.get(p.host) as LocalAccount).address);
      expect(info.client).toBe(client.address);
      // Anyone with the link checks σ from the chain alone, and a deal named for another shard is not this one's.
      const verified = await verifyDeal(chain.client(), { manifestCid: cid, shardIndex: p.shard, dealId: deal.id });
      expect(verified).toMatchObject({ forThisShard: true, validOnChain: true, status: "Active" });
      expect(verified.signer).toBe((operators.get(p.host) as LocalAccount).address);
      expect(verified.sigma).toBe(bytesToHex(deal.sigma as Uint8Array));
      const wrongShard = await verifyDeal(chain.client(), {
        manifestCid: cid,
        shardIndex: p.shard + 1,
        dealId: deal.id,
        sigma: deal.sigma as Uint8Array,
      });
      expect(wrongShard).toMatchObject({ forThisShard: false, validOnChain: false });
    }
  });

  it("moves a refused shard to the next staked host under a new deal and cancels the unused one: the client pays only what is stored", async () => {
    const cid = await storedFile(2);
    const parts = await network({ a: ["store"], b: ["refuse"], c: ["store"], d: ["store"] });
    const manifest = await loadManifest(db, cid);
    const quote = await quoteFile(parts, { manifest, manifestCid: cid, placements: [], payer });
    const before = await balance(client.address);
    const deals: { what: string; ids: bigint[] }[] = [];
    const { placed } = await placePaid({ ...parts, store: db, placements: db }, cid, {
      manifest,
      quote,
      payer,
      onTransaction: (tx) => deals.push({ what: tx.what, ids: tx.dealIds }),
    });
    expect(deals.map((d) => d.what)).toEqual(["propose", "propose", "accept", "cancel"]);
    expect(new Set(placed.map((p) => p.host))).toEqual(new Set(["a", "c", "d"]));
    const paid = placed.reduce((sum, p) => sum + (p.deal?.price ?? 0n), 0n);
    expect(await balance(client.address)).toBe(before - paid);
    const cancelled = deals.at(-1)?.ids ?? [];
    expect(cancelled).toHaveLength(1);
    expect((await dealInfo(chain.client(), cancelled[0] as bigint)).status).toBe(DealStatus.Cancelled);
  });

  it("a reload submits the σ a closed tab kept and cancels the file's other proposals; ending the file refunds the rest", async () => {
    const cid = await storedFile(4);
    const parts = await network({ a: ["store"], b: ["store"], c: ["store"], d: ["store"] });
    const manifest = await loadManifest(db, cid);
    const quote = await quoteFile(parts, { manifest, manifestCid: cid, placements: [], payer });
    const before = await balance(client.address);
    // The tab escrowed all three deals and pushed two shards, then closed before submitting σ.
    const book = new UploadDealBook(
      { reader: chain.client(), payer },
      { quote, manifestCidBytes: asCid(cid).bytes, shards: manifest.shards },
    );
    await book.proposeQuoted();
    await uploadFile({ ...parts, store: db, placements: db }, cid, {
      shards: [0, 1],
      assign: new Map(quote.shards.map((s) => [s.shard, s.peer])),
      deals: book,
    });
    expect(await balance(client.address)).toBe(before - quote.total);

    const resumed = await resumeFileDeals(
      { reader: chain.client(), payer },
      {
        manifestCid: cid,
        placements: await placementsOf(db, cid),
      },
    );
    expect(resumed.accepted.map((p) => p.shard).sort()).toEqual([0, 1]);
    expect(resumed.transactions.map((t) => t.what)).toEqual(["accept", "cancel"]);
    const third = quote.shards.find((s) => s.shard === 2) as (typeof quote.shards)[number];
    expect(resumed.cancelled).toHaveLength(1);
    expect(await balance(client.address)).toBe(before - quote.total + third.price);
    for (const p of resumed.accepted) {
      expect((await dealInfo(chain.client(), (p.deal as NonNullable<typeof p.deal>).id)).status).toBe(
        DealStatus.Active,
      );
    }
    // Nothing is left to resume.
    const again = await resumeFileDeals({ reader: chain.client(), payer }, { manifestCid: cid, placements: [] });
    expect(again.transactions).toEqual([]);

    await chain.advance(3600);
    const paid = before - quote.total + third.price;
    const ended = await endFileDeals({ reader: chain.client(), payer }, { placements: resumed.accepted });
    expect(ended.ended).toHaveLength(2);
    expect(ended.hostPayments + ended.refund).toBe(quote.total - third.price);
    expect(ended.hostPayments).toBeGreaterThan(0n);
    expect(await balance(client.address)).toBe(paid + ended.refund);
  });

  it("renews deals near their end on the hosts that hold them, the old ones ended with their unused rest back; a host that refuses keeps its running deal", async () => {
    const cid = await storedFile(5);
    const parts = await network({ a: ["store"], b: ["store", "refuse"], c: ["store"], d: ["store"] });
    const manifest = await loadManifest(db, cid);
    const first = await quoteFile(parts, { manifest, manifestCid: cid, placements: [], payer });
    await placePaid({ ...parts, store: db, placements: db }, cid, { manifest, quote: first, payer });
    const placed = await placementsOf(db, cid);
    const oldDeal = new Map(placed.map((p) => [p.host, p.deal?.id as bigint]));
    const chainNow = async () => Number((await getBlock(chain.client())).timestamp);
    expect(dealsToRenew(placed, await chainNow())).toEqual([]);
    await expect(
      quoteRenewal(parts, { manifest, manifestCid: cid, placements: placed, payer, nowS: await chainNow() }),
    ).rejects.toBeInstanceOf(NothingToRenewError);

    await chain.advance(Number(DEFAULT_DEAL_DURATION_SECONDS) - RENEWAL_WINDOW_SECONDS + 60);
    const nowS = await chainNow();
    expect(
      dealsToRenew(placed, nowS)
        .map((r) => r.host)
        .sort(),
    ).toEqual(["a", "b", "c"]);
    // Past its end a deal is not renewed (the host may have dropped the shard): the repair places it again.
    const lastEnd = Math.max(...placed.map((p) => p.deal?.endsAtS ?? 0));
    expect(dealsToRenew(placed, lastEnd)).toEqual([]);
    const quote = await quoteRenewal(parts, { manifest, manifestCid: cid, placements: placed, payer, nowS });
    expect(quote.shards.map((s) => `${s.shard}:${s.peer}`).sort()).toEqual(
      placed.map((p) => `${p.shard}:${p.host}`).sort(),
    );
    expect(new Set(quote.renews?.map((r) => r.dealId))).toEqual(new Set(oldDeal.values()));

    const before = await balance(client.address);
    const txs: { what: string; ids: bigint[] }[] = [];
    const failed = await renewFile({ ...parts, store: db, placements: db }, cid, {
      manifest,
      quote,
      payer,
      onTransaction: (tx) => txs.push({ what: tx.what, ids: tx.dealIds }),
    }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(UploadIncompleteError);
    expect(txs.map((t) => t.what)).toEqual(["propose", "accept", "cancel", "end"]);
    const ended = txs.at(-1)?.ids ?? [];
    expect(new Set(ended)).toEqual(new Set([oldDeal.get("a"), oldDeal.get("c")]));

    const after = await placementsOf(db, cid);
    let newTotal = 0n;
    let refund = 0n;
    for (const host of ["a", "c"]) {
      const p = after.find((x) => x.host === host);
      const renewed = p?.deal as NonNullable<NonNullable<typeof p>["deal"]>;
      expect(renewed.id).not.toBe(oldDeal.get(host));
      expect(renewed.renews).toBeUndefined();
      expect((await dealInfo(chain.client(), renewed.id)).status).toBe(DealStatus.Active);
      newTotal += renewed.price;
      const old = await dealInfo(chain.client(), oldDeal.get(host) as bigint);
      expect(old.status).toBe(DealStatus.Ended);
      // Ended now: the host is paid to now, the client gets the rest.
      refund += old.price - old.claimed;
    }
    // b refused: its shard keeps the running deal, and its record says so.
    const b = after.find((x) => x.host === "b");
    expect(b).toMatchObject({ status: "live", deal: { id: oldDeal.get("b") } });
    expect((await dealInfo(chain.client(), oldDeal.get("b") as bigint)).status).toBe(DealStatus.Active);
    expect(await balance(client.address)).toBe(before - newTotal + refund);
  });

  it("finishes a renewal a closed tab left before ending the deals it replaces, once, in one transaction", async () => {
    const cid = await storedFile(6);
    const parts = await network({ a: ["store"], b: ["store"], c: ["store"], d: ["store"] });
    const manifest = await loadManifest(db, cid);
    const first = await quoteFile(parts, { manifest, manifestCid: cid, placements: [], payer });
    await placePaid({ ...parts, store: db, placements: db }, cid, { manifest, quote: first, payer });
    const old = (await placementsOf(db, cid)).map((p) => p.deal?.id as bigint);
    await chain.advance(Number(DEFAULT_DEAL_DURATION_SECONDS) - RENEWAL_WINDOW_SECONDS + 60);
    const nowS = Number((await getBlock(chain.client())).timestamp);
    const placed = await placementsOf(db, cid);
    const quote = await quoteRenewal(parts, { manifest, manifestCid: cid, placements: placed, payer, nowS });
    // The new deals run, and the tab closes before the old ones are ended.
    await placePaid({ ...parts, store: db, placements: db }, cid, { manifest, quote, payer, placements: [] });
    const halfway = await placementsOf(db, cid);
    expect(new Set(halfway.map((p) => p.deal?.renews))).toEqual(new Set(old));
    for (const id of old) expect((await dealInfo(chain.client(), id)).status).toBe(DealStatus.Active);

    const store = { reader: chain.client(), sender: payer, owner: client.address, store: db };
    const finished = await finishRenewals(store, cid);
    expect(new Set(finished.ended)).toEqual(new Set(old));
    for (const id of old) expect((await dealInfo(chain.client(), id)).status).toBe(DealStatus.Ended);
    expect((await placementsOf(db, cid)).map((p) => p.deal?.renews)).toEqual([undefined, undefined, undefined]);
    const nonce = await getTransactionCount(chain.client(), { address: client.address });
    expect(await finishRenewals(store, cid)).toEqual({ ended: [], hostPayments: 0n, refund: 0n });
    expect(await getTransactionCount(chain.client(), { address: client.address })).toBe(nonce);
  });

  it("refuses to start when the wallet cannot pay, naming what is missing; nothing is sent", async () => {
    const cid = await storedFile(3);
    const poor = privateKeyToAccount(generatePrivateKey());
    await chain.fund([poor.address], { tokens: 0n, eth: parseEther("1") });
    const poorPayer = chain.client(poor) as TabulaClient<Account>;
    const parts = await network({ a: ["store"], b: ["store"], c: ["store"], d: ["store"] });
    const manifest = await loadManifest(db, cid);
    const quote = await quoteFile(parts, { manifest, manifestCid: cid, placements: [], payer: poorPayer });
    const attempt = placePaid({ ...parts, store: db, placements: db }, cid, { manifest, quote, payer: poorPayer });
    await expect(attempt).rejects.toBeInstanceOf(InsufficientFundsError);
    await expect(attempt).rejects.toMatchObject({ missingTokens: quote.total, missingEth: 0n });
    expect(await getTransactionCount(chain.client(), { address: poor.address })).toBe(0);
  });
});

function marketOf(chain: TestChain): Address {
  return chain.chain.contracts.StorageMarket?.address as Address;
}
