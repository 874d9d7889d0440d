import "fake-indexeddb/auto";
import { randomBytes } from "node:crypto";
import { type Address, parseEther, parseEventLogs } from "viem";
import type { PrivateKeyAccount } from "viem/accounts";
import { getTransactionReceipt } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ChannelStatus, getChannel } from "../../chain/bandwidth/channel.ts";
import { closeChannel } from "../../chain/bandwidth/channel-actions.ts";
import { TEST_CHANNEL_WINDOWS, type TestChain } from "../../chain/testing/hardhat.ts";
import { type AgreedUsage, BYTES_PER_MB, usageDigest } from "../../lib/payments/bandwidth.ts";
import { PaymentStoppedError, RemoteRefusedError } from "../../p2p/protocols/common/errors.ts";
import { decodeBandwidthMessage } from "../../p2p/protocols/pay/index.ts";
import { blobSource, type Payment } from "../../p2p/protocols/transfer/index.ts";
import { ChannelsDB } from "../../storage/channels-db.ts";
import { type BandwidthPayee, MAX_CREDIT_BYTES } from "./bandwidth-payee.ts";
import { type BandwidthPayer, PAYER_UNIT_BYTES } from "./bandwidth-payer.ts";
import { transferCost } from "./cost.ts";
import {
  memorySink,
  type PaidTransferFixture,
  startPaidTransfers,
  type TransferNode,
} from "./testing/paid-transfer.ts";
import type { TransferPayee } from "./transfer-payee.ts";
import type { ChannelStore } from "./transfer-payments.ts";

const MiB = 1024 * 1024;
/** 0.001 TAB per MB. */
const PRICE = parseEther("0.001");

/** A new session of `paying`'s transfer of `total` bytes, as the payee's side admits it. */
function admitSession(earning: TransferPayee, paying: BandwidthPayer, total: number) {
  return earning.admit(paying.gate().opening, {
    receiver: "receiver",
    totalBytes: total,
    position: 0,
    signal: AbortSignal.timeout(30_000),
  });
}

function bandwidthOf(earning: TransferPayee): BandwidthPayee {
  const payee = earning.schemes.bandwidth;
  if (!payee) throw new Error("the share takes no bandwidth channel");
  return payee;
}

