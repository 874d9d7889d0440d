import { describe, expect, it } from "vitest";
import { moneyTotals } from "./summary.ts";
import type { ChannelRecord } from "./transfer-payments.ts";

const base: Pick<ChannelRecord, "counterparty" | "pricePerMB" | "agreedBytes" | "txs"> = {
  counterparty: "0x00000000000000000000000000000000000000aa",
  pricePerMB: 1n,
  agreedBytes: 0n,
  txs: [],
};

describe("moneyTotals", () => {
  it("adds up per scheme what is locked, paid and earned, and what still needs something", () => {
    const channels: ChannelRecord[] = [
      { ...base, scheme: "bandwidth", channelId: 1n, role: "payer", status: "Active", deposit: 100n, amount: 30n },
      { ...base, scheme: "bandwidth", channelId: 2n, role: "payee", status: "Settled", deposit: 50n, amount: 50n },
      { ...base, scheme: "hash-chain", channelId: 3n, role: "payer", status: "Redeemed", deposit: 68n, amount: 68n },
      { ...base, scheme: "hash-chain", channelId: 4n, role: "payer", status: "Expired", deposit: 10n, amount: 0n },
      { ...base, scheme: "merkle", channelId: 5n, role: "payee", status: "Open", deposit: 9n, amount: 4n },
      // A lot whose winner was paid still holds its fine and cover until its payer takes them back.
      { ...base, scheme: "lottery", channelId: 6n, role: "payer", status: "Redeemed", deposit: 300n, amount: 100n },
      { ...base, scheme: "lottery", channelId: 7n, role: "payer", status: "Finished", deposit: 300n, amount: 0n },
    ];
    expect(moneyTotals(channels)).toEqual([
      { scheme: "bandwidth", locked: 70n, paid: 30n, earned: 50n, pending: 1 },
      { scheme: "hash-chain", locked: 10n, paid: 68n, earned: 0n, pending: 1 },
      { scheme: "merkle", locked: 0n, paid: 0n, earned: 4n, pending: 1 },
      { scheme: "lottery", locked: 200n, paid: 100n, earned: 0n, pending: 1 },
    ]);
  });
});
