import "fake-indexeddb/auto";
import { randomBytes } from "node:crypto";
import { type Address, numberToHex, parseEther } from "viem";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getMerkleChannel } from "../../chain/merkle/channel.ts";
import type { TestChain } from "../../chain/testing/hardhat.ts";
import { RemoteRefusedError } from "../../p2p/protocols/common/errors.ts";
import { decodeMerkleMessage, encodeMerkleMessage } from "../../p2p/protocols/pay/index.ts";
import { blobSource, type PayerGate } from "../../p2p/protocols/transfer/index.ts";
import { ChannelsDB } from "../../storage/channels-db.ts";
import { MAX_CREDIT_BYTES } from "./bandwidth-payee.ts";
import { transferCost, UNIT_BYTES, UNIT_LOCK_SECONDS, unitsFor } from "./cost.ts";
import type { MerklePayee } from "./merkle-payee.ts";
import type { MerklePayer } from "./merkle-payer.ts";
import {
  memorySink,
  type PaidTransferFixture,
  startPaidTransfers,
  type TransferNode,
} from "./testing/paid-transfer.ts";
import type { TransferPayee } from "./transfer-payee.ts";
import type { ChannelStore, TransferPayments, TransferScheme } from "./transfer-payments.ts";

const MiB = 1024 * 1024;
/** 0.001 TAB per MB. */
const PRICE = parseEther("0.001");

function merkleOf(earning: TransferPayee): MerklePayee {
  const payee = earning.schemes.merkle;
  if (!payee) throw new Error("the share takes no Merkle tokens");
  return payee;
}

