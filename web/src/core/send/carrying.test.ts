import { describe, expect, it, vi } from "vitest";
import type { TransferCarrier } from "../../p2p/protocols/transfer/index.ts";
import type { TransferPayments } from "../payments/transfer-payments.ts";
import { Carrying } from "./carrying.ts";

const ALICE = "0x00000000000000000000000000000000000a11ce";
const BOB = "0x0000000000000000000000000000000000000b0b";

/** Payments whose carrier is made for whichever wallet `owner()` names when it is asked. */
function payments(owner: () => string) {
  const asked: string[] = [];
  let release: (() => void) | undefined;
  let held = false;
  const carrier = vi.fn(async (): Promise<TransferCarrier> => {
    const address = owner();
    asked.push(address);
    if (held) await new Promise<void>((resolve) => (release = resolve));
    return { address: address as `0x${string}`, admit: async () => Promise.reject(new Error("unused")) };
  });
  return {
    payments: { carrier } as unknown as TransferPayments,
    asked,
    hold: () => (held = true),
    release: () => release?.(),
  };
}

describe("carrying paid transfers", () => {
  it("keeps the user's choice, and a reloaded tab carries again once its wallet is there", async () => {
    const wallet = ALICE;
    const kept: boolean[] = [];
    const first = new Carrying(payments(() => wallet).payments, { onWanted: (on) => kept.push(on) });
    await first.ownerChanged(ALICE);
    await first.setOn(true);
    expect(first.carrier?.address).toBe(ALICE);
    expect(kept).toEqual([true]);

    const reloaded = new Carrying(payments(() => wallet).payments, { wanted: kept.at(-1) ?? false });
    expect(reloaded.on).toBe(true);
    expect(reloaded.waiting).toBe(true);
    expect(reloaded.carrier).toBeUndefined();
    await reloaded.ownerChanged(ALICE);
    expect(reloaded.carrier?.address).toBe(ALICE);

    await reloaded.setOn(false);
    expect(reloaded.carrier).toBeUndefined();
  });

  it("stops carrying when the wallet leaves, and carries for the next one connected", async () => {
    let wallet = ALICE;
    const side = payments(() => wallet);
    const carrying = new Carrying(side.payments, { wanted: true });
    await carrying.ownerChanged(ALICE);
    expect(carrying.carrier?.address).toBe(ALICE);

    await carrying.ownerChanged(undefined);
    expect(carrying.carrier).toBeUndefined();
    expect(carrying.on).toBe(true);
    expect(carrying.waiting).toBe(true);

    wallet = BOB;
    await carrying.ownerChanged(BOB);
    expect(carrying.carrier?.address).toBe(BOB);
    expect(side.asked).toEqual([ALICE, BOB]);
  });

  it("never carries for a wallet that left while it was being authorized", async () => {
    const side = payments(() => ALICE);
    const carrying = new Carrying(side.payments);
    await carrying.ownerChanged(ALICE);
    side.hold();
    const switching = carrying.setOn(true);
    expect(carrying.busy).toBe(true);
    await carrying.ownerChanged(undefined);
    side.release();
    await switching;
    expect(carrying.carrier).toBeUndefined();
    expect(carrying.busy).toBe(false);
    expect(carrying.waiting).toBe(true);
  });
});
