import "fake-indexeddb/auto";
import { randomBytes } from "node:crypto";
import { type Address, numberToHex, parseEther } from "viem";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { getHashChainChannel } from "../../chain/hashchain/channel.ts";
import type { TestChain } from "../../chain/testing/hardhat.ts";
import { MAX_CHAIN_LENGTH } from "../../lib/payments/hashchain.ts";
import { PaymentStoppedError, RemoteRefusedError } from "../../p2p/protocols/common/errors.ts";
import { decodeHashChainMessage, encodeHashChainMessage } from "../../p2p/protocols/pay/index.ts";
import { blobSource, decodeTicket } from "../../p2p/protocols/transfer/index.ts";
import { ChannelsDB } from "../../storage/channels-db.ts";
import { Sender } from "../send/send-files.ts";
import { MAX_CREDIT_BYTES } from "./bandwidth-payee.ts";
import { transferCost, UNIT_BYTES, UNIT_LOCK_SECONDS, unitsFor } from "./cost.ts";
import type { HashChainPayee } from "./hash-chain-payee.ts";
import type { HashChainPayer } from "./hash-chain-payer.ts";
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

function hashChainOf(earning: TransferPayee): HashChainPayee {
  const payee = earning.schemes["hash-chain"];
  if (!payee) throw new Error("the share takes no hash chain");
  return payee;
}

