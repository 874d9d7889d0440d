import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { PaymentSignatureError, PaymentsExhaustedError, PaymentTokenRejectedError } from "./errors.ts";
import { drawPosition, lotCommitment, newLotSecret, TicketBook, TicketIssuer } from "./lottery.ts";
import { compact, highS } from "./test-helpers.ts";

const payer = privateKeyToAccount("0x1111111111111111111111111111111111111111111111111111111111111111");
const mallory = privateKeyToAccount("0x3333333333333333333333333333333333333333333333333333333333333333");
const bob = "0x00000000000000000000000000000000000000b2" as const;
const carol = "0x00000000000000000000000000000000000000c3" as const;
const contract = { chainId: 31337, address: "0x00000000000000000000000000000000000000ee" } as const;

describe("lottery tickets", () => {
  it("issues each index once up to the lot size and the payee collects them for redemption", async () => {
    const issuer = new TicketIssuer({ contract, lotId: 1n, lotSize: 4, signer: payer });
    const book = new TicketBook({ contract, lotId: 1n, lotSize: 4, payer: payer.address, payee: bob });
    for (let i = 0; i < 4; i++) await book.accept(await issuer.issue(bob));
    await expect(issuer.issue(bob)).rejects.toThrow(PaymentsExhaustedError);
    const claims = book.claims();
    expect(claims.map((c) => c.index)).toEqual([0, 1, 2, 3]);
    book.markRedeemed([0, 1]);
    expect(book.pendingCount).toBe(2);
  });

  it("refuses tickets for another payee, lot or signer, twice, and non-canonical signatures", async () => {
    const issuer = new TicketIssuer({ contract, lotId: 1n, lotSize: 10, signer: payer });
    const book = new TicketBook({ contract, lotId: 1n, lotSize: 10, payer: payer.address, payee: bob });
    await expect(book.accept(await issuer.issue(carol))).rejects.toThrow(/another payee/);
    const ticket = await issuer.issue(bob);
    await expect(book.accept({ ...ticket, lotId: 2n })).rejects.toThrow(/lot 2/);
    await expect(book.accept({ ...ticket, signature: highS(ticket.signature) })).rejects.toThrow(PaymentSignatureError);
    await expect(book.accept({ ...ticket, signature: compact(ticket.signature) })).rejects.toThrow(
      PaymentSignatureError,
    );
    const forged = await new TicketIssuer({ contract, lotId: 1n, lotSize: 10, signer: mallory, issued: 5 }).issue(bob);
    await expect(book.accept(forged)).rejects.toThrow(PaymentSignatureError);
    await book.accept(ticket);
    await expect(book.accept(ticket)).rejects.toThrow(PaymentTokenRejectedError);
  });

  it("commits to a secret and draws a position in range that only the secret and block hash decide", () => {
    const secret = newLotSecret();
    expect(lotCommitment(payer.address, secret)).not.toBe(lotCommitment(mallory.address, secret));
    const blockHash = `0x${"ab".repeat(32)}` as const;
    const position = drawPosition(secret, blockHash, 3n, 100n);
    expect(position).toBeGreaterThanOrEqual(0n);
    expect(position).toBeLessThan(100n);
    expect(drawPosition(secret, blockHash, 3n, 100n)).toBe(position);
    const others = new Set(
      [1, 2, 3, 4, 5, 6, 7, 8].map((b) => drawPosition(secret, `0x${b.toString(16).padStart(64, "0")}`, 3n, 100n)),
    );
    expect(others.size).toBeGreaterThan(1);
  });
});
