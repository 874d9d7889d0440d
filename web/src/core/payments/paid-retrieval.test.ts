import { randomBytes } from "node:crypto";
import type { Libp2p } from "@libp2p/interface";
import { MemoryBlockstore } from "blockstore-core";
import type { CID } from "multiformats/cid";
import { type Address, parseEther } from "viem";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { getTransactionCount } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ChannelStatus, getChannel } from "../../chain/bandwidth/channel.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { OperatorRole } from "../../chain/operators/roles.ts";
import { TEST_CHANNEL_WINDOWS } from "../../chain/testing/hardhat.ts";
import { PaymentRefusedError, RemoteRefusedError } from "../../p2p/protocols/common/errors.ts";
import { pieceCid } from "../../p2p/protocols/common/pieces.ts";
import type { PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import { type FetchedPiece, type ShardFetch, shardFetch } from "../../p2p/protocols/shard-fetch/index.ts";
import type { PayerGate } from "../../p2p/protocols/transfer/index.ts";
import { MemoryHost } from "../../p2p/testing/memory-host.ts";
import { createTcpNode } from "../../p2p/testing/tcp-node.ts";
import { enableKeyRoles } from "../wallet/key-roles.ts";
import { MAX_CREDIT_BYTES } from "./bandwidth-payee.ts";
import type { BandwidthPayer } from "./bandwidth-payer.ts";
import { transferCost, unitsFor } from "./cost.ts";
import type { HashChainPayer } from "./hash-chain-payer.ts";
import { type PaidTransferFixture, startPaidTransfers } from "./testing/paid-transfer.ts";
import type { TransferPayee } from "./transfer-payee.ts";

/** 0.001 TAB per MB. */
const PRICE = parseEther("0.001");
const PIECE_BYTES = 1024 * 1024;
const PIECES = 12;

type FetchNode = Libp2p<{ shardFetch: ShardFetch }>;

describe("pieces fetched for pay from a host, on a real chain", () => {
  let fixture: PaidTransferFixture;
  let host: FetchNode;
  let requester: FetchNode;
  /** What the host asks to be paid for what it serves (set by each test). */
  let retrieval: TransferPayee | undefined;
  /** Blocks the host gives free while it charges (set by a test). */
  let free = new Set<string>();
  const pieces: { cid: CID; bytes: Uint8Array }[] = [];

  beforeAll(async () => {
    fixture = await startPaidTransfers();
    const store = new MemoryBlockstore();
    for (let i = 0; i < PIECES; i++) {
      const bytes = new Uint8Array(randomBytes(PIECE_BYTES));
      const cid = await pieceCid(bytes);
      await store.put(cid, bytes);
      pieces.push({ cid, bytes });
    }
    host = await createTcpNode({
      shardFetch: shardFetch({
        host: { ...new MemoryHost(store).shardFetch(), payment: () => retrieval, free: (cid) => free.has(String(cid)) },
      }),
    });
    requester = await createTcpNode({ shardFetch: shardFetch() });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([host?.stop(), requester?.stop()]);
    await fixture?.close();
  });

  const total = PIECES * PIECE_BYTES;

  /** Fetches every piece from the host, paying through `gate` (each piece checked); the pieces it got. */
  async function fetchAll(gate?: PayerGate): Promise<{ got: FetchedPiece[]; failure?: unknown }> {
    const got: FetchedPiece[] = [];
    try {
      for await (const piece of requester.services.shardFetch.fetchPieces(
        host.getMultiaddrs(),
        pieces.map((p) => p.cid),
        gate ? { payer: { gate, totalBytes: total } } : {},
      )) {
        got.push(piece);
      }
      return { got };
    } catch (failure) {
      return { got, failure };
    }
  }

  it("serves every piece paid for as it arrives, and is paid exactly their price once the channel settles", async () => {
    const { payee, payer, payeeKey, payerKey, chain } = fixture;
    const channels = chain.chain.contracts.BandwidthChannel?.address as Address;
    const [payeeBefore, payerBefore, heldBefore] = await fixture.balances(payee.address, payer.address, channels);
    const hostSide = fixture.payments(payee, payeeKey);
    const clientSide = fixture.payments(payer, payerKey);
    retrieval = await hostSide.payee(PRICE, { schemes: ["bandwidth"] });
    const paying = (await clientSide.payer(retrieval.terms, BigInt(total))) as BandwidthPayer;
    const { got, failure } = await fetchAll(paying.gate());
    expect(failure).toBeUndefined();
    expect(got.map((p) => p.bytes)).toEqual(pieces.map((p) => p.bytes));
    const [channel] = retrieval.channels;
    expect(channel).toMatchObject({ sentBytes: BigInt(total), paidBytes: BigInt(total) });

    // The host closes with the last unit both signed; after the window its tab settles.
    await hostSide.close(retrieval);
    expect((await getChannel(chain.client(), { channelId: paying.channelId })).status).toBe(ChannelStatus.Closing);
    await chain.advance(TEST_CHANNEL_WINDOWS.challengeSeconds + 1n);
    await hostSide.refresh();
    await Promise.all([hostSide.stop(), clientSide.stop()]);
    const cost = (BigInt(total) * PRICE) / 1_000_000n;
    const [payeeAfter, payerAfter, heldAfter] = await fixture.balances(payee.address, payer.address, channels);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(cost);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(cost);
    expect(heldAfter).toBe(heldBefore);
  }, 120_000);

  it("locks a download's hosts together: their bandwidth channels in one transaction, any other scheme on its own", async () => {
    const { payee, payer, payeeKey, payerKey, chain } = fixture;
    const reader = chain.client();
    const others = [privateKeyToAccount(generatePrivateKey()), privateKeyToAccount(generatePrivateKey())];
    await chain.fund(others.map((o) => o.address));
    const hostSide = fixture.payments(payee, payeeKey);
    const otherSides = others.map((o) => fixture.payments(o, privateKeyToAccount(generatePrivateKey())));
    const clientSide = fixture.payments(payer, payerKey);
    retrieval = await hostSide.payee(PRICE, { schemes: ["bandwidth"] });
    const [second, third] = [
      await otherSides[0]?.payee(2n * PRICE, { schemes: ["bandwidth", "hash-chain"] }),
      await otherSides[1]?.payee(PRICE, { schemes: ["hash-chain"] }),
    ];
    const owner = chain.client(payer) as TabulaClient<PrivateKeyAccount>;
    await enableKeyRoles({ reader, owner, key: payerKey }, OperatorRole.Payer, "paying");
    const requests = [
      { terms: retrieval.terms, totalBytes: BigInt(total) },
      { terms: third?.terms as PaymentTerms, totalBytes: 3n * BigInt(PIECE_BYTES) },
      { terms: second?.terms as PaymentTerms, totalBytes: 5n * BigInt(PIECE_BYTES) },
    ];
    const sentBefore = await getTransactionCount(reader, { address: payer.address });
    const paying = await clientSide.payers(requests);
    // Two bandwidth channels in one transaction, the hash chain in another.
    expect((await getTransactionCount(reader, { address: payer.address })) - sentBefore).toBe(2);
    expect(paying.map((p) => p.view.scheme)).toEqual(["bandwidth", "hash-chain", "bandwidth"]);
    const [first, , last] = paying as [BandwidthPayer, HashChainPayer, BandwidthPayer];
    expect(first.openTx).toBe(last.openTx);
    expect(last.channelId).toBe(first.channelId + 1n);
    for (const [payment, request] of [
      [first, requests[0]],
      [last, requests[2]],
    ] as const) {
      const channel = await getChannel(reader, { channelId: payment.channelId });
      expect(channel).toMatchObject({
        payer: payer.address,
        payee: request?.terms.payee,
        deposit: transferCost(request?.terms as PaymentTerms, request?.totalBytes as bigint),
        pricePerMB: request?.terms.pricePerMB,
      });
    }
    // A channel opened with the others pays its host as one opened alone does.
    const { got, failure } = await fetchAll(first.gate());
    expect(failure).toBeUndefined();
    expect(got.map((p) => p.bytes)).toEqual(pieces.map((p) => p.bytes));
    expect(retrieval.channels[0]).toMatchObject({ sentBytes: BigInt(total), paidBytes: BigInt(total) });
    await hostSide.close(retrieval);
    await Promise.all([hostSide.stop(), clientSide.stop(), ...otherSides.map((side) => side?.stop())]);
  }, 120_000);

  it("stops serving a requester that stops paying, within the credit, and says why", async () => {
    const { payee, payer, payeeKey, payerKey } = fixture;
    const hostSide = fixture.payments(payee, payeeKey, { paymentTimeoutMs: 2_000 });
    const clientSide = fixture.payments(payer, payerKey);
    retrieval = await hostSide.payee(PRICE, { schemes: ["bandwidth"] });
    const paying = (await clientSide.payer(retrieval.terms, BigInt(total))) as BandwidthPayer;
    const gate = paying.gate();
    const PAY_UP_TO = 3 * PIECE_BYTES;
    const { got, failure } = await fetchAll({
      ...gate,
      received: async (position) => (position <= PAY_UP_TO ? await gate.received(position) : undefined),
    });
    expect(failure).toBeInstanceOf(RemoteRefusedError);
    expect((failure as RemoteRefusedError).code).toBe("payment-stopped");
    const [channel] = retrieval.channels;
    expect(channel?.paidBytes).toBeLessThanOrEqual(BigInt(PAY_UP_TO));
    expect(channel?.sentBytes).toBeLessThanOrEqual((channel?.paidBytes ?? 0n) + MAX_CREDIT_BYTES);
    expect(got.length).toBeLessThan(PIECES);
    await Promise.all([hostSide.stop(), clientSide.stop()]);
  }, 120_000);

  it("settles each fetch on its own once it ends: a hash chain paid per MB is redeemed with no call", async () => {
    const { payee, payer, payeeKey, payerKey, chain } = fixture;
    const chains = chain.chain.contracts.HashChainChannel?.address as Address;
    const [payeeBefore, payerBefore, heldBefore] = await fixture.balances(payee.address, payer.address, chains);
    const hostSide = fixture.payments(payee, payeeKey);
    const clientSide = fixture.payments(payer, payerKey);
    retrieval = await hostSide.payee(PRICE, { schemes: ["hash-chain"], settleEach: true });
    const paying = (await clientSide.payer(retrieval.terms, BigInt(total))) as HashChainPayer;
    const { got, failure } = await fetchAll(paying.gate());
    expect(failure).toBeUndefined();
    expect(got.map((p) => p.bytes)).toEqual(pieces.map((p) => p.bytes));
    // The host's tab redeems the chain once the fetch is over: no close was asked for.
    const id = BigInt(paying.id);
    await vi.waitFor(() => expect(hostSide.channels.find((c) => c.channelId === id)?.status).toBe("Redeemed"), {
      timeout: 30_000,
    });
    // The payee lets go of the settled fetch: a host that serves many holds only the fetches under way.
    await vi.waitFor(() => expect(retrieval?.channels.map((c) => c.channelId)).not.toContain(id), { timeout: 30_000 });
    await Promise.all([hostSide.stop(), clientSide.stop()]);
    const cost = unitsFor(BigInt(total)) * PRICE;
    const [payeeAfter, payerAfter, heldAfter] = await fixture.balances(payee.address, payer.address, chains);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(cost);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(cost);
    expect(heldAfter).toBe(heldBefore);
  }, 120_000);

  it("refuses a requester that names another requester's channel or chain, in either scheme", async () => {
    const { payee, payer, payeeKey, payerKey } = fixture;
    const hostSide = fixture.payments(payee, payeeKey);
    const clientSide = fixture.payments(payer, payerKey);
    retrieval = await hostSide.payee(PRICE, { schemes: ["bandwidth", "hash-chain"] });
    const session = (receiver: string) => ({
      receiver,
      totalBytes: total,
      position: 0,
      signal: AbortSignal.timeout(30_000),
    });
    for (const scheme of ["bandwidth", "hash-chain"] as const) {
      const paying = await clientSide.payer(retrieval.terms, BigInt(total), { scheme });
      const { opening } = paying.gate();
      await retrieval.admit(opening, session("honest"));
      // The same requester again (a resumed fetch) goes on; another is refused before a byte.
      await retrieval.admit(opening, session("honest"));
      await expect(retrieval.admit(opening, session("thief"))).rejects.toBeInstanceOf(PaymentRefusedError);
    }
    await hostSide.close(retrieval);
    await Promise.all([hostSide.stop(), clientSide.stop()]);
  }, 120_000);

  it("says which pieces it holds for free, and gives a manifest free, but not a piece", async () => {
    const { payee, payeeKey } = fixture;
    const hostSide = fixture.payments(payee, payeeKey);
    retrieval = await hostSide.payee(PRICE, { schemes: ["bandwidth"] });
    const absent = await pieceCid(new Uint8Array(randomBytes(64)));
    const asked = [absent, ...pieces.slice(0, 3).map((p) => p.cid)];
    const held = await requester.services.shardFetch.holds(host.getMultiaddrs(), asked);
    expect(held.map(String)).toEqual(pieces.slice(0, 3).map((p) => String(p.cid)));
    // The first piece stands in for a manifest: the host gives it free, and refuses the piece after it.
    free = new Set([String(pieces[0]?.cid)]);
    const got: FetchedPiece[] = [];
    const fetching = (async () => {
      for await (const piece of requester.services.shardFetch.fetchPieces(
        host.getMultiaddrs(),
        pieces.slice(0, 2).map((p) => p.cid),
      )) {
        got.push(piece);
      }
    })();
    const failure = await fetching.then(
      () => undefined,
      (error: unknown) => error,
    );
    free = new Set();
    expect(got.map((p) => p.bytes)).toEqual([pieces[0]?.bytes]);
    expect((failure as RemoteRefusedError).code).toBe("payment-required");
    await hostSide.stop();
  }, 60_000);

  it("tells a requester that opens without a payment that the host serves for pay, and serves nothing", async () => {
    const { payee, payeeKey } = fixture;
    const hostSide = fixture.payments(payee, payeeKey);
    retrieval = await hostSide.payee(PRICE, { schemes: ["bandwidth"] });
    const { got, failure } = await fetchAll();
    expect(failure).toBeInstanceOf(RemoteRefusedError);
    expect((failure as RemoteRefusedError).code).toBe("payment-required");
    expect(got).toEqual([]);
    await hostSide.stop();
  }, 60_000);
});