describe("a paid transfer over a bandwidth channel, on a real chain", () => {
  let fixture: PaidTransferFixture;
  let chain: TestChain;
  let sender: TransferNode;
  let receiver: TransferNode;
  let payee: PrivateKeyAccount;
  let payer: PrivateKeyAccount;
  let payeeKey: PrivateKeyAccount;
  let payerKey: PrivateKeyAccount;

  beforeAll(async () => {
    fixture = await startPaidTransfers();
    ({ chain, sender, receiver, payee, payer, payeeKey, payerKey } = fixture);
  }, 60_000);

  afterAll(async () => await fixture?.close());

  const payments = (
    owner: PrivateKeyAccount,
    key: PrivateKeyAccount,
    paymentTimeoutMs?: number,
    store?: ChannelStore,
  ) => fixture.payments(owner, key, { ...(paymentTimeoutMs ? { paymentTimeoutMs } : {}), ...(store ? { store } : {}) });
  const balances = (...addresses: Address[]) => fixture.balances(...addresses);

  it("pays a transfer of known length in units of at least 1 MiB but the last, and every byte is paid", async () => {
    const data = new Uint8Array(randomBytes(6 * MiB + 777));
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey);
    const earning = await payeeSide.payee(PRICE, { schemes: ["bandwidth"] });
    const share = await sender.services.transfer.share([blobSource(new Blob([data]), "units.bin", "")], {
      payment: earning,
    });
    const sink = memorySink(data.byteLength);
    let paying: BandwidthPayer | undefined;
    const units: bigint[] = [];
    const unitOf = (payment: Payment | undefined) => {
      if (!payment) return;
      const message = decodeBandwidthMessage(payment.data);
      if (message.type === "unit") units.push(message.unit.usage.totalBytes);
    };
    await receiver.services.transfer.receive(share.ticket, sink, {
      peer: sender.getMultiaddrs(),
      onOffer: async (files) => {
        paying = (await payerSide.payer(share.ticket.terms as never, BigInt(files[0]?.size ?? 0), {
          exact: true,
        })) as BandwidthPayer;
        return true;
      },
      payer: () => {
        const gate = (paying as BandwidthPayer).gate();
        return {
          opening: gate.opening,
          received: async (position) => {
            const payment = await gate.received(position);
            unitOf(payment);
            return payment;
          },
          answer: async (answer) => {
            const payment = await gate.answer(answer);
            unitOf(payment);
            return payment;
          },
        };
      },
    });
    await share.done;
    const total = BigInt(data.byteLength);
    expect(Buffer.from(sink.bytes).equals(Buffer.from(data))).toBe(true);
    expect(units.at(-1)).toBe(total);
    // Each unit adds at least 1 MiB to the one before, but the last.
    for (const [i, bytes] of units.slice(0, -1).entries()) {
      expect(bytes - (units[i - 1] ?? 0n)).toBeGreaterThanOrEqual(PAYER_UNIT_BYTES);
    }
    expect(units.length).toBeLessThanOrEqual(7);
    const channelId = (paying as BandwidthPayer).channelId;
    expect(bandwidthOf(earning).agreed(channelId)?.usage.totalBytes).toBe(total);
    await payeeSide.close(earning);
    await chain.advance(TEST_CHANNEL_WINDOWS.challengeSeconds + 1n);
    await payeeSide.refresh();
    await Promise.all([payeeSide.stop(), payerSide.stop()]);
    expect((await getChannel(chain.client(), { channelId })).status).toBe(ChannelStatus.Settled);
  }, 120_000);

  it("pays the sender exactly for the bytes, gated as they flow, and settles after the challenge window", async () => {
    const data = new Uint8Array(randomBytes(6 * MiB + 4_321));
    const channelContract = chain.chain.contracts.BandwidthChannel?.address as Address;
    const [payeeBefore, payerBefore] = await balances(payee.address, payer.address);
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey);
    const earning = await payeeSide.payee(PRICE, { schemes: ["bandwidth"] });
    const share = await sender.services.transfer.share([blobSource(new Blob([data]), "a.bin", "")], {
      payment: earning,
    });
    const ticket = share.ticket;
    expect(ticket.terms).toEqual({
      chainId: chain.chain.id,
      payee: payee.address,
      pricePerMB: PRICE,
      schemes: ["bandwidth"],
    });
    const sink = memorySink(data.byteLength);
    let paying: BandwidthPayer | undefined;
    // The payer never signs for more than it has written, and the sender never runs more than its credit ahead.
    let written = 0n;
    let most = 0n;
    await receiver.services.transfer.receive(
      ticket,
      {
        write: async (file, offset, bytes) => {
          await sink.write(file, offset, bytes, {});
          written = BigInt(offset + bytes.byteLength);
          const [channel] = bandwidthOf(earning).channels;
          const ahead = channel ? channel.sentBytes - channel.agreed.usage.totalBytes : 0n;
          if (ahead > most) most = ahead;
        },
      },
      {
        peer: sender.getMultiaddrs(),
        onOffer: async (files) => {
          paying = (await payerSide.payer(ticket.terms as never, BigInt(files[0]?.size ?? 0))) as BandwidthPayer;
          return true;
        },
        payer: () => {
          const gate = (paying as NonNullable<typeof paying>).gate();
          return {
            opening: gate.opening,
            answer: gate.answer,
            received: async (position) => {
              expect(BigInt(position)).toBeLessThanOrEqual(written);
              return await gate.received(position);
            },
          };
        },
      },
    );
    await share.done;
    expect(Buffer.from(sink.bytes).equals(Buffer.from(data))).toBe(true);
    expect(most).toBeLessThanOrEqual(MAX_CREDIT_BYTES);
    const channelId = (paying as NonNullable<typeof paying>).channelId;
    const total = BigInt(data.byteLength);
    expect(bandwidthOf(earning).agreed(channelId)?.usage.totalBytes).toBe(total);
    // The transfer passed the 5 MB mark: the payee countersigns a unit there only when it links its last unit.
    expect(total).toBeGreaterThan(5n * BYTES_PER_MB);

    await payeeSide.close(earning);
    expect((await getChannel(chain.client(), { channelId })).status).toBe(ChannelStatus.Closing);
    await payeeSide.refresh();
    expect((await getChannel(chain.client(), { channelId })).status).toBe(ChannelStatus.Closing);
    await chain.advance(TEST_CHANNEL_WINDOWS.challengeSeconds + 1n);
    await payeeSide.refresh();
    await payeeSide.stop();
    const record = payeeSide.channels.find((c) => c.channelId === channelId);
    expect(record?.status).toBe("Settled");
    const settle = record?.txs.find((t) => t.what === "settle");
    const receipt = await getTransactionReceipt(chain.client(), { hash: settle?.hash as `0x${string}` });
    const [settled] = parseEventLogs({
      abi: chain.chain.contracts.BandwidthChannel?.abi as never,
      logs: receipt.logs,
      eventName: "ChannelSettled" as never,
    }) as unknown as { args: { paid: bigint; refunded: bigint; burned: bigint } }[];
    const cost = (total * PRICE) / BYTES_PER_MB;
    const deposit = transferCost({ pricePerMB: PRICE }, total);
    expect(settled?.args).toMatchObject({ paid: cost, refunded: deposit - cost, burned: 0n });
    const [payeeAfter, payerAfter, held] = await balances(payee.address, payer.address, channelContract);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(cost);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(cost);
    expect(held).toBe(0n);
    // The payer's tab shows the close and the settlement the payee's tab sent.
    await payerSide.refresh();
    await payerSide.stop();
    const paid = payerSide.channels.find((c) => c.channelId === channelId);
    expect(paid?.status).toBe("Settled");
    const sent = (what: string) => record?.txs.find((t) => t.what === what)?.hash;
    expect(paid?.txs.filter((t) => t.what !== "open")).toEqual([
      { what: "close", hash: sent("close") },
      { what: "settle", hash: sent("settle") },
    ]);
  }, 120_000);

  it("stops sending within the credit when the payer stops paying, and tells the receiver why", async () => {
    const data = new Uint8Array(randomBytes(12 * MiB));
    const payeeSide = payments(payee, payeeKey, 1_000);
    const payerSide = payments(payer, payerKey);
    let stopped: PaymentStoppedError | undefined;
    const earning = await payeeSide.payee(PRICE, {
      onStopped: (error) => {
        stopped = error;
      },
    });
    const share = await sender.services.transfer.share([blobSource(new Blob([data]), "b.bin", "")], {
      payment: earning,
    });
    let paying: BandwidthPayer | undefined;
    const PAY_UP_TO = 2 * MiB;
    const failure = await receiver.services.transfer
      .receive(share.ticket, memorySink(data.byteLength), {
        peer: sender.getMultiaddrs(),
        onOffer: async (files) => {
          paying = (await payerSide.payer(share.ticket.terms as never, BigInt(files[0]?.size ?? 0))) as BandwidthPayer;
          return true;
        },
        payer: () => {
          const gate = (paying as NonNullable<typeof paying>).gate();
          // A payer that stops paying after its first 2 MiB.
          return {
            ...gate,
            received: async (position) => (position <= PAY_UP_TO ? await gate.received(position) : undefined),
          };
        },
      })
      .catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(RemoteRefusedError);
    expect((failure as RemoteRefusedError).code).toBe("payment-stopped");
    expect(stopped).toBeInstanceOf(PaymentStoppedError);
    const [channel] = bandwidthOf(earning).channels;
    expect(channel?.agreed.usage.totalBytes).toBe(BigInt(PAY_UP_TO));
    expect(channel?.sentBytes).toBeLessThanOrEqual(BigInt(PAY_UP_TO) + MAX_CREDIT_BYTES);
    share.close();
  }, 120_000);

  it("answers a close with an old unit when the payee's tab comes back, from what it kept, and is paid in full", async () => {
    const data = new Uint8Array(randomBytes(3 * MiB));
    const [payeeBefore, payerBefore] = await balances(payee.address, payer.address);
    const store = await ChannelsDB.open("payee-channels");
    const payeeSide = payments(payee, payeeKey, undefined, store);
    const payerSide = payments(payer, payerKey);
    const earning = await payeeSide.payee(PRICE, { schemes: ["bandwidth"] });
    const share = await sender.services.transfer.share([blobSource(new Blob([data]), "c.bin", "")], {
      payment: earning,
    });
    let paying: BandwidthPayer | undefined;
    let early: AgreedUsage | undefined;
    await receiver.services.transfer.receive(share.ticket, memorySink(data.byteLength), {
      peer: sender.getMultiaddrs(),
      onOffer: async (files, terms) => {
        paying = (await payerSide.payer(terms as never, BigInt(files[0]?.size ?? 0))) as BandwidthPayer;
        return true;
      },
      payer: () => {
        const gate = (paying as NonNullable<typeof paying>).gate();
        return {
          ...gate,
          answer: async (payment) => {
            const next = await gate.answer(payment);
            // The first unit both signed: what a cheating payer closes with later.
            early ??= paying?.agreed;
            return next;
          },
        };
      },
    });
    await share.done;
    const channelId = (paying as NonNullable<typeof paying>).channelId;
    const total = BigInt(data.byteLength);
    expect(early?.usage.totalBytes).toBeLessThan(total);
    // The payee's tab goes away before closing; what it kept is written.
    await payeeSide.stop();

    // The payer closes with its first unit, as if it had received less.
    await closeChannel(chain.client(payerKey), { agreed: early as AgreedUsage });
    expect((await getChannel(chain.client(), { channelId })).agreedBytes).toBe(early?.usage.totalBytes);

    // The payee's tab comes back: it reads its channels and answers the close with the last unit both signed.
    const reopened = payments(payee, payeeKey, undefined, store);
    await reopened.load();
    const record = reopened.channels.find((c) => c.channelId === channelId);
    expect(record?.txs.map((t) => t.what)).toContain("challenge");
    expect((await getChannel(chain.client(), { channelId })).agreedBytes).toBe(total);
    await chain.advance(TEST_CHANNEL_WINDOWS.challengeSeconds + 1n);
    await reopened.refresh();
    await reopened.stop();
    expect(reopened.channels.find((c) => c.channelId === channelId)?.status).toBe("Settled");
    const cost = (total * PRICE) / BYTES_PER_MB;
    const [payeeAfter, payerAfter] = await balances(payee.address, payer.address);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(cost);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(cost);
    store.close();
  }, 120_000);

  it("refuses a tampered unit or countersignature by name, with no reconnection", async () => {
    const data = new Uint8Array(randomBytes(2 * MiB));
    const flip = (payment: { scheme: string; data: Uint8Array }) => {
      const data = payment.data.slice();
      data[data.length - 2] = (data[data.length - 2] as number) ^ 1;
      return { ...payment, data };
    };
    for (const side of ["payer", "payee"] as const) {
      const payeeSide = payments(payee, payeeKey);
      const payerSide = payments(payer, payerKey);
      const earning = await payeeSide.payee(PRICE, { schemes: ["bandwidth"] });
      const share = await sender.services.transfer.share([blobSource(new Blob([data]), "t.bin", "")], {
        payment: earning,
      });
      let paying: BandwidthPayer | undefined;
      let sessions = 0;
      const failure = await receiver.services.transfer
        .receive(share.ticket, memorySink(data.byteLength), {
          peer: sender.getMultiaddrs(),
          onOffer: async (files, terms) => {
            paying = (await payerSide.payer(terms as never, BigInt(files[0]?.size ?? 0))) as BandwidthPayer;
            return true;
          },
          payer: () => {
            sessions += 1;
            const gate = (paying as NonNullable<typeof paying>).gate();
            return side === "payer"
              ? // The payer's first unit is tampered with on its way: its signature no longer verifies.
                { ...gate, received: async (position) => await gate.received(position).then((p) => p && flip(p)) }
              : // The payee's countersignature is tampered with on its way.
                { ...gate, answer: async (payment) => await gate.answer(flip(payment)) };
          },
        })
        .catch((error: unknown) => error);
      if (side === "payer") {
        expect(failure).toMatchObject({ name: "RemoteRefusedError", code: "payment-refused" });
      } else {
        expect(failure).toMatchObject({ name: "PaymentRefusedError" });
      }
      expect(sessions).toBe(1);
      // Nothing was countersigned, so the sender sent no more than its credit.
      expect(bandwidthOf(earning).channels[0]?.agreed.usage.totalBytes).toBe(
        side === "payer" ? 0n : bandwidthOf(earning).channels[0]?.agreed.usage.totalBytes,
      );
      expect(paying?.agreed?.usage.totalBytes ?? 0n).toBe(0n);
      share.close();
      await payeeSide.stop();
    }
  });

  it("goes on paying after a drop that lost a unit or its countersignature: the unit goes again, answered once", async () => {
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey);
    const total = 8 * MiB;
    const earning = await payeeSide.payee(PRICE, { schemes: ["bandwidth"] });
    const paying = (await payerSide.payer(earning.terms, BigInt(total))) as BandwidthPayer;
    const admit = () => admitSession(earning, paying, total);
    // First session: a unit for 1 MiB, lost on the way with the connection.
    let payerGate = paying.gate();
    let payeeGate = await admit();
    expect(await payerGate.received(MiB)).toBeDefined();
    // Second session: the same unit goes again; this time its countersignature is lost.
    payerGate = paying.gate();
    payeeGate = await admit();
    const again = await payerGate.received(MiB);
    if (!again) throw new Error("the payer did not send its unit again");
    expect(await payeeGate.receive(again)).toBeDefined();
    // Third session: the unit goes once more and the payee answers it as before, counting it once.
    payerGate = paying.gate();
    payeeGate = await admit();
    const third = await payerGate.received(2 * MiB);
    if (!third) throw new Error("the payer did not send its unit again");
    const answer = await payeeGate.receive(third);
    if (!answer) throw new Error("the payee did not answer the unit sent again");
    expect(bandwidthOf(earning).agreed(paying.channelId)?.usage.totalBytes).toBe(BigInt(MiB));
    // The payer takes the answer and pays on: the next unit covers what it received since.
    const next = await payerGate.answer(answer);
    if (!next) throw new Error("the payer did not pay for the bytes received since");
    const last = await payeeGate.receive(next);
    if (last) await payerGate.answer(last);
    expect(bandwidthOf(earning).agreed(paying.channelId)?.usage.totalBytes).toBe(BigInt(2 * MiB));
    await payeeSide.close(earning);
    await chain.advance(TEST_CHANNEL_WINDOWS.challengeSeconds + 1n);
    await payeeSide.refresh();
    await Promise.all([payeeSide.stop(), payerSide.stop()]);
    expect((await getChannel(chain.client(), { channelId: paying.channelId })).status).toBe(ChannelStatus.Settled);
  }, 120_000);

  it("keeps up to four units out, and after a drop that lost some pays on from the payee's last unit, exactly", async () => {
    const total = 12 * MiB;
    const channelContract = chain.chain.contracts.BandwidthChannel?.address as Address;
    const [payeeBefore, payerBefore, heldBefore] = await balances(payee.address, payer.address, channelContract);
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey);
    const earning = await payeeSide.payee(PRICE, { schemes: ["bandwidth"] });
    const paying = (await payerSide.payer(earning.terms, BigInt(total), { exact: true })) as BandwidthPayer;
    const admit = () => admitSession(earning, paying, total);
    const unitOf = (payment: Payment | undefined) => {
      if (!payment) throw new Error("no payment came");
      const message = decodeBandwidthMessage(payment.data);
      if (message.type !== "unit") throw new Error(`a ${message.type}, not a unit`);
      return message.unit;
    };
    const signal = AbortSignal.timeout(30_000);
    // First session: four units go out before any countersignature comes back; a fifth waits for one.
    let payerGate = paying.gate();
    let payeeGate = await admit();
    const out = [];
    for (const position of [2, 4, 6, 7]) out.push(await payerGate.received(position * MiB));
    expect(out.map((payment) => unitOf(payment).usage.sequence)).toEqual([1n, 2n, 3n, 4n]);
    expect(await payerGate.received(8 * MiB)).toBeUndefined();
    // The payee countersigns the first two (both answers are lost with the connection); the other two are lost.
    await payeeGate.allow(4 * MiB, signal);
    for (const payment of out.slice(0, 2)) expect(await payeeGate.receive(payment as Payment)).toBeDefined();
    expect(bandwidthOf(earning).agreed(paying.channelId)?.usage.totalBytes).toBe(BigInt(4 * MiB));
    // Second session: the oldest unit goes again, and the payee answers with where it stands: the second unit.
    payerGate = paying.gate();
    payeeGate = await admit();
    const again = await payerGate.received(8 * MiB);
    expect(unitOf(again).usage.sequence).toBe(1n);
    const standing = await payeeGate.receive(again as Payment);
    expect(decodeBandwidthMessage((standing as Payment).data)).toMatchObject({ type: "sign", sequence: 2n });
    // The units it never read are withdrawn: the next one pays for their bytes and links to the second unit.
    const nextPayment = await payerGate.answer(standing as Payment);
    const next = unitOf(nextPayment);
    expect(next.usage).toMatchObject({ sequence: 5n, totalBytes: BigInt(8 * MiB) });
    expect(next.usage.link).toBe(
      usageDigest({ chainId: chain.chain.id, address: channelContract }, unitOf(out[1]).usage),
    );
    await payeeGate.allow(8 * MiB, signal);
    const nextAnswer = await payeeGate.receive(nextPayment as Payment);
    expect(await payerGate.answer(nextAnswer as Payment)).toBeUndefined();
    await payeeGate.allow(total, signal);
    const last = await payerGate.received(total);
    expect(await payerGate.answer((await payeeGate.receive(last as Payment)) as Payment)).toBeUndefined();
    expect(paying.agreed).toEqual(bandwidthOf(earning).agreed(paying.channelId));
    expect(paying.agreed?.usage.totalBytes).toBe(BigInt(total));
    // A session takes one old unit again, not more: each would cost an answer the payer need not read.
    await expect(payeeGate.receive(again as Payment)).rejects.toMatchObject({
      name: "PaymentRefusedError",
      shortMessage: expect.stringMatching(/twice in one session/),
    });

    await payeeSide.close(earning);
    await chain.advance(TEST_CHANNEL_WINDOWS.challengeSeconds + 1n);
    await payeeSide.refresh();
    await Promise.all([payeeSide.stop(), payerSide.stop()]);
    const cost = (BigInt(total) * PRICE) / BYTES_PER_MB;
    const [payeeAfter, payerAfter, held] = await balances(payee.address, payer.address, channelContract);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(cost);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(cost);
    expect(held).toBe(heldBefore);
  }, 120_000);

  it("names what is missing when the payer holds too little, and sends nothing", async () => {
    const payerSide = payments(payer, payerKey);
    const [held] = await balances(payer.address);
    const terms = { chainId: chain.chain.id, payee: payee.address, pricePerMB: PRICE, schemes: ["bandwidth" as const] };
    // A file whose price is one token unit more than the payer holds.
    const bytes = (((held as bigint) + 1n) * BYTES_PER_MB + PRICE - 1n) / PRICE;
    const missing = transferCost(terms, bytes) - (held as bigint);
    await expect(payerSide.payer(terms, bytes)).rejects.toMatchObject({
      name: "InsufficientFundsError",
      missingTokens: missing,
      shortMessage: expect.stringContaining("to pay for these files"),
    });
    expect(payerSide.channels).toEqual([]);
    expect(await balances(payer.address)).toEqual([held]);
    // A link for another chain is refused by name before anything is signed.
    await expect(payerSide.payer({ ...terms, chainId: 1 }, 1n)).rejects.toMatchObject({
      name: "PaymentChainMismatchError",
    });
  });

  it("lets the payer take its deposit back when the payee never confirms, even from a tab that kept nothing", async () => {
    const payerSide = payments(payer, payerKey);
    const [before] = await balances(payer.address);
    const terms = { chainId: chain.chain.id, payee: payee.address, pricePerMB: PRICE, schemes: ["bandwidth" as const] };
    const opened = await payerSide.payer(terms, 10n * BYTES_PER_MB);
    await payerSide.refresh();
    expect(payerSide.channels.find((c) => c.channelId === opened.view.channelId)?.status).toBe("Opened");
    // Too early: the contract says so by name, and nothing moves.
    await payerSide.reclaim(opened.view.channelId);
    expect(payerSide.channels.find((c) => c.channelId === opened.view.channelId)?.error).toMatch(/may still confirm/);
    await payerSide.stop();
    // The tab closed before it kept the channel: a new one finds it on the chain and takes the deposit back.
    const reopened = payments(payer, payerKey);
    await reopened.load();
    expect(reopened.channels.find((c) => c.channelId === opened.view.channelId)).toMatchObject({
      role: "payer",
      status: "Opened",
      counterparty: payee.address,
    });
    await chain.advance(TEST_CHANNEL_WINDOWS.confirmSeconds + 1n);
    await reopened.reclaim(opened.view.channelId);
    await reopened.stop();
    const record = reopened.channels.find((c) => c.channelId === opened.view.channelId);
    expect(record?.status).toBe("Reclaimed");
    expect(await balances(payer.address)).toEqual([before]);
  }, 120_000);
});
