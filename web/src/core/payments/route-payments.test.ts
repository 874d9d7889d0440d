import { randomBytes } from "node:crypto";
import type { Libp2p } from "@libp2p/interface";
import { type Address, custom, parseEther } from "viem";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { getTransactionCount } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ChannelStatus, getChannel } from "../../chain/bandwidth/channel.ts";
import { closeChannel, settleChannel } from "../../chain/bandwidth/channel-actions.ts";
import { getRoute, routeLock } from "../../chain/bandwidth/route.ts";
import { createTabulaClient, type TabulaClient } from "../../chain/client.ts";
import { OperatorRole } from "../../chain/operators/roles.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { TEST_CHANNEL_WINDOWS } from "../../chain/testing/hardhat.ts";
import { usageCost } from "../../lib/payments/bandwidth.ts";
import { PaymentRefusedError } from "../../p2p/protocols/common/errors.ts";
import { encodeBandwidthMessage, type PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import {
  blobSource,
  type PayeeGate,
  type PayerGate,
  type Payment,
  transfer,
  transferProxy,
} from "../../p2p/protocols/transfer/index.ts";
import { createTcpNode } from "../../p2p/testing/tcp-node.ts";
import { enableKeyRoles } from "../wallet/key-roles.ts";
import { MAX_CREDIT_BYTES } from "./bandwidth-payee.ts";
import { BandwidthPayer } from "./bandwidth-payer.ts";
import { transferCost } from "./cost.ts";
import { RouteProxy } from "./route-proxy.ts";
import {
  memorySink,
  type PaidTransferFixture,
  type PaymentsOptions,
  startPaidTransfers,
} from "./testing/paid-transfer.ts";
import type { SchemePayer } from "./types.ts";

/** What the payee asks per MB. */
const PRICE = parseEther("0.001");
const TOTAL = 12n * 1024n * 1024n;
/** Bytes carried per step, as chunks of a transfer would be. */
const STEP = 256n * 1024n;

/** Hands `payment` to the other side and its answers back, until neither has more to say. */
async function exchange(payment: Payment | undefined, payer: PayerGate, payee: PayeeGate): Promise<void> {
  let next = payment;
  while (next) {
    const answer = await payee.receive(next);
    next = answer ? await payer.answer(answer) : undefined;
  }
}

/** A client that sends as `account`. */
function owned(account: PrivateKeyAccount): TabulaClient<PrivateKeyAccount> {
  return fixture.chain.client(account) as TabulaClient<PrivateKeyAccount>;
}

let fixture: PaidTransferFixture;
/** The owner that carries routes, and its tab's key. */
const PROXY = privateKeyToAccount(generatePrivateKey());
const PROXY_KEY = privateKeyToAccount(generatePrivateKey());

/** The balances a route moves: the payee's, the payer's, the proxy's, and what the channels hold. */
async function routeBalances(): Promise<bigint[]> {
  const { chain, payee, payer } = fixture;
  const channels = chain.chain.contracts.BandwidthChannel?.address as Address;
  return (await fixture.balances(payee.address, payer.address, PROXY.address, channels)) as bigint[];
}

/** The payee got `toPayee`, the payer paid `toProxy`, the proxy kept the difference, the channels hold no more. */
async function expectRouteSettled(before: bigint[], moved: { toPayee: bigint; toProxy: bigint }): Promise<void> {
  const [payeeBefore, payerBefore, proxyBefore, heldBefore] = before as [bigint, bigint, bigint, bigint];
  const [payeeAfter, payerAfter, proxyAfter, heldAfter] = (await routeBalances()) as [bigint, bigint, bigint, bigint];
  expect(payeeAfter - payeeBefore).toBe(moved.toPayee);
  expect(proxyAfter - proxyBefore).toBe(moved.toProxy - moved.toPayee);
  expect(payerBefore - payerAfter).toBe(moved.toProxy);
  expect(heldAfter).toBe(heldBefore);
}

/**
 * The three sides of a route and its two extra nodes: a carrying node linked to `sender` whose proxy is the
 * fixture's proxy owner, and a reading node linked to the carrying one.
 */
async function carriedRoute(sender: Libp2p, options: { payee?: PaymentsOptions; proxy?: PaymentsOptions } = {}) {
  const { payee, payeeKey, payer, payerKey } = fixture;
  const payeeSide = fixture.payments(payee, payeeKey, options.payee);
  const payerSide = fixture.payments(payer, payerKey);
  const proxySide = fixture.payments(PROXY, PROXY_KEY, options.proxy);
  const carrier = await proxySide.carrier();
  const carrying = await createTcpNode({
    transfer: transfer(),
    transferProxy: transferProxy({ carrier: () => carrier }),
  });
  const reading = await createTcpNode({ transfer: transfer() });
  const stop = async () => {
    await Promise.all([payeeSide.stop(), payerSide.stop(), proxySide.stop(), carrying.stop(), reading.stop()]);
  };
  try {
    await carrying.dial(sender.getMultiaddrs());
    await reading.dial(carrying.getMultiaddrs());
  } catch (error) {
    await stop();
    throw error;
  }
  return { payeeSide, payerSide, proxySide, carrying, reading, stop };
}

describe("a proxy route, on a real chain: the payer pays the proxy 110 %, the proxy pays the payee", () => {
  const proxy = PROXY;
  const proxyKey = PROXY_KEY;

  beforeAll(async () => {
    fixture = await startPaidTransfers();
    await fixture.chain.fund([proxy.address]);
  }, 60_000);

  afterAll(async () => {
    await fixture?.close();
  });

  /** The payer's route to the payee's terms through the proxy, and the proxy's side of it. */
  async function openRoute(total: bigint) {
    const { chain, payee, payeeKey, payer, payerKey } = fixture;
    const reader = chain.client();
    const payeeSide = fixture.payments(payee, payeeKey);
    const earning = await payeeSide.payee(PRICE, { schemes: ["bandwidth"] });
    await enableKeyRoles({ reader, owner: owned(payer), key: payerKey }, OperatorRole.Payer, "paying");
    await enableKeyRoles(
      { reader, owner: owned(proxy), key: proxyKey },
      OperatorRole.Payer | OperatorRole.Payee,
      "carrying transfers",
    );
    const sentBefore = await getTransactionCount(reader, { address: payer.address });
    const paying = await BandwidthPayer.openRoute({
      reader,
      owner: owned(payer),
      operator: payerKey,
      terms: earning.terms,
      totalBytes: total,
      proxy: proxy.address,
    });
    const payerTransactions = (await getTransactionCount(reader, { address: payer.address })) - sentBefore;
    return { reader, payeeSide, earning, paying, payerTransactions };
  }

  it("carries 12 MiB: every leg settles to the exact price of the bytes, and the proxy keeps its 10 %", async () => {
    const { chain, payee } = fixture;
    const before = await routeBalances();
    const { reader, payeeSide, earning, paying, payerTransactions } = await openRoute(TOTAL);
    // The payer's lock is one permit and one transaction.
    expect(payerTransactions).toBe(1);
    const amount = transferCost({ pricePerMB: PRICE }, TOTAL);
    expect(await getRoute(reader, { upstreamId: paying.channelId })).toEqual({
      amount,
      pricePerMB: PRICE,
      downstreamId: 0n,
    });
    const payerGate = paying.gate();
    const proxySentBefore = await getTransactionCount(reader, { address: proxy.address });
    const carrier = await RouteProxy.open(
      { reader, owner: owned(proxy), operator: proxyKey },
      payerGate.opening,
      { payee: payee.address, pricePerMB: PRICE },
      { receiver: "payer", signal: AbortSignal.timeout(60_000) },
    );
    expect(carrier.totalBytes).toBeGreaterThanOrEqual(TOTAL);
    // The proxy's owner funds its leg with one permit and one transaction (its key confirms the upstream leg).
    expect((await getTransactionCount(reader, { address: proxy.address })) - proxySentBefore).toBe(1);
    const legGate = carrier.downstream.gate();
    const payeeGate = await earning.admit(legGate.opening, {
      receiver: "proxy",
      totalBytes: Number(TOTAL),
      position: 0,
      signal: AbortSignal.timeout(60_000),
    });

    // The bytes flow payee → proxy → payer; each side pays for what it received, and no side goes beyond its credit.
    const signal = AbortSignal.timeout(60_000);
    for (let end = STEP; end <= TOTAL; end += STEP) {
      await payeeGate.allow(Number(end), signal);
      await exchange(await legGate.received(Number(end)), legGate, payeeGate);
      await carrier.upstream.allow(Number(end), signal);
      await exchange(await payerGate.received(Number(end)), payerGate, carrier.upstream);
    }
    expect(payeeGate.paid(Number(TOTAL))).toBe(true);
    expect(carrier.upstream.paid(Number(TOTAL))).toBe(true);

    // Each payee closes its leg with the last unit both signed; after the window, both settle.
    const downstreamId = (await getRoute(reader, { upstreamId: paying.channelId })).downstreamId;
    expect(downstreamId).toBe(carrier.downstream.channelId);
    await payeeSide.close(earning);
    const proxyOperator = createTabulaClient({ chain: reader.chain, account: proxyKey });
    const agreed = carrier.upstreamPayee.agreed(paying.channelId);
    if (!agreed) throw new Error("the proxy kept no unit of the upstream leg");
    await waitForSuccess(reader, { hash: await closeChannel(proxyOperator, { agreed }), what: "closing upstream" });
    await chain.advance(TEST_CHANNEL_WINDOWS.challengeSeconds + 1n);
    for (const channelId of [paying.channelId, downstreamId]) {
      await waitForSuccess(reader, { hash: await settleChannel(proxyOperator, { channelId }), what: "settling" });
      expect((await getChannel(reader, { channelId })).status).toBe(ChannelStatus.Settled);
    }
    await payeeSide.stop();

    // Every token accounted for: the payee got the bytes' price, the proxy 10 % on top, the payer paid both.
    const toPayee = usageCost({ deposit: amount, pricePerMB: PRICE, lossToleranceBytes: 0n }, TOTAL);
    const toProxy = usageCost(
      { deposit: routeLock(amount), pricePerMB: routeLock(PRICE), lossToleranceBytes: 0n },
      TOTAL,
    );
    expect(toProxy - toPayee).toBe(toPayee / 10n);
    await expectRouteSettled(before, { toPayee, toProxy });
  }, 180_000);

  it("carries a paid transfer between two peers through a third: byte-identical, every leg settled exactly", async () => {
    const { chain, payee, sender } = fixture;
    const before = await routeBalances();
    const { payeeSide, payerSide, proxySide, carrying, reading, stop } = await carriedRoute(sender);
    try {
      const data = new Uint8Array(randomBytes(6 * 1024 * 1024 + 777));
      const earning = await payeeSide.payee(PRICE, { schemes: ["bandwidth"] });
      const share = await sender.services.transfer.share([blobSource(new Blob([data]), "carried.bin", "")], {
        payment: earning,
      });
      const sink = memorySink(data.byteLength);
      let routedTo: Address | undefined;
      let paying: SchemePayer | undefined;
      await reading.services.transfer.receive(share.ticket, sink, {
        via: { peer: carrying.peerId.toString(), target: carrying.getMultiaddrs() },
        onRoute: (address) => {
          routedTo = address;
        },
        onOffer: () => true,
        payer: async ({ totalBytes, via }) => {
          paying ??= await payerSide.payer(share.ticket.terms as PaymentTerms, BigInt(totalBytes), {
            via: via as Address,
          });
          return paying.gate();
        },
      });
      await share.done;
      expect(routedTo).toBe(proxy.address);
      expect(Buffer.from(sink.bytes).equals(Buffer.from(data))).toBe(true);

      // Both legs close once the transfer is over (the sender its own, the proxy the receiver's); both settle.
      await payeeSide.close(earning);
      const upstreamId = (paying as BandwidthPayer).channelId;
      const { downstreamId } = await getRoute(chain.client(), { upstreamId });
      await vi.waitFor(
        async () =>
          expect((await getChannel(chain.client(), { channelId: upstreamId })).status).toBe(ChannelStatus.Closing),
        { timeout: 30_000 },
      );
      await chain.advance(TEST_CHANNEL_WINDOWS.challengeSeconds + 1n);
      await Promise.all([payeeSide.refresh(), proxySide.refresh()]);
      for (const channelId of [upstreamId, downstreamId]) {
        expect((await getChannel(chain.client(), { channelId })).status).toBe(ChannelStatus.Settled);
      }
      // Every byte was paid on both legs, and the proxy's money page shows both legs of the route, to the payee.
      expect((await getChannel(chain.client(), { channelId: upstreamId })).agreedBytes).toBe(BigInt(data.byteLength));
      expect((await getChannel(chain.client(), { channelId: downstreamId })).agreedBytes).toBe(BigInt(data.byteLength));
      const legs = proxySide.channels.filter((c) => c.route?.payee === payee.address);
      expect(legs.map((c) => [c.role, c.status])).toEqual(
        expect.arrayContaining([
          ["payee", "Settled"],
          ["payer", "Settled"],
        ]),
      );

      const total = BigInt(data.byteLength);
      const amount = transferCost({ pricePerMB: PRICE }, total);
      const toPayee = usageCost({ deposit: amount, pricePerMB: PRICE, lossToleranceBytes: 0n }, total);
      const toProxy = usageCost(
        { deposit: routeLock(amount), pricePerMB: routeLock(PRICE), lossToleranceBytes: 0n },
        total,
      );
      await expectRouteSettled(before, { toPayee, toProxy });
    } finally {
      await stop();
    }
  }, 180_000);

  it("resumes a carried transfer whose link to the proxy dropped, on the same legs, and every leg settles exactly", async () => {
    const { chain, sender } = fixture;
    const before = await routeBalances();
    const { payeeSide, payerSide, proxySide, carrying, reading, stop } = await carriedRoute(sender);
    try {
      const data = new Uint8Array(randomBytes(10 * 1024 * 1024 + 333));
      const DROP_AT = 5 * 1024 * 1024;
      const earning = await payeeSide.payee(PRICE, { schemes: ["bandwidth"] });
      const share = await sender.services.transfer.share([blobSource(new Blob([data]), "resumed.bin", "")], {
        payment: earning,
      });
      const sink = memorySink(data.byteLength);
      let paying: SchemePayer | undefined;
      let dropped = false;
      let interruptions = 0;
      const outcome = await reading.services.transfer.receive(share.ticket, sink, {
        via: { peer: carrying.peerId.toString(), target: carrying.getMultiaddrs() },
        onOffer: () => true,
        onInterrupted: () => {
          interruptions += 1;
        },
        payer: async ({ totalBytes, via }) => {
          paying ??= await payerSide.payer(share.ticket.terms as PaymentTerms, BigInt(totalBytes), {
            via: via as Address,
          });
          const gate = paying.gate();
          return {
            ...gate,
            received: async (position) => {
              const payment = await gate.received(position);
              if (!dropped && position >= DROP_AT) {
                // The payment is lost with the link to the proxy: the receiver asks for the route again.
                dropped = true;
                for (const connection of reading.getConnections(carrying.peerId)) {
                  connection.abort(new Error("network lost"));
                }
                return undefined;
              }
              return payment;
            },
          };
        },
      });
      await share.done;
      expect(dropped).toBe(true);
      expect(interruptions).toBeGreaterThanOrEqual(1);
      expect(outcome.attempts).toBeGreaterThanOrEqual(2);
      expect(Buffer.from(sink.bytes).equals(Buffer.from(data))).toBe(true);

      // One route, one leg to the sender: the resumed session went on on both.
      const upstreamId = (paying as BandwidthPayer).channelId;
      const { downstreamId } = await getRoute(chain.client(), { upstreamId });
      expect(earning.schemes.bandwidth?.channels.map((c) => c.channelId)).toEqual([downstreamId]);
      await payeeSide.close(earning);
      await vi.waitFor(
        async () =>
          expect((await getChannel(chain.client(), { channelId: upstreamId })).status).toBe(ChannelStatus.Closing),
        { timeout: 30_000 },
      );
      await chain.advance(TEST_CHANNEL_WINDOWS.challengeSeconds + 1n);
      await Promise.all([payeeSide.refresh(), proxySide.refresh()]);
      const total = BigInt(data.byteLength);
      for (const channelId of [upstreamId, downstreamId]) {
        const channel = await getChannel(chain.client(), { channelId });
        expect(channel.status).toBe(ChannelStatus.Settled);
        expect(channel.agreedBytes).toBe(total);
      }
      const amount = transferCost({ pricePerMB: PRICE }, total);
      const toPayee = usageCost({ deposit: amount, pricePerMB: PRICE, lossToleranceBytes: 0n }, total);
      const toProxy = usageCost(
        { deposit: routeLock(amount), pricePerMB: routeLock(PRICE), lossToleranceBytes: 0n },
        total,
      );
      await expectRouteSettled(before, { toPayee, toProxy });
    } finally {
      await stop();
    }
  }, 180_000);

  it("finishes admitting a route on a slow chain after the sender gave up waiting, and the receiver resumes on it", async () => {
    const { chain } = fixture;
    // The proxy's chain takes 4 s per receipt; the sender waits 3 s for a message.
    const base = chain.client();
    const slow = createTabulaClient({
      chain: base.chain,
      transport: custom({
        async request({ method, params }) {
          if (method === "eth_getTransactionReceipt") await new Promise((resolve) => setTimeout(resolve, 4_000));
          return await base.request({ method, params } as never);
        },
      }),
    });
    const impatient = await createTcpNode({ transfer: transfer({ timeoutMs: 3_000 }) });
    const { payeeSide, payerSide, carrying, reading, stop } = await carriedRoute(impatient, {
      proxy: { reader: slow },
    });
    try {
      const data = new Uint8Array(randomBytes(3 * 1024 * 1024 + 5));
      const earning = await payeeSide.payee(PRICE, { schemes: ["bandwidth"] });
      const share = await impatient.services.transfer.share([blobSource(new Blob([data]), "slow.bin", "")], {
        payment: earning,
      });
      share.done.catch(() => {});
      const sink = memorySink(data.byteLength);
      let paying: SchemePayer | undefined;
      const outcome = await reading.services.transfer.receive(share.ticket, sink, {
        via: { peer: carrying.peerId.toString(), target: carrying.getMultiaddrs() },
        onOffer: () => true,
        payer: async ({ totalBytes, via }) => {
          paying ??= await payerSide.payer(share.ticket.terms as PaymentTerms, BigInt(totalBytes), {
            via: via as Address,
          });
          return paying.gate();
        },
      });
      await share.done;
      expect(outcome.attempts).toBeGreaterThanOrEqual(2);
      expect(Buffer.from(sink.bytes).equals(Buffer.from(data))).toBe(true);
      // One route and its one leg carried every byte.
      const upstreamId = (paying as BandwidthPayer).channelId;
      const { downstreamId } = await getRoute(base, { upstreamId });
      expect(earning.schemes.bandwidth?.channels.map((c) => [c.channelId, c.paidBytes])).toEqual([
        [downstreamId, BigInt(data.byteLength)],
      ]);
      await payeeSide.close(earning);
    } finally {
      await Promise.all([stop(), impatient.stop()]);
    }
  }, 180_000);

  it("settles both legs of a route whose receiver never came back after its link dropped", async () => {
    const { chain, sender } = fixture;
    const before = await routeBalances();
    const { payeeSide, payerSide, proxySide, carrying, reading, stop } = await carriedRoute(sender, {
      proxy: { routeResumeMs: 1_000 },
    });
    try {
      const data = new Uint8Array(randomBytes(8 * 1024 * 1024));
      const earning = await payeeSide.payee(PRICE, { schemes: ["bandwidth"] });
      const share = await sender.services.transfer.share([blobSource(new Blob([data]), "left.bin", "")], {
        payment: earning,
      });
      share.done.catch(() => {});
      const gone = new AbortController();
      let paying: SchemePayer | undefined;
      const failure = await reading.services.transfer
        .receive(share.ticket, memorySink(data.byteLength), {
          via: { peer: carrying.peerId.toString(), target: carrying.getMultiaddrs() },
          signal: gone.signal,
          onOffer: () => true,
          payer: async ({ totalBytes, via }) => {
            paying ??= await payerSide.payer(share.ticket.terms as PaymentTerms, BigInt(totalBytes), {
              via: via as Address,
            });
            const gate = paying.gate();
            return {
              ...gate,
              received: async (position) => {
                const payment = await gate.received(position);
                if (position >= 3 * 1024 * 1024 && !gone.signal.aborted) {
                  // The receiver's tab closes as its link drops.
                  gone.abort(new Error("the tab was closed"));
                  for (const connection of reading.getConnections(carrying.peerId)) {
                    connection.abort(new Error("network lost"));
                  }
                }
                return payment;
              },
            };
          },
        })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(failure).toBeDefined();
      // After the wait for a resume, the proxy closes the receiver's leg with the last unit both signed.
      const upstreamId = (paying as BandwidthPayer).channelId;
      await vi.waitFor(
        async () =>
          expect((await getChannel(chain.client(), { channelId: upstreamId })).status).toBe(ChannelStatus.Closing),
        { timeout: 30_000 },
      );
      const { downstreamId } = await getRoute(chain.client(), { upstreamId });
      await vi.waitFor(
        async () =>
          expect((await getChannel(chain.client(), { channelId: downstreamId })).status).toBe(ChannelStatus.Closing),
        { timeout: 30_000 },
      );
      // Each leg settles at the last unit both its sides signed: the sender's tab answers the proxy's close with the
      // newest unit it holds, and the proxy paid the sender no more than it was paid.
      await payeeSide.refresh();
      await chain.advance(TEST_CHANNEL_WINDOWS.challengeSeconds + 1n);
      await Promise.all([payeeSide.refresh(), proxySide.refresh()]);
      const upstream = await getChannel(chain.client(), { channelId: upstreamId });
      const downstream = await getChannel(chain.client(), { channelId: downstreamId });
      expect([upstream.status, downstream.status]).toEqual([ChannelStatus.Settled, ChannelStatus.Settled]);
      const held = earning.schemes.bandwidth?.agreed(downstreamId)?.usage.totalBytes ?? 0n;
      expect(downstream.agreedBytes).toBe(held);
      expect(downstream.agreedBytes).toBeLessThanOrEqual(upstream.agreedBytes);
      expect(upstream.agreedBytes).toBeGreaterThan(0n);
      expect(upstream.agreedBytes).toBeLessThan(BigInt(data.byteLength));
      const toPayee = usageCost(downstream, downstream.agreedBytes);
      const toProxy = usageCost(upstream, upstream.agreedBytes);
      await expectRouteSettled(before, { toPayee, toProxy });
    } finally {
      await stop();
    }
  }, 180_000);

  it("stops carrying for a receiver that stops paying, within the credit, and says why", async () => {
    const { payee, sender } = fixture;
    // The sender stops first: the proxy pays it only for what the receiver paid.
    const { payeeSide, payerSide, proxySide, carrying, reading, stop } = await carriedRoute(sender, {
      payee: { paymentTimeoutMs: 2_000 },
      proxy: { paymentTimeoutMs: 2_000 },
    });
    try {
      const data = new Uint8Array(randomBytes(12 * 1024 * 1024));
      const earning = await payeeSide.payee(PRICE, { schemes: ["bandwidth"] });
      const share = await sender.services.transfer.share([blobSource(new Blob([data]), "unpaid.bin", "")], {
        payment: earning,
      });
      share.done.catch(() => {});
      const PAY_UP_TO = 3 * 1024 * 1024;
      let paying: SchemePayer | undefined;
      let received = 0;
      const failure = await reading.services.transfer
        .receive(
          share.ticket,
          {
            write: async (_file, offset, bytes) => {
              received = offset + bytes.byteLength;
            },
          },
          {
            via: { peer: carrying.peerId.toString(), target: carrying.getMultiaddrs() },
            maxAttempts: 0,
            onOffer: () => true,
            payer: async ({ totalBytes, via }) => {
              paying ??= await payerSide.payer(share.ticket.terms as PaymentTerms, BigInt(totalBytes), {
                via: via as Address,
              });
              const gate = paying.gate();
              return {
                ...gate,
                received: async (position) => (position <= PAY_UP_TO ? await gate.received(position) : undefined),
              };
            },
          },
        )
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(String(failure)).toMatch(/payment-stopped|stopped paying/);
      // The proxy passed no more than what the receiver paid for plus the credit.
      const upstream = proxySide.channels.find((c) => c.role === "payee" && c.route?.payee === payee.address);
      expect(upstream?.agreedBytes).toBeLessThanOrEqual(BigInt(PAY_UP_TO));
      expect(BigInt(received)).toBeLessThanOrEqual(BigInt(PAY_UP_TO) + MAX_CREDIT_BYTES);
      // The proxy paid the sender for no byte the receiver had not paid it for: carrying cost it nothing.
      const downstream = proxySide.channels.find((c) => c.role === "payer" && c.route?.payee === payee.address);
      expect(downstream?.agreedBytes).toBeLessThanOrEqual(upstream?.agreedBytes ?? 0n);
      share.close();
    } finally {
      await stop();
    }
  }, 180_000);

  it("refuses a route that pays another price than the payee's, and a channel that is no route", async () => {
    const { payee } = fixture;
    const { reader, payeeSide, paying } = await openRoute(STEP * 8n);
    const parts = { reader, owner: owned(proxy), operator: proxyKey };
    const session = { receiver: "payer", signal: AbortSignal.timeout(30_000) };
    await expect(
      RouteProxy.open(parts, paying.gate().opening, { payee: payee.address, pricePerMB: PRICE * 2n }, session),
    ).rejects.toBeInstanceOf(PaymentRefusedError);
    const direct = await fixture
      .payments(fixture.payer, fixture.payerKey)
      .payer((await payeeSide.payee(PRICE, { schemes: ["bandwidth"] })).terms, STEP);
    await expect(
      RouteProxy.open(parts, direct.gate().opening, { payee: payee.address, pricePerMB: PRICE }, session),
    ).rejects.toThrow(/is not a route/);
    // Another peer that read the route off the chain presents it first, without the payer key's proof: refused,
    // and the payer's own presentation still goes through.
    const stolen = {
      scheme: "bandwidth",
      data: encodeBandwidthMessage({ type: "open", channelId: paying.channelId }),
    };
    await expect(RouteProxy.open(parts, stolen, { payee: payee.address, pricePerMB: PRICE }, session)).rejects.toThrow(
      /was not presented by its payer/,
    );
    await RouteProxy.open(parts, paying.gate().opening, { payee: payee.address, pricePerMB: PRICE }, session);
    await payeeSide.stop();
  }, 120_000);

  it("pays the proxy nothing until its own leg pays the link's payee", async () => {
    const { reader, payeeSide, paying } = await openRoute(STEP * 8n);
    const payerGate = paying.gate();
    // The proxy confirms the route but opens its leg to someone else: the payer refuses to pay for its bytes.
    const elsewhere = privateKeyToAccount(generatePrivateKey()).address;
    await RouteProxy.open(
      { reader, owner: owned(proxy), operator: proxyKey },
      payerGate.opening,
      { payee: elsewhere, pricePerMB: PRICE },
      { receiver: "payer", signal: AbortSignal.timeout(30_000) },
    );
    await expect(payerGate.received(Number(STEP))).rejects.toThrow(/opened no leg to/);
    await payeeSide.stop();
  }, 120_000);
});
