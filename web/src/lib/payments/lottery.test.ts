import { encodeAbiParameters, type Hex, keccak256 } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { PaymentSignatureError, PaymentsExhaustedError, PaymentTokenRejectedError } from "./errors.ts";
import {
  LotNotIssuingError,
  type LotState,
  LotStatus,
  lotCommitment,
  lotDeposit,
  newLotSecret,
  type SignedTicket,
  TicketBook,
  TicketIssuer,
  winningIndex,
} from "./lottery.ts";
import { compact, highS } from "./test-helpers.ts";

const payer = privateKeyToAccount("0x1111111111111111111111111111111111111111111111111111111111111111");
const mallory = privateKeyToAccount("0x3333333333333333333333333333333333333333333333333333333333333333");
/** The payer's tab: an operator key the payer authorized for ROLE_PAYER. */
const operator = privateKeyToAccount("0x4444444444444444444444444444444444444444444444444444444444444444");
const bob = "0x00000000000000000000000000000000000000b2" as const;
const carol = "0x00000000000000000000000000000000000000c3" as const;
const contract = { chainId: 31337, address: "0x00000000000000000000000000000000000000ee" } as const;
const NOW = 1_700_000_000n;

/** A lot as getLot would return it: open, 4 tickets, closable by anyone an hour from NOW. */
function lot(overrides: Partial<LotState> = {}): LotState {
  return {
    payer: payer.address,
    lotSize: 4,
    winningIndex: 0,
    status: LotStatus.Open,
    revealed: false,
    covered: 1,
    ticketValue: 10n,
    closeBy: Number(NOW) + 3600,
    closedAt: 0,
    seedBlock: 0,
    signerKey: 0,
    signer: payer.address,
    commitment: `0x${"11".repeat(32)}`,
    registered: 0,
    withdrawn: 0,
    coversPaid: 0,
    robbed: 0,
    robbedWithdrawn: 0,
    ...overrides,
  };
}

function setup(lotSize = 4) {
  const secret = newLotSecret();
  const issuer = new TicketIssuer({ contract, lotId: 1n, lotSize, signer: payer, secret });
  const book = new TicketBook({ contract, lotId: 1n, payee: bob });
  return { secret, issuer, book };
}