describe("a paid transfer in Merkle tokens, on a real chain", () => {
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

  /** Sends `data` from a share paid in `scheme` to a payer whose gate `wrap` may change; resolves to the outcome. */
  async function send(
    data: Uint8Array<ArrayBuffer>,
    parts: { payeeSide: TransferPayments; payerSide: TransferPayments; scheme?: TransferScheme; signal?: AbortSignal },
    wrap: (gate: PayerGate, earning: TransferPayee) => PayerGate = (gate) => gate,
  ) {
    const earning = await parts.payeeSide.payee(PRICE, { schemes: [parts.scheme ?? "merkle"] });
    const share = await sender.services.transfer.share([blobSource(new Blob([data]), "m.bin", "")], {
      payment: earning,
    });
    const sink = memorySink(data.byteLength);
    let paying: MerklePayer | undefined;
    let sessions = 0;
    const outcome = await receiver.services.transfer
      .receive(share.ticket, sink, {
        peer: sender.getMultiaddrs(),
        ...(parts.signal ? { signal: parts.signal } : {}),
        onOffer: async (files, terms) => {
          paying = (await parts.payerSide.payer(terms as never, BigInt(files[0]?.size ?? 0))) as MerklePayer;
          return true;
        },
        payer: () => {
          sessions += 1;
          return wrap((paying as MerklePayer).gate(), earning);
        },
      })
      .catch((error: unknown) => error);
    return { earning, share, sink, paying: paying as MerklePayer, outcome, sessions };
  }

  it("hands over one token per MB received, never ahead of the bytes, and the payee redeems them in one batch", async () => {
    const data = new Uint8Array(randomBytes(5 * MiB + 77));
    const total = BigInt(data.byteLength);
    const contract = chain.chain.contracts.MerkleChannel?.address as Address;
    const [payeeBefore, payerBefore, heldBefore] = await balances(payee.address, payer.address, contract);
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey);
    let most = 0n;
    const { earning, share, sink, paying, outcome } = await send(data, { payeeSide, payerSide }, (gate, earning) => ({
      ...gate,
      received: async (position) => {
        const payment = await gate.received(position);
        const [channel] = merkleOf(earning).channels;
        if (channel && channel.sentBytes - channel.paidBytes > most) most = channel.sentBytes - channel.paidBytes;
        if (payment) {
          const message = decodeMerkleMessage(payment.data);
          // A token pays only for whole MB received, the last one at the very end.
          if (message.type === "tokens") {
            const handed = BigInt((message.tokens.at(-1)?.index ?? -1) + 1);
            expect(handed * UNIT_BYTES).toBeLessThanOrEqual(
              BigInt(position) === total ? unitsFor(total) * UNIT_BYTES : BigInt(position),
            );
          }
        }
        return payment;
      },
    }));
    expect(outcome).toMatchObject({ totalBytes: data.byteLength });
    await share.done;
    expect(Buffer.from(sink.bytes).equals(Buffer.from(data))).toBe(true);
    expect(most).toBeLessThanOrEqual(MAX_CREDIT_BYTES);
    const units = unitsFor(total);
    expect(merkleOf(earning).channels[0]?.tokens.length).toBe(Number(units));

    await payeeSide.close(earning);
    await payeeSide.stop();
    const record = payeeSide.channels.find((c) => c.scheme === "merkle" && c.role === "payee");
    expect(record).toMatchObject({ status: "Redeemed", amount: units * PRICE, agreedBytes: total });
    expect(record?.txs.map((t) => t.what)).toEqual(["redeem"]);
    const cost = transferCost({ pricePerMB: PRICE }, total, "merkle");
    const [payeeAfter, payerAfter, heldAfter] = await balances(payee.address, payer.address, contract);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(cost);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(cost);
    expect(heldAfter).toBe(heldBefore);
    expect((await getMerkleChannel(chain.client(), { channelId: paying.id })).remaining).toBe(0n);
    await payerSide.refresh();
    await payerSide.stop();
    expect(payerSide.channels.find((c) => c.channelId === BigInt(paying.id))).toMatchObject({
      role: "payer",
      status: "Redeemed",
      amount: cost,
    });
  }, 120_000);

  it("goes on paying from the tokens handed over when the connection drops mid-transfer, and redeems each once", async () => {
    const data = new Uint8Array(randomBytes(12 * MiB));
    const total = BigInt(data.byteLength);
    const units = unitsFor(total);
    // A short wait for payment: a payee whose count fell behind stops the transfer quickly.
    const payeeSide = payments(payee, payeeKey, 3_000);
    const payerSide = payments(payer, payerKey);
    const DROP_AT = 7 * MiB;
    const LATE = 3 * Number(UNIT_BYTES);
    let dropped = false;
    const { earning, share, sink, outcome, sessions } = await send(data, { payeeSide, payerSide }, (gate) => ({
      ...gate,
      received: async (position) => {
        // The payer pays for the 3 MB before the drop late (within the credit), in one message...
        if (!dropped && position > DROP_AT - LATE && position < DROP_AT) return undefined;
        const payment = await gate.received(position);
        if (!dropped && position >= DROP_AT) {
          dropped = true;
          // ...which the network loses as it drops: the receiver reconnects and goes on where it stopped.
          for (const connection of receiver.getConnections(sender.peerId)) {
            connection.abort(new Error("network lost"));
          }
        }
        return payment;
      },
    }));
    expect(outcome).toMatchObject({ totalBytes: data.byteLength });
    expect(sessions).toBe(2);
    await share.done;
    expect(Buffer.from(sink.bytes).equals(Buffer.from(data))).toBe(true);
    // The resumed session went on from the channel's count: one channel, every token once.
    const channels = merkleOf(earning).channels;
    expect(channels).toHaveLength(1);
    expect(channels[0]).toMatchObject({ sentBytes: total, paidBytes: total, earned: units * PRICE });
    expect(channels[0]?.tokens.map((token) => token.index)).toEqual([...Array(Number(units)).keys()]);

    await payeeSide.close(earning);
    await Promise.all([payeeSide.stop(), payerSide.stop()]);
    const record = payeeSide.channels.find((c) => c.scheme === "merkle" && c.channelId === channels[0]?.channelId);
    expect(record).toMatchObject({ status: "Redeemed", amount: units * PRICE });
  }, 120_000);

  it("finishes with every token once and redeems exactly when the drop comes after the last byte was written, before the last tokens reached the payee", async () => {
    const data = new Uint8Array(randomBytes(5 * MiB + 77));
    const total = BigInt(data.byteLength);
    const units = unitsFor(total);
    const contract = chain.chain.contracts.MerkleChannel?.address as Address;
    const [payeeBefore, payerBefore, heldBefore] = await balances(payee.address, payer.address, contract);
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey);
    let dropped = false;
    // Both sides would wait for the last tokens for ever: a transfer that stalls is cut short, and fails.
    const signal = AbortSignal.timeout(30_000);
    const { earning, share, sink, outcome, sessions } = await send(data, { payeeSide, payerSide, signal }, (gate) => ({
      ...gate,
      received: async (position) => {
        const payment = await gate.received(position);
        if (dropped || position < data.byteLength) return payment;
        // Every byte is in and written: the payment for the last of them is lost as the network drops.
        dropped = true;
        for (const connection of receiver.getConnections(sender.peerId)) connection.abort(new Error("network lost"));
        return undefined;
      },
    }));
    expect(dropped).toBe(true);
    // The receiver reconnects with nothing left to receive, and pays for the last bytes at once.
    if (outcome instanceof Error) share.close();
    expect(outcome).toMatchObject({ totalBytes: data.byteLength });
    expect(sessions).toBe(2);
    await share.done;
    expect(Buffer.from(sink.bytes).equals(Buffer.from(data))).toBe(true);
    const channels = merkleOf(earning).channels;
    expect(channels).toHaveLength(1);
    expect(channels[0]).toMatchObject({ sentBytes: total, paidBytes: total, earned: units * PRICE });
    expect(channels[0]?.tokens.map((token) => token.index)).toEqual([...Array(Number(units)).keys()]);

    await payeeSide.close(earning);
    await Promise.all([payeeSide.stop(), payerSide.stop()]);
    const record = payeeSide.channels.find((c) => c.scheme === "merkle" && c.channelId === channels[0]?.channelId);
    expect(record).toMatchObject({ status: "Redeemed", amount: units * PRICE, agreedBytes: total });
    const cost = transferCost({ pricePerMB: PRICE }, total, "merkle");
    expect(cost).toBe(units * PRICE);
    const [payeeAfter, payerAfter, heldAfter] = await balances(payee.address, payer.address, contract);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(cost);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(cost);
    expect(heldAfter).toBe(heldBefore);
  }, 120_000);

  it("refuses a token that does not verify by name, with no reconnection, and sends no more than the credit", async () => {
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey);
    const { earning, share, outcome, sessions } = await send(
      new Uint8Array(randomBytes(3 * MiB)),
      { payeeSide, payerSide },
      (gate) => ({
        ...gate,
        // The payer hands over token 1's proof as token 0.
        received: async (position) => {
          const payment = await gate.received(position);
          if (!payment) return payment;
          const message = decodeMerkleMessage(payment.data);
          if (message.type !== "tokens") return payment;
          const tokens = message.tokens.map((t) => ({ ...t, index: t.index + 1 }));
          return { ...payment, data: encodeMerkleMessage({ type: "tokens", tokens }) };
        },
      }),
    );
    expect(outcome).toMatchObject({ name: "RemoteRefusedError", code: "payment-refused" });
    expect(sessions).toBe(1);
    const [channel] = merkleOf(earning).channels;
    expect(channel?.paidBytes).toBe(0n);
    expect(channel?.sentBytes).toBeLessThanOrEqual(MAX_CREDIT_BYTES);
    share.close();
    await payeeSide.stop();
  }, 120_000);

  it("redeems from what it kept when the payee's tab comes back, and the payer takes back the rest after expiry", async () => {
    // Owners of their own: the payer's tab takes back every expired channel of its owner.
    const payer = privateKeyToAccount(generatePrivateKey());
    await chain.fund([payer.address]);
    const data = new Uint8Array(randomBytes(12 * MiB));
    const [payeeBefore, payerBefore] = await balances(payee.address, payer.address);
    const store = await ChannelsDB.open("merkle-payee-channels");
    const payeeSide = payments(payee, payeeKey, 1_000, store);
    const payerSide = payments(payer, payerKey);
    const PAY_UP_TO = 3 * MiB;
    const { share, paying, outcome } = await send(data, { payeeSide, payerSide }, (gate) => ({
      ...gate,
      received: async (position) => (position <= PAY_UP_TO ? await gate.received(position) : undefined),
    }));
    expect(outcome).toBeInstanceOf(RemoteRefusedError);
    expect((outcome as RemoteRefusedError).code).toBe("payment-stopped");
    share.close();
    // The payee's tab goes away before redeeming; the tokens it verified are written.
    await payeeSide.stop();
    const paidUnits = BigInt(PAY_UP_TO) / UNIT_BYTES;

    const reopened = payments(payee, payeeKey, undefined, store);
    await reopened.load();
    await reopened.stop();
    expect(reopened.channels.find((c) => c.channelId === BigInt(paying.id))).toMatchObject({
      scheme: "merkle",
      status: "Redeemed",
      amount: paidUnits * PRICE,
    });
    // The rest stays locked until expiry, then comes back to the payer's tab with no click.
    const units = unitsFor(BigInt(data.byteLength));
    const [, locked] = await balances(payee.address, payer.address);
    expect((payerBefore as bigint) - (locked as bigint)).toBe(units * PRICE);
    await chain.advance(UNIT_LOCK_SECONDS + 1n);
    await payerSide.refresh();
    await payerSide.stop();
    expect(payerSide.channels.find((c) => c.channelId === BigInt(paying.id))).toMatchObject({
      status: "Reclaimed",
      amount: paidUnits * PRICE,
    });
    const [payeeAfter, payerAfter] = await balances(payee.address, payer.address);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(paidUnits * PRICE);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(paidUnits * PRICE);
    expect(numberToHex(BigInt(paying.id), { size: 32 })).toBe(paying.id);
    store.close();
  }, 120_000);

  it("refuses a channel that already paid for another transfer of the same tab, in every scheme", async () => {
    for (const scheme of ["bandwidth", "hash-chain", "merkle"] as const) {
      const payeeSide = payments(payee, payeeKey);
      const payerSide = payments(payer, payerKey);
      const data = new Uint8Array(randomBytes(2 * MiB));
      const first = await send(data, { payeeSide, payerSide, scheme });
      await first.share.done;
      // The payer opens the second share's session with the first transfer's channel, to be paid for twice.
      const opening = first.paying.gate().opening;
      const second = await send(data, { payeeSide, payerSide, scheme }, (gate) => ({ ...gate, opening }));
      expect(second.outcome).toMatchObject({ name: "RemoteRefusedError", code: "payment-refused" });
      expect(second.sessions).toBe(1);
      // The second share never took the channel on: its units, preimages or tokens would have paid twice.
      expect(second.earning.channels).toEqual([]);
      first.share.close();
      second.share.close();
      await payeeSide.close(first.earning);
      await payeeSide.stop();
      await payerSide.stop();
    }
  }, 120_000);
});
