import "fake-indexeddb/auto";
import { randomBytes } from "node:crypto";
import { type Address, custom, decodeFunctionData, parseEther } from "viem";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import { getTransaction, readContract } from "viem/actions";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployedContract } from "../../chain/chain.ts";
import { createTabulaClient } from "../../chain/client.ts";
import { getLot, lotRegisteredBy } from "../../chain/lottery/lot.ts";
import { closeLot, registerLotTickets } from "../../chain/lottery/lot-actions.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { TEST_LOTTERY_WINDOWS, type TestChain } from "../../chain/testing/hardhat.ts";
import { LotStatus, lotDeposit } from "../../lib/payments/lottery.ts";
import {
  type PaymentRefusedError,
  PaymentStoppedError,
  RemoteRefusedError,
} from "../../p2p/protocols/common/errors.ts";
import { decodeLotteryMessage, encodeLotteryMessage, type PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import { blobSource } from "../../p2p/protocols/transfer/index.ts";
import { ChannelsDB } from "../../storage/channels-db.ts";
import { MAX_CREDIT_BYTES } from "./bandwidth-payee.ts";
import { transferCost, transferDeposit, UNIT_BYTES, unitsFor } from "./cost.ts";
import type { LotteryPayee } from "./lottery-payee.ts";
import type { LotteryPayer } from "./lottery-payer.ts";
import {
  memorySink,
  type PaidTransferFixture,
  type PaymentsOptions,
  startPaidTransfers,
  type TransferNode,
} from "./testing/paid-transfer.ts";
import type { TransferPayee } from "./transfer-payee.ts";
import { MAX_REGISTER_TICKETS, SEED_PIN_AFTER_BLOCKS, type TransferPayments } from "./transfer-payments.ts";

const MiB = 1024 * 1024;
/** 0.001 TAB per MB. */
const PRICE = parseEther("0.001");
/** Past every window of a closed lot: the reveal, then the claim or sharing window. */
const ALL_WINDOWS = TEST_LOTTERY_WINDOWS.revealSeconds + TEST_LOTTERY_WINDOWS.claimSeconds + 10n;

function lotteryOf(earning: TransferPayee): LotteryPayee {
  const payee = earning.schemes.lottery;
  if (!payee) throw new Error("the share takes no lottery tickets");
  return payee;
}

describe("a paid transfer in lottery tickets, on a real chain", () => {
  let fixture: PaidTransferFixture;
  let chain: TestChain;
  let sender: TransferNode;
  let receiver: TransferNode;
  let payee: PrivateKeyAccount;
  let payer: PrivateKeyAccount;
  let payeeKey: PrivateKeyAccount;
  let payerKey: PrivateKeyAccount;
  let lottery: Address;

  beforeAll(async () => {
    fixture = await startPaidTransfers();
    ({ chain, sender, receiver, payee, payer, payeeKey, payerKey } = fixture);
    lottery = chain.chain.contracts.Lottery?.address as Address;
  }, 60_000);

  afterAll(async () => await fixture?.close());

  const payments = (owner: PrivateKeyAccount, key: PrivateKeyAccount, options: PaymentsOptions = {}) =>
    fixture.payments(owner, key, options);
  const balances = (...addresses: Address[]) => fixture.balances(...addresses);
  const supply = () =>
    readContract(chain.client(), {
      address: chain.token,
      abi: chain.chain.contracts.Token?.abi as never,
      functionName: "totalSupply",
    }) as Promise<bigint>;

  /** Owners of their own, with tokens and gas: what their tabs do touches no lot of another test. */
  async function freshOwners(count: number): Promise<PrivateKeyAccount[]> {
    const owners = Array.from({ length: count }, () => privateKeyToAccount(generatePrivateKey()));
    await chain.fund(owners.map((owner) => owner.address));
    return owners;
  }

  /**
   * Pays `payeeSide` `tickets` tickets (one per MB) of a lot `payerSide` funds, the payer's gate handing each
   * payment straight to the payee's as if every byte had come; then the payer's key closes the lot and withholds
   * its reveal past the reveal window. Resolves to the lot's id.
   */
  async function withheldLot(payeeSide: TransferPayments, payerSide: TransferPayments, tickets: number) {
    const earning = await payeeSide.payee(PRICE, { schemes: ["lottery"] });
    const totalBytes = BigInt(tickets) * UNIT_BYTES;
    const paying = (await payerSide.payer(earning.terms, totalBytes, { scheme: "lottery" })) as LotteryPayer;
    const payerGate = paying.gate();
    const payeeGate = await earning.admit(payerGate.opening, {
      receiver: "holder",
      totalBytes: Number(totalBytes),
      position: 0,
      signal: new AbortController().signal,
    });
    for (;;) {
      const payment = await payerGate.received(Number(totalBytes));
      if (!payment) break;
      await payeeGate.receive(payment);
    }
    paying.end();
    await payerSide.refresh();
    await payerSide.stop();
    await closeLot(chain.client(payerKey), { lotId: paying.lotId });
    await chain.advance(TEST_LOTTERY_WINDOWS.revealSeconds + 10n);
    return paying.lotId;
  }

  /** Sends `data` from a lottery share of `payeeSide` to `payerSide`, which pays as the bytes arrive. */
  async function send(
    payeeSide: TransferPayments,
    payerSide: TransferPayments,
    data: Uint8Array<ArrayBuffer>,
    pay: { upTo?: number; tamper?: boolean; dropAt?: number } = {},
  ): Promise<{
    paying: LotteryPayer;
    earning: TransferPayee;
    failure?: unknown;
    tickets: number[];
    refused: PaymentRefusedError[];
  }> {
    const refused: PaymentRefusedError[] = [];
    const earning = await payeeSide.payee(PRICE, { schemes: ["lottery"], onRefused: (error) => refused.push(error) });
    const share = await sender.services.transfer.share([blobSource(new Blob([data]), "l.bin", "")], {
      payment: earning,
    });
    const sink = memorySink(data.byteLength);
    let paying: LotteryPayer | undefined;
    let written = 0;
    const tickets: number[] = [];
    const failure = await receiver.services.transfer
      .receive(
        share.ticket,
        {
          write: async (file, offset, bytes) => {
            await sink.write(file, offset, bytes, {});
            written = offset + bytes.byteLength;
            if (pay.dropAt !== undefined && written >= pay.dropAt) {
              pay.dropAt = undefined;
              // The network drops once: the receiver reconnects and goes on where it stopped.
              for (const connection of receiver.getConnections(sender.peerId)) {
                connection.abort(new Error("network lost"));
              }
            }
          },
        },
        {
          peer: sender.getMultiaddrs(),
          onOffer: async (files, terms) => {
            paying = (await payerSide.payer(terms as never, BigInt(files[0]?.size ?? 0))) as LotteryPayer;
            return true;
          },
          payer: () => {
            const gate = (paying as LotteryPayer).gate();
            return {
              ...gate,
              received: async (position) => {
                if (pay.upTo !== undefined && position > pay.upTo) return undefined;
                const payment = await gate.received(position);
                if (!payment) return payment;
                const message = decodeLotteryMessage(payment.data);
                if (message.type !== "tickets") return payment;
                for (const ticket of message.tickets) {
                  // A ticket sent again after a drop is not a new one.
                  if (!tickets.includes(ticket.index)) tickets.push(ticket.index);
                  // A ticket pays only for whole MB written, the last one at the very end.
                  const paid = BigInt(tickets.length) * UNIT_BYTES;
                  expect(paid).toBeLessThanOrEqual(
                    written === data.byteLength ? unitsFor(BigInt(written)) * UNIT_BYTES : BigInt(written),
                  );
                }
                if (!pay.tamper) return payment;
                // The payer signs for one index and hands over another.
                const [first, ...rest] = message.tickets;
                if (!first) return payment;
                return {
                  ...payment,
                  data: encodeLotteryMessage({
                    type: "tickets",
                    tickets: [{ ...first, index: first.index + 1 }, ...rest],
                  }),
                };
              },
            };
          },
        },
      )
      .then(() => undefined)
      .catch((error: unknown) => error);
    if (!failure) {
      await share.done;
      expect(Buffer.from(sink.bytes).equals(Buffer.from(data))).toBe(true);
    }
    share.close();
    (paying as LotteryPayer).end();
    return { paying: paying as LotteryPayer, earning, failure, tickets, refused };
  }

  it("pays one ticket per MB; a full lot is drawn, its winner redeems from a reloaded tab, the payer takes back the fine and cover", async () => {
    const data = new Uint8Array(randomBytes(5 * MiB + 123));
    const total = BigInt(data.byteLength);
    const units = unitsFor(total);
    const [payeeBefore, payerBefore, heldBefore] = await balances(payee.address, payer.address, lottery);
    const supplyBefore = await supply();
    const store = await ChannelsDB.open("lottery-payee-channels");
    const payeeSide = payments(payee, payeeKey, { store });
    // A lot exactly the transfer's size: every index is the payee's, so the draw pays it.
    const payerSide = payments(payer, payerKey, { lotTickets: Number(units) });
    expect(transferCost({ pricePerMB: PRICE }, total, "lottery")).toBe(units * PRICE);
    expect(transferDeposit({ pricePerMB: PRICE }, total, "lottery", Number(units))).toBe(3n * units * PRICE);

    const { paying, earning, tickets } = await send(payeeSide, payerSide, data);
    expect(tickets).toEqual([...Array(Number(units)).keys()]);
    const [channel] = lotteryOf(earning).channels;
    expect(channel).toMatchObject({ paidBytes: total, earned: units * PRICE, lotSize: Number(units) });
    expect(channel?.sentBytes).toBe(total);
    const [, locked] = await balances(payee.address, payer.address);
    expect((payerBefore as bigint) - (locked as bigint)).toBe(lotDeposit(Number(units), PRICE, 1));

    // The payee's tab goes away before the draw; its tickets are written.
    await payeeSide.close(earning);
    await payeeSide.stop();
    // The payer's tab draws the full lot once the transfer is over.
    await payerSide.refresh();
    const lot = await getLot(chain.client(), { lotId: paying.lotId });
    expect(lot.status).toBe(LotStatus.Revealed);
    expect(lot.winningIndex).toBeLessThan(Number(units));
    expect(payerSide.channels.find((c) => c.channelId === paying.lotId)).toMatchObject({
      scheme: "lottery",
      status: "Drawn",
      issued: Number(units),
      expected: units * PRICE,
    });

    const reopened = payments(payee, payeeKey, { store });
    await reopened.load();
    await reopened.stop();
    const won = reopened.channels.find((c) => c.scheme === "lottery" && c.channelId === paying.lotId);
    expect(won).toMatchObject({
      role: "payee",
      status: "Redeemed",
      amount: units * PRICE,
      winningIndex: lot.winningIndex,
    });
    expect(won?.txs.map((t) => t.what)).toContain("redeem");

    // After the claim window, the payer's tab takes back the fine and the cover.
    await chain.advance(ALL_WINDOWS);
    await payerSide.refresh();
    await payerSide.stop();
    const record = payerSide.channels.find((c) => c.channelId === paying.lotId);
    expect(record).toMatchObject({ status: "Finished", amount: units * PRICE });
    expect(record?.txs.map((t) => t.what)).toEqual(["open", "close", "draw", "redeem", "finish"]);
    const [payeeAfter, payerAfter, heldAfter] = await balances(payee.address, payer.address, lottery);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(units * PRICE);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(units * PRICE);
    expect(heldAfter).toBe(heldBefore);
    expect(await supply()).toBe(supplyBefore);
    store.close();
  }, 120_000);

  it("draws the next transfers on the same lot while it has room, then on a new one; over the lots the payee is paid exactly what each draw gives, whose expectation is the price of every MB", async () => {
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey, { lotTickets: 10 });
    const [payeeBefore, payerBefore, heldBefore] = await balances(payee.address, payer.address, lottery);
    const supplyBefore = await supply();
    const sizes = [3 * 1_000_000, 4 * 1_000_000, 5 * 1_000_000];
    const lots: bigint[] = [];
    for (const size of sizes) {
      const { paying, earning } = await send(payeeSide, payerSide, new Uint8Array(randomBytes(size)));
      lots.push(paying.lotId);
      await payeeSide.close(earning);
    }
    // The second transfer fit in the first lot; the third did not, so it got a lot of its own.
    expect(lots[1]).toBe(lots[0]);
    expect(lots[2]).not.toBe(lots[0]);
    const [first, second] = [lots[0] as bigint, lots[2] as bigint];
    // The first lot, which could not serve, is drawn; the second is drawn when its payer asks.
    await payerSide.refresh();
    await payerSide.draw(second);
    await payeeSide.refresh();
    const drawn = await Promise.all([first, second].map((lotId) => getLot(chain.client(), { lotId })));
    const issued = [7, 5];
    let won = 0n;
    let expected = 0n;
    for (const [i, lot] of drawn.entries()) {
      expect(lot.revealed).toBe(true);
      const held = issued[i] as number;
      const value = BigInt(lot.lotSize) * lot.ticketValue;
      // Each ticket wins the lot with one chance in its size: worth one MB's price in expectation.
      expect((BigInt(held) * value) / BigInt(lot.lotSize)).toBe(BigInt(held) * PRICE);
      expected += BigInt(held) * PRICE;
      // The payee holds indices 0 .. held - 1: it is paid the lot exactly when one of them was drawn.
      if (lot.winningIndex < held) won += value;
      const record = payeeSide.channels.find((c) => c.scheme === "lottery" && c.channelId === lotIdOf(i));
      expect(record?.issued).toBe(held);
      expect(record?.amount).toBe(lot.winningIndex < held ? value : 0n);
    }
    expect(expected).toBe(12n * PRICE);
    await chain.advance(ALL_WINDOWS);
    await payerSide.refresh();
    await Promise.all([payeeSide.stop(), payerSide.stop()]);
    for (const lotId of [first, second]) {
      expect((await getLot(chain.client(), { lotId })).status).toBe(LotStatus.Finished);
    }
    const [payeeAfter, payerAfter, heldAfter] = await balances(payee.address, payer.address, lottery);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(won);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(won);
    expect(heldAfter).toBe(heldBefore);
    expect(await supply()).toBe(supplyBefore);

    function lotIdOf(i: number): bigint {
      return i === 0 ? first : second;
    }
  }, 180_000);

  it("goes on paying from the tickets handed over when the connection drops mid-transfer", async () => {
    const data = new Uint8Array(randomBytes(12 * MiB));
    const units = unitsFor(BigInt(data.byteLength));
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey, { lotTickets: Number(units) });
    const { earning, failure, tickets } = await send(payeeSide, payerSide, data, { dropAt: 7 * MiB });
    expect(failure).toBeUndefined();
    expect(tickets).toEqual([...Array(Number(units)).keys()]);
    const [channel] = lotteryOf(earning).channels;
    expect(channel).toMatchObject({ paidBytes: BigInt(data.byteLength), earned: units * PRICE });
    await Promise.all([payeeSide.stop(), payerSide.stop()]);
  }, 120_000);

  it("stops sending within the credit when the payer stops handing over tickets", async () => {
    const data = new Uint8Array(randomBytes(10 * MiB));
    const payeeSide = payments(payee, payeeKey, { paymentTimeoutMs: 2_000 });
    const payerSide = payments(payer, payerKey);
    let stopped: PaymentStoppedError | undefined;
    const original = payeeSide.payee.bind(payeeSide);
    payeeSide.payee = (price, hooks = {}) =>
      original(price, {
        ...hooks,
        onStopped: (error) => {
          stopped = error;
        },
      });
    const PAY_UP_TO = 3 * MiB;
    const { earning, failure } = await send(payeeSide, payerSide, data, { upTo: PAY_UP_TO });
    expect(failure).toBeInstanceOf(RemoteRefusedError);
    expect((failure as RemoteRefusedError).code).toBe("payment-stopped");
    expect(stopped).toBeInstanceOf(PaymentStoppedError);
    const [channel] = lotteryOf(earning).channels;
    const paidUnits = BigInt(PAY_UP_TO) / UNIT_BYTES;
    expect(channel?.paidBytes).toBe(paidUnits * UNIT_BYTES);
    expect(channel?.sentBytes).toBeLessThanOrEqual(paidUnits * UNIT_BYTES + MAX_CREDIT_BYTES);
    expect(channel?.sentBytes).toBeLessThan(BigInt(data.byteLength));
    await Promise.all([payeeSide.stop(), payerSide.stop()]);
  }, 120_000);

  it("refuses by name a ticket whose index is not the one signed, with no reconnection", async () => {
    const data = new Uint8Array(randomBytes(3 * MiB));
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey);
    const { earning, failure, refused } = await send(payeeSide, payerSide, data, { tamper: true });
    expect(failure).toMatchObject({ name: "RemoteRefusedError", code: "payment-refused" });
    // The sender's side hears of it too, by name.
    expect(refused.map((error) => error.shortMessage)).toEqual([
      expect.stringMatching(/lottery ticket \d+ is refused/),
    ]);
    const [channel] = lotteryOf(earning).channels;
    expect(channel?.paidBytes).toBe(0n);
    expect(channel?.sentBytes).toBeLessThanOrEqual(MAX_CREDIT_BYTES);
    await Promise.all([payeeSide.stop(), payerSide.stop()]);
  }, 120_000);

  it("shares the lot among its holders when the payer withholds its reveal: the payee is paid the lot and the fine is burned", async () => {
    // An owner of its own: a tab that kept nothing draws and finishes every lot its owner funded.
    const payer = privateKeyToAccount(generatePrivateKey());
    await chain.fund([payer.address]);
    const data = new Uint8Array(randomBytes(4 * 1_000_000));
    const lotSize = 10n;
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey, { lotTickets: Number(lotSize) });
    const [payeeBefore, payerBefore, heldBefore] = await balances(payee.address, payer.address, lottery);
    const supplyBefore = await supply();
    const { paying, earning } = await send(payeeSide, payerSide, data);
    await payeeSide.close(earning);
    await payerSide.stop();
    // The payer's key closes the lot and its tab never reveals.
    await closeLot(chain.client(payerKey), { lotId: paying.lotId });
    await chain.advance(TEST_LOTTERY_WINDOWS.revealSeconds + 10n);
    await payeeSide.refresh();
    expect(payeeSide.channels.find((c) => c.channelId === paying.lotId)?.txs.map((t) => t.what)).toContain("register");
    await chain.advance(TEST_LOTTERY_WINDOWS.shareSeconds);
    // The payer's tab comes back first and takes back the rest: the cover comes back, the fine is burned.
    const finisher = payments(payer, payerKey);
    await finisher.load();
    await finisher.stop();
    expect(finisher.channels.find((c) => c.channelId === paying.lotId)).toMatchObject({ status: "Finished" });
    await payeeSide.refresh();
    expect((await getLot(chain.client(), { lotId: paying.lotId })).status).toBe(LotStatus.Finished);
    await payeeSide.refresh();
    await payeeSide.stop();
    // The payee registered the only tickets: the whole lot is its share, taken after the payer finished.
    const value = lotSize * PRICE;
    expect(payeeSide.channels.find((c) => c.channelId === paying.lotId)).toMatchObject({ amount: value });
    const [payeeAfter, payerAfter, heldAfter] = await balances(payee.address, payer.address, lottery);
    expect((payeeAfter as bigint) - (payeeBefore as bigint)).toBe(value);
    expect((payerBefore as bigint) - (payerAfter as bigint)).toBe(2n * value);
    expect(heldAfter).toBe(heldBefore);
    expect(supplyBefore - (await supply())).toBe(value);
  }, 120_000);

  it("keeps a closed lot's seed for a payer whose tab comes back after the seed block's hash is forgotten, so it still draws", async () => {
    const payer = privateKeyToAccount(generatePrivateKey());
    await chain.fund([payer.address]);
    const payeeSide = payments(payee, payeeKey);
    const payerSide = payments(payer, payerKey, { lotTickets: 10 });
    const { paying, earning } = await send(payeeSide, payerSide, new Uint8Array(randomBytes(3 * 1_000_000)));
    await payeeSide.close(earning);
    await payerSide.stop();
    // The payer's key closes the lot and its tab goes away before the seed block is even mined.
    await closeLot(chain.client(payerKey), { lotId: paying.lotId });
    const mine = (blocks: bigint) =>
      chain.client().request({ method: "hardhat_mine" as never, params: [`0x${blocks.toString(16)}`] as never });
    // Half of the blocks that remember the seed's hash pass, then the payee's tab looks: it keeps the seed.
    await mine(SEED_PIN_AFTER_BLOCKS + 2n);
    await payeeSide.refresh();
    await payeeSide.stop();
    expect(payeeSide.channels.find((c) => c.channelId === paying.lotId)?.txs.map((t) => t.what)).toContain("pin");
    // Long after BLOCKHASH forgot the seed block, but within the reveal window, the payer's tab comes back.
    await mine(300n);
    const back = payments(payer, payerKey);
    await back.load();
    await back.stop();
    const lot = await getLot(chain.client(), { lotId: paying.lotId });
    expect(lot.revealed).toBe(true);
    expect(back.channels.find((c) => c.channelId === paying.lotId)?.txs.map((t) => t.what)).toContain("draw");
  }, 120_000);

  it("never draws two transfers accepted at once on one lot: one takes the open lot with room, the other funds one", async () => {
    const [funder] = (await freshOwners(1)) as [PrivateKeyAccount];
    const payerSide = payments(funder, payerKey, { lotTickets: 10 });
    const terms: PaymentTerms = {
      chainId: chain.chain.id,
      payee: payee.address,
      pricePerMB: PRICE,
      schemes: ["lottery"],
    };
    // Paid transfers of 3 MB each accepted together; they end once all are accepted (no ticket issued), so their
    // lots stay open with room.
    const accept = async (count: number) => {
      const accepted = await Promise.all(
        Array.from(
          { length: count },
          async () => (await payerSide.payer(terms, 3n * UNIT_BYTES, { scheme: "lottery" })) as LotteryPayer,
        ),
      );
      for (const paying of accepted) paying.end();
      return accepted.map((paying) => paying.lotId);
    };
    const [first] = await accept(1);
    // Two accepted at once while that lot has room for either: one draws on it, the other funds a lot of its own.
    const funded = await accept(2);
    expect(new Set(funded).size).toBe(2);
    expect(funded).toContain(first);
    // Two at once while both lots have room: each draws on one of them, and no lot is funded.
    const reused = await accept(2);
    expect(new Set(reused)).toEqual(new Set(funded));
    await payerSide.refresh();
    await payerSide.stop();
    const lots = payerSide.channels.filter((c) => c.scheme === "lottery" && c.role === "payer");
    expect(lots.map((c) => c.channelId).sort()).toEqual([...funded].sort());
    // Neither lot was asked to be drawn for want of room: each was held by the other transfer.
    for (const lot of lots) expect(lot).toMatchObject({ status: "Open", issued: 0, lotSize: 10 });
    expect(lots.some((lot) => lot.drawAsked)).toBe(false);
  }, 60_000);

  it("registers a withheld lot's tickets in batches that fit a block, and only those not registered yet", async () => {
    const [holder, funder] = (await freshOwners(2)) as [PrivateKeyAccount, PrivateKeyAccount];
    const TICKETS = 450;
    const payeeSide = payments(holder, payeeKey);
    const payerSide = payments(funder, payerKey, { lotTickets: TICKETS + 10 });
    const lotId = await withheldLot(payeeSide, payerSide, TICKETS);
    const held = payeeSide.channels.find((c) => c.channelId === lotId)?.lotTickets ?? [];
    expect(held).toHaveLength(TICKETS);
    // Some were registered before (a tab that went away after its first batch): they are not sent again.
    const EARLIER = 120;
    const hash = await registerLotTickets(chain.client(payeeKey), {
      args: [lotId, holder.address, held.slice(0, EARLIER)],
    });
    await waitForSuccess(chain.client(), { hash, what: "Registering the first tickets" });

    await payeeSide.refresh();
    await payeeSide.stop();
    const record = payeeSide.channels.find((c) => c.channelId === lotId);
    expect(record).toMatchObject({ role: "payee", status: "Sharing" });
    const registrations = record?.txs.filter((t) => t.what === "register") ?? [];
    expect(registrations).toHaveLength(Math.ceil((TICKETS - EARLIER) / MAX_REGISTER_TICKETS));
    const { abi } = deployedContract(chain.chain, "Lottery");
    const sent: number[] = [];
    for (const registration of registrations) {
      const { input } = await getTransaction(chain.client(), { hash: registration.hash });
      const call = decodeFunctionData({ abi, data: input });
      if (call.functionName !== "registerTickets") throw new Error(`${call.functionName} sent, not registerTickets`);
      const [, registrant, claims] = call.args;
      expect(registrant).toBe(holder.address);
      expect(claims.length).toBeLessThanOrEqual(MAX_REGISTER_TICKETS);
      sent.push(...claims.map((claim) => Number(claim.index)));
    }
    // Every ticket not registered yet, once, and none of the others.
    expect(sent).toEqual(held.slice(EARLIER).map((t) => t.index));
    expect(await lotRegisteredBy(chain.client(), { lotId, payee: holder.address })).toBe(BigInt(TICKETS));
  }, 60_000);

  it("reads a lot's events again only once the lot moved, not on every look while it waits out its windows", async () => {
    const [holder, funder] = (await freshOwners(2)) as [PrivateKeyAccount, PrivateKeyAccount];
    let logQueries = 0;
    const plain = chain.client();
    const reader = createTabulaClient({
      chain: chain.chain,
      transport: custom({
        request: async ({ method, params }) => {
          if (method === "eth_getLogs") logQueries += 1;
          return await plain.request({ method, params } as never);
        },
      }),
    });
    const TICKETS = 4;
    const lotSize = 10n;
    const payeeSide = payments(holder, payeeKey, { reader });
    const payerSide = payments(funder, payerKey, { lotTickets: Number(lotSize) });
    const lotId = await withheldLot(payeeSide, payerSide, TICKETS);
    const record = () => payeeSide.channels.find((c) => c.channelId === lotId);

    // The first look reads the closed lot's events and registers the tickets.
    await payeeSide.refresh();
    expect(record()?.txs.map((t) => t.what)).toContain("register");
    expect(logQueries).toBeGreaterThan(0);
    // Nothing moves while the sharing window runs: the next looks read the lot, not its events.
    const waiting = logQueries;
    for (let look = 0; look < 3; look++) await payeeSide.refresh();
    expect(logQueries).toBe(waiting);
    expect(record()).toMatchObject({ status: "Sharing", amount: 0n });

    // Past the window the share is taken: the lot moved, so its events are read again, and show the share.
    await chain.advance(TEST_LOTTERY_WINDOWS.shareSeconds);
    const [before] = await balances(holder.address);
    await payeeSide.refresh();
    expect(logQueries).toBeGreaterThan(waiting);
    const share = BigInt(TICKETS) * ((lotSize * PRICE) / BigInt(TICKETS));
    expect(record()).toMatchObject({ amount: share });
    expect(record()?.txs.map((t) => t.what)).toContain("share");
    const [after] = await balances(holder.address);
    expect((after as bigint) - (before as bigint)).toBe(share);
    const shared = logQueries;
    for (let look = 0; look < 3; look++) await payeeSide.refresh();
    expect(logQueries).toBe(shared);
    await payeeSide.stop();
  }, 60_000);
});