describe("a paid transfer over a hash chain, on a real chain", () => {
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

  it("pays one preimage per MB received, never ahead of the bytes, and the payee redeems once", async () => {
    const data = new Uint8Array(randomBytes(5 * MiB + 123));
    const total = BigInt(data.byteLength);
    const contract = chain.chain.contracts.HashChainChannel?.address as Address;
    const [payeeBefore, payerBefore, heldBefore] = await balances(payee.address, payer.address, contract);
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey);
    const earning = await payeeSide.payee(PRICE, { schemes: ["hash-chain"] });
    const share = await sender.services.transfer.share([blobSource(new Blob([data]), "a.bin", "")], {
      payment: earning,
    });
    expect(share.ticket.terms).toMatchObject({ payee: payee.address, pricePerMB: PRICE, schemes: ["hash-chain"] });
    const sink = memorySink(data.byteLength);
    let paying: HashChainPayer | undefined;
    let written = 0n;
    let most = 0n;
    const depths: number[] = [];
    await receiver.services.transfer.receive(
      share.ticket,
      {
        write: async (file, offset, bytes) => {
          await sink.write(file, offset, bytes, {});
          written = BigInt(offset + bytes.byteLength);
          const [channel] = hashChainOf(earning).channels;
          const ahead = channel ? channel.sentBytes - channel.paidBytes : 0n;
          if (ahead > most) most = ahead;
        },
      },
      {
        peer: sender.getMultiaddrs(),
        onOffer: async (files, terms) => {
          paying = (await payerSide.payer(terms as never, BigInt(files[0]?.size ?? 0))) as HashChainPayer;
          return true;
        },
        payer: () => {
          const gate = (paying as HashChainPayer).gate();
          return {
            ...gate,
            received: async (position) => {
              const payment = await gate.received(position);
              if (payment) {
                const message = decodeHashChainMessage(payment.data);
                if (message.type === "token") {
                  depths.push(message.depth);
                  // A preimage pays only for whole MB written, the last one at the very end.
                  expect(BigInt(message.depth) * UNIT_BYTES).toBeLessThanOrEqual(
                    written === total ? unitsFor(total) * UNIT_BYTES : written,
                  );
                }
              }
              return payment;
            },
          };
        },
      },
    );
    await share.done;
    expect(Buffer.from(sink.bytes).equals(Buffer.from(data))).toBe(true);
    expect(most).toBeLessThanOrEqual(MAX_CREDIT_BYTES);
    const units = unitsFor(total);
    expect(depths.at(-1)).toBe(Number(units));
    const id = (paying as HashChainPayer).id;
    expect((await getHashChainChannel(chain.client(), { channelId: id })).units).toBe(Number(units));

    await payeeSide.close(earning);
    await payeeSide.stop();
    const record = payeeSide.channels.find((c) => c.scheme === "hash-chain" && c.role === "payee");
    expect(record).toMatchObject({ status: "Redeemed", amount: units * PRICE, agreedBytes: total });
    expect(record?.txs.map((t) => t.what)).toEqual(["redeem"]);
    const cost = transferCost({ pricePerMB: PRICE }, total, "hash-chain");
    expect(cost).toBe(units * PRICE);
    const [payeeAfter, payerAfter, heldAfter] = await balances(payee.address, payer.address, contract);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(cost);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(cost);
    expect(heldAfter).toBe(heldBefore);
    expect((await getHashChainChannel(chain.client(), { channelId: id })).closed).toBe(true);
    // The payer's tab reads how its chain ended.
    await payerSide.refresh();
    await payerSide.stop();
    expect(payerSide.channels.find((c) => c.channelId === BigInt(id))).toMatchObject({
      role: "payer",
      status: "Redeemed",
      amount: cost,
    });
  }, 120_000);

  it("stops sending within the credit when the payer stops revealing, and redeems what was paid", async () => {
    const data = new Uint8Array(randomBytes(12 * MiB));
    const total = BigInt(data.byteLength);
    const [payeeBefore, payerBefore] = await balances(payee.address, payer.address);
    const payeeSide = payments(payee, payeeKey, 1_000);
    const payerSide = payments(payer, payerKey);
    let stopped: PaymentStoppedError | undefined;
    const earning = await payeeSide.payee(PRICE, {
      schemes: ["hash-chain"],
      onStopped: (error) => {
        stopped = error;
      },
    });
    const share = await sender.services.transfer.share([blobSource(new Blob([data]), "b.bin", "")], {
      payment: earning,
    });
    let paying: HashChainPayer | undefined;
    const PAY_UP_TO = 3 * MiB;
    const failure = await receiver.services.transfer
      .receive(share.ticket, memorySink(data.byteLength), {
        peer: sender.getMultiaddrs(),
        onOffer: async (files, terms) => {
          paying = (await payerSide.payer(terms as never, BigInt(files[0]?.size ?? 0))) as HashChainPayer;
          return true;
        },
        payer: () => {
          const gate = (paying as HashChainPayer).gate();
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
    const [channel] = hashChainOf(earning).channels;
    const paidUnits = BigInt(PAY_UP_TO) / UNIT_BYTES;
    expect(channel?.paidBytes).toBe(paidUnits * UNIT_BYTES);
    expect(channel?.sentBytes).toBeLessThanOrEqual(paidUnits * UNIT_BYTES + MAX_CREDIT_BYTES);
    expect(channel?.sentBytes).toBeLessThan(total);
    share.close();
    await payeeSide.close(earning);
    await payeeSide.stop();
    const [payeeAfter, payerAfter] = await balances(payee.address, payer.address);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(paidUnits * PRICE);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(paidUnits * PRICE);
  }, 120_000);

  it("refuses a preimage that is not on the chain by name, with no reconnection", async () => {
    const data = new Uint8Array(randomBytes(3 * MiB));
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey);
    const earning = await payeeSide.payee(PRICE, { schemes: ["hash-chain"] });
    const share = await sender.services.transfer.share([blobSource(new Blob([data]), "t.bin", "")], {
      payment: earning,
    });
    let paying: HashChainPayer | undefined;
    let sessions = 0;
    const failure = await receiver.services.transfer
      .receive(share.ticket, memorySink(data.byteLength), {
        peer: sender.getMultiaddrs(),
        onOffer: async (files, terms) => {
          paying = (await payerSide.payer(terms as never, BigInt(files[0]?.size ?? 0))) as HashChainPayer;
          return true;
        },
        payer: () => {
          sessions += 1;
          const gate = (paying as HashChainPayer).gate();
          return {
            ...gate,
            // The payer claims one unit more than its preimage proves.
            received: async (position) => {
              const payment = await gate.received(position);
              if (!payment) return payment;
              const message = decodeHashChainMessage(payment.data);
              if (message.type !== "token") return payment;
              return {
                ...payment,
                data: encodeHashChainMessage({ ...message, depth: message.depth + 1 }),
              };
            },
          };
        },
      })
      .catch((error: unknown) => error);
    expect(failure).toMatchObject({ name: "RemoteRefusedError", code: "payment-refused" });
    expect(sessions).toBe(1);
    const [channel] = hashChainOf(earning).channels;
    expect(channel?.paidBytes).toBe(0n);
    expect(channel?.sentBytes).toBeLessThanOrEqual(MAX_CREDIT_BYTES);
    share.close();
    await payeeSide.stop();
  }, 120_000);

  it("redeems from what it kept when the payee's tab comes back before redeeming", async () => {
    const data = new Uint8Array(randomBytes(2 * MiB));
    const total = BigInt(data.byteLength);
    const [payeeBefore, payerBefore] = await balances(payee.address, payer.address);
    const store = await ChannelsDB.open("hash-chain-payee-channels");
    const payeeSide = payments(payee, payeeKey, undefined, store);
    const payerSide = payments(payer, payerKey);
    const earning = await payeeSide.payee(PRICE, { schemes: ["hash-chain"] });
    const share = await sender.services.transfer.share([blobSource(new Blob([data]), "c.bin", "")], {
      payment: earning,
    });
    let paying: HashChainPayer | undefined;
    await receiver.services.transfer.receive(share.ticket, memorySink(data.byteLength), {
      peer: sender.getMultiaddrs(),
      onOffer: async (files, terms) => {
        paying = (await payerSide.payer(terms as never, BigInt(files[0]?.size ?? 0))) as HashChainPayer;
        return true;
      },
      payer: () => (paying as HashChainPayer).gate(),
    });
    await share.done;
    // The payee's tab goes away before redeeming; what it kept is written.
    await payeeSide.stop();
    const id = (paying as HashChainPayer).id;
    expect((await getHashChainChannel(chain.client(), { channelId: id })).closed).toBe(false);

    const reopened = payments(payee, payeeKey, undefined, store);
    await reopened.load();
    await reopened.stop();
    const record = reopened.channels.find((c) => c.channelId === BigInt(id));
    expect(record).toMatchObject({ scheme: "hash-chain", status: "Redeemed" });
    const cost = unitsFor(total) * PRICE;
    const [payeeAfter, payerAfter] = await balances(payee.address, payer.address);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(cost);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(cost);
    store.close();
  }, 120_000);

  it("redeems what was paid when the sender stops sharing mid-transfer", async () => {
    const data = new Uint8Array(randomBytes(12 * MiB));
    const [payeeBefore, payerBefore] = await balances(payee.address, payer.address);
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey);
    const offers = new Sender(sender.services.transfer, payeeSide);
    await offers.share([new File([data], "s.bin")], {
      appUrl: "http://tabula.test/",
      pricePerMB: PRICE,
      schemes: ["hash-chain"],
    });
    const [offer] = offers.outgoing;
    const link = new URL((offer?.link ?? "").replace("#/receive?", "?"));
    const ticket = decodeTicket(link.searchParams.get("t") ?? "");
    let paying: HashChainPayer | undefined;
    const PAY_UP_TO = 3 * MiB;
    const paidUnits = BigInt(PAY_UP_TO) / UNIT_BYTES;
    const receiving = receiver.services.transfer
      .receive(ticket, memorySink(data.byteLength), {
        peer: sender.getMultiaddrs(),
        onOffer: async (files, terms) => {
          paying = (await payerSide.payer(terms as never, BigInt(files[0]?.size ?? 0))) as HashChainPayer;
          return true;
        },
        payer: () => {
          const gate = (paying as HashChainPayer).gate();
          return {
            ...gate,
            received: async (position) => (position <= PAY_UP_TO ? await gate.received(position) : undefined),
          };
        },
      })
      .catch((error: unknown) => error);
    // The sender's user stops sharing once these units are paid.
    await vi.waitFor(() => expect(payeeSide.channels[0]?.agreedBytes).toBe(paidUnits * UNIT_BYTES), {
      timeout: 30_000,
    });
    offers.stop(offer?.id ?? 0);
    expect(await receiving).toBeInstanceOf(Error);
    const id = BigInt((paying as HashChainPayer).id);
    await vi.waitFor(() => expect(payeeSide.channels.find((c) => c.channelId === id)?.status).toBe("Redeemed"), {
      timeout: 30_000,
    });
    await payeeSide.stop();
    const [payeeAfter, payerAfter] = await balances(payee.address, payer.address);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(paidUnits * PRICE);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(paidUnits * PRICE);
  }, 120_000);

  it("names a transfer too large for one chain, before anything is signed", async () => {
    const payerSide = payments(payer, payerKey);
    const terms = { chainId: chain.chain.id, payee: payee.address, pricePerMB: 1n, schemes: ["hash-chain" as const] };
    const [before] = await balances(payer.address);
    await expect(payerSide.payer(terms, BigInt(MAX_CHAIN_LENGTH + 1) * UNIT_BYTES)).rejects.toMatchObject({
      name: "TransferTooLargeError",
    });
    expect(payerSide.channels).toEqual([]);
    expect(await balances(payer.address)).toEqual([before]);
  });

  it("takes back a chain that expired unredeemed, with no click, even from a tab that kept nothing", async () => {
    // An owner of its own: the tab takes back every expired chain of its owner, and earlier tests left some.
    const payer = privateKeyToAccount(generatePrivateKey());
    await chain.fund([payer.address]);
    const payerSide = payments(payer, payerKey);
    const [before] = await balances(payer.address);
    const terms = {
      chainId: chain.chain.id,
      payee: payee.address,
      pricePerMB: PRICE,
      schemes: ["hash-chain" as const],
    };
    const opened = (await payerSide.payer(terms, 10n * UNIT_BYTES)) as HashChainPayer;
    const [locked] = await balances(payer.address);
    expect((before as bigint) - (locked as bigint)).toBe(10n * PRICE);
    // Too early: the contract says so by name, and nothing moves.
    await payerSide.reclaim(BigInt(opened.id));
    expect(payerSide.channels.find((c) => c.channelId === BigInt(opened.id))?.error).toMatch(/may still redeem/);
    await payerSide.stop();

    const reopened = payments(payer, payerKey);
    await chain.advance(UNIT_LOCK_SECONDS + 1n);
    await reopened.load();
    await reopened.stop();
    const record = reopened.channels.find((c) => c.channelId === BigInt(opened.id));
    expect(record).toMatchObject({ scheme: "hash-chain", role: "payer", status: "Reclaimed" });
    expect(record?.txs.map((t) => t.what)).toContain("reclaim");
    expect(await balances(payer.address)).toEqual([before]);
    expect(numberToHex(record?.channelId ?? 0n, { size: 32 })).toBe(opened.id);
  }, 120_000);
});