describe("lottery tickets", () => {
  it("counts a ticket once when two transfers hand it over at the same time", async () => {
    const { issuer, book } = setup();
    const ticket = await issuer.issue(bob);
    const results = await Promise.allSettled([
      book.accept(ticket, lot(), true, NOW),
      book.accept(ticket, lot(), true, NOW),
    ]);
    expect(results.map((r) => r.status).sort()).toEqual(["fulfilled", "rejected"]);
    expect(book.size).toBe(1);
  });

  it("issues each index once up to the lot size; the payee keeps them and builds the winner's redemption", async () => {
    const { issuer, book } = setup();
    for (let i = 0; i < 4; i++) await book.accept(await issuer.issue(bob), lot(), true, NOW);
    expect(issuer.issued).toBe(4);
    expect(issuer.remaining).toBe(0);
    await expect(issuer.issue(bob)).rejects.toThrow(PaymentsExhaustedError);
    expect(book.indices()).toEqual([0, 1, 2, 3]);
    expect(book.registrations().map((c) => c.index)).toEqual([0, 1, 2, 3]);

    // Not revealed yet: nothing to redeem; revealed with index 2: the ticket for index 2.
    expect(book.redemption(lot({ status: LotStatus.Closed }))).toBeUndefined();
    const args = book.redemption(lot({ status: LotStatus.Revealed, revealed: true, winningIndex: 2 }));
    expect(args?.[0]).toBe(1n);
    expect(args?.[1]).toBe(bob);
    expect(args?.[2]).toBe(2);
    // Redeemed (by us, or by another ticket with our cover used), or another payee's index won: nothing.
    // Redeemed by another ticket while our cover holds: the cover pays.
    const redeemed = lot({ status: LotStatus.Redeemed, revealed: true, winningIndex: 2 });
    expect(book.redemption(redeemed)).toBeUndefined();
    expect(book.redemption(redeemed, true)?.[2]).toBe(2);
    expect(book.registration()).toEqual([1n, bob, book.registrations()]);
    const small = new TicketBook({ contract, lotId: 1n, payee: bob });
    expect(small.redemption(lot({ status: LotStatus.Revealed, revealed: true, winningIndex: 2 }))).toBeUndefined();
  });

  it("refuses tickets for another payee or lot, beyond the lot, twice, and non-canonical or foreign signatures", async () => {
    const { issuer, book } = setup(10);
    const open = lot({ lotSize: 10 });
    await expect(book.accept(await issuer.issue(carol), open, true, NOW)).rejects.toThrow(/another payee/);
    const ticket = await issuer.issue(bob);
    await expect(book.accept({ ...ticket, lotId: 2n }, open, true, NOW)).rejects.toThrow(/lot 2/);
    await expect(book.accept({ ...ticket, signature: highS(ticket.signature) }, open, true, NOW)).rejects.toThrow(
      PaymentSignatureError,
    );
    await expect(book.accept({ ...ticket, signature: compact(ticket.signature) }, open, true, NOW)).rejects.toThrow(
      PaymentSignatureError,
    );
    const forged = await new TicketIssuer({
      contract,
      lotId: 1n,
      lotSize: 10,
      signer: mallory,
      secret: newLotSecret(),
      issued: 5,
    }).issue(bob);
    await expect(book.accept(forged, open, true, NOW)).rejects.toThrow(PaymentSignatureError);
    // Signed for another chain or contract: the digest differs, so the signer does not recover to the payer.
    const elsewhere = new TicketIssuer({
      contract: { ...contract, chainId: 1 },
      lotId: 1n,
      lotSize: 10,
      signer: payer,
      secret: newLotSecret(),
      issued: 6,
    });
    await expect(book.accept(await elsewhere.issue(bob), open, true, NOW)).rejects.toThrow(PaymentSignatureError);
    // An index beyond the lot: the lot is full.
    const beyond = await new TicketIssuer({
      contract,
      lotId: 1n,
      lotSize: 20,
      signer: payer,
      secret: newLotSecret(),
      issued: 10,
    }).issue(bob);
    await expect(book.accept(beyond, open, true, NOW)).rejects.toThrow(/beyond the lot's 10 tickets/);
    await book.accept(ticket, open, true, NOW);
    await expect(book.accept(ticket, open, true, NOW)).rejects.toThrow(PaymentTokenRejectedError);
    expect(book.size).toBe(1);
  });

  it("checks tickets against the key the lot bound: its operator key, and then not the payer's own", async () => {
    const bound = lot({ signerKey: 1, signer: operator.address });
    const book = new TicketBook({ contract, lotId: 1n, payee: bob });
    const secret = newLotSecret();
    const tab = new TicketIssuer({ contract, lotId: 1n, lotSize: 4, signer: operator, secret });
    await book.accept(await tab.issue(bob), bound, true, NOW);
    const wallet = new TicketIssuer({ contract, lotId: 1n, lotSize: 4, signer: payer, secret, issued: 1 });
    await expect(book.accept(await wallet.issue(bob), bound, true, NOW)).rejects.toThrow(PaymentSignatureError);
    // A lot the payer signs itself refuses the operator key's tickets.
    const own = new TicketBook({ contract, lotId: 1n, payee: bob });
    await expect(own.accept(await tab.issue(bob), lot(), true, NOW)).rejects.toThrow(PaymentSignatureError);
    expect(book.size).toBe(1);
    expect(own.size).toBe(0);
  });

  it("checks the lot's on-chain state: no tickets on a closed, unknown, uncovered or closable lot", async () => {
    const { issuer, book } = setup();
    const ticket = await issuer.issue(bob);
    await expect(book.accept(ticket, lot({ status: LotStatus.Closed }), true, NOW)).rejects.toThrow(/closed/);
    await expect(book.accept(ticket, lot({ status: LotStatus.Revealed }), true, NOW)).rejects.toThrow(/closed/);
    await expect(book.accept(ticket, lot({ status: LotStatus.None }), true, NOW)).rejects.toThrow(/does not exist/);
    await expect(book.accept(ticket, lot(), false, NOW)).rejects.toThrow(/no cover/);
    await expect(book.accept(ticket, lot({ closeBy: Number(NOW) }), true, NOW)).rejects.toThrow(/close-by/);
    expect(book.size).toBe(0);

    // The payer's side stops too: locally before sending closeLot, or following the chain.
    issuer.close();
    await expect(issuer.issue(bob)).rejects.toThrow(LotNotIssuingError);
    expect(issuer.remaining).toBe(0);
    const other = new TicketIssuer({ contract, lotId: 1n, lotSize: 4, signer: payer, secret: newLotSecret() });
    other.sync(lot());
    await other.issue(bob);
    const third = new TicketIssuer({ contract, lotId: 1n, lotSize: 4, signer: payer, secret: newLotSecret() });
    third.sync(lot({ status: LotStatus.Closed }));
    await expect(third.issue(bob)).rejects.toThrow(/closed on-chain/);
  });

  it("builds the cover claim for a ticket we hold, which anyone may send", async () => {
    const { issuer, book } = setup();
    const ours = await issuer.issue(bob);
    await book.accept(ours, lot(), true, NOW);
    expect(book.coverClaim(0)).toEqual([1n, { index: 0, payee: bob, nonce: ours.nonce }, ours.signature]);
    expect(book.coverClaim(1)).toBeUndefined();
    // A ticket from a stranger's key is refused before it is kept.
    const forged: SignedTicket = {
      ...(await issuer.issue(bob)),
      signature: await mallory.signTypedData({
        domain: {
          name: "Tabula Lottery",
          version: "1",
          chainId: contract.chainId,
          verifyingContract: contract.address,
        },
        types: {
          Ticket: [
            { name: "lotId", type: "uint256" },
            { name: "index", type: "uint32" },
            { name: "payee", type: "address" },
            { name: "nonce", type: "uint256" },
          ],
        },
        primaryType: "Ticket",
        message: { lotId: 1n, index: 1, payee: bob, nonce: 5n },
      }),
    };
    await expect(book.accept(forged, lot(), true, NOW)).rejects.toThrow(PaymentSignatureError);
  });

  it("commits to a secret, deposits lot, fine and covers, and draws an index only the secret and seed decide", () => {
    const secret = newLotSecret();
    const issuer = new TicketIssuer({ contract, lotId: 3n, lotSize: 100, signer: payer, secret });
    expect(issuer.revealArgs()).toEqual([3n, secret]);
    expect(lotCommitment(payer.address, secret)).toBe(
      keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [payer.address, secret])),
    );
    expect(lotCommitment(payer.address, secret)).not.toBe(lotCommitment(mallory.address, secret));
    expect(lotDeposit(1000, 10n, 0)).toBe(20_000n);
    expect(lotDeposit(1000, 10n, 2)).toBe(40_000n);
    const seed: Hex = `0x${"ab".repeat(32)}`;
    const index = winningIndex(secret, seed, 3n, 100);
    expect(index).toBeGreaterThanOrEqual(0);
    expect(index).toBeLessThan(100);
    expect(winningIndex(secret, seed, 3n, 100)).toBe(index);
    const expected = keccak256(
      encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }], [secret, seed, 3n]),
    );
    expect(BigInt(index)).toBe(BigInt(expected) % 100n);
    const others = new Set(
      [1, 2, 3, 4, 5, 6, 7, 8].map((b) => winningIndex(secret, `0x${b.toString(16).padStart(64, "0")}`, 3n, 100)),
    );
    expect(others.size).toBeGreaterThan(1);
  });
});
