import { zeroHash } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import {
  BandwidthMeter,
  boundSigner,
  claimableBytes,
  crossesLinkMark,
  otherRole,
  settleUsage,
  type Usage,
  usageDigest,
} from "./bandwidth.ts";
import { BANDWIDTH_DOMAIN_NAME, paymentDomain, USAGE_TYPES } from "./eip712.ts";
import { PaymentSignatureError, UsageDisputeError, UsageRejectedError } from "./errors.ts";
import { compact, highS } from "./test-helpers.ts";

/** The owners' wallets: they open and confirm, but the channel bound their tabs' operator keys below. */
const payerOwner = privateKeyToAccount("0x1111111111111111111111111111111111111111111111111111111111111111");
const payeeOwner = privateKeyToAccount("0x2222222222222222222222222222222222222222222222222222222222222222");
/** The keys each tab keeps, bound on-chain as `payerSigner` and `payeeSigner`. */
const payer = privateKeyToAccount("0x3333333333333333333333333333333333333333333333333333333333333333");
const payee = privateKeyToAccount("0x4444444444444444444444444444444444444444444444444444444444444444");
const bound = { payerSigner: payer.address, payeeSigner: payee.address };
const contract = { chainId: 31337, address: "0x00000000000000000000000000000000000000bc" } as const;
const MB = 1_000_000n;
const now = () => 1_700_000_000n;

function pair(toleranceBytes = 2n * MB) {
  const common = { contract, channelId: 7n, lossToleranceBytes: toleranceBytes, now };
  return {
    a: new BandwidthMeter({ ...common, role: "payer", self: payer, counterpartySigner: boundSigner(bound, "payee") }),
    b: new BandwidthMeter({
      ...common,
      role: "payee",
      self: payee,
      counterpartySigner: boundSigner(bound, "payer"),
      creditBytes: minBig(2n * MB, toleranceBytes),
    }),
  };
}

async function exchange(a: BandwidthMeter, b: BandwidthMeter, bytes: bigint, payerSees = bytes) {
  b.record(bytes);
  a.record(payerSees);
  const agreed = await b.countersign(await a.propose());
  await a.acceptCountersignature(agreed);
  return agreed;
}

describe("BandwidthMeter", () => {
  it("agrees on cumulative usage signed by both sides", async () => {
    const { a, b } = pair();
    await exchange(a, b, MB);
    const agreed = await exchange(a, b, MB);
    expect(agreed.usage.totalBytes).toBe(2n * MB);
    expect(agreed.usage.sequence).toBe(2n);
    expect(a.agreed).toEqual(b.agreed);
    const digest = usageDigest(contract, agreed.usage);
    expect(await payer.sign({ hash: digest })).toBe(agreed.payerSignature);
    expect(await payee.sign({ hash: digest })).toBe(agreed.payeeSignature);
  });

  it("links to the other side's last unit each time the count passes a 5 MB mark", async () => {
    const { a, b } = pair();
    const first = await exchange(a, b, 2n * MB);
    expect(first.usage.link).toBe(zeroHash);
    const second = await exchange(a, b, 2n * MB);
    expect(second.usage.link).toBe(zeroHash);
    const third = await exchange(a, b, 2n * MB);
    expect(crossesLinkMark(4n * MB, 6n * MB)).toBe(true);
    expect(third.usage.link).toBe(usageDigest(contract, second.usage));
  });

  it("proposes on while units are out: each links to the last proposal, and one countersignature settles all", async () => {
    const { a, b } = pair();
    a.record(2n * MB);
    const first = await a.propose();
    a.record(2n * MB);
    const second = await a.propose();
    a.record(2n * MB);
    // 6 MB passes the 5 MB mark from the 4 MB proposed last: it links to that proposal, not to the agreed unit.
    const third = await a.propose();
    expect(a.pending.map((unit) => unit.usage.sequence)).toEqual([1n, 2n, 3n]);
    expect(a.proposedBytes).toBe(6n * MB);
    expect(third.usage.link).toBe(usageDigest(contract, second.usage));
    b.record(2n * MB);
    await b.countersign(first);
    b.record(2n * MB);
    const secondAgreed = await b.countersign(second);
    b.record(2n * MB);
    const thirdAgreed = await b.countersign(third);
    await a.acceptCountersignature(secondAgreed);
    expect(a.agreed).toEqual(secondAgreed);
    expect(a.pending).toEqual([third]);
    await expect(a.acceptCountersignature(secondAgreed)).rejects.toThrow(UsageRejectedError);
    await a.acceptCountersignature(thirdAgreed);
    expect(a.agreed).toEqual(b.agreed);
    expect(a.pending).toEqual([]);
  });

  it("withdraws units lost on the way: the next one counts from and links to the last agreed unit", async () => {
    const { a, b } = pair();
    await exchange(a, b, 4n * MB);
    a.record(2n * MB);
    const lost = await a.propose();
    expect(lost.usage.link).not.toBe(zeroHash);
    a.withdrawPending();
    expect(a.proposedBytes).toBe(4n * MB);
    a.record(MB);
    b.record(3n * MB);
    const next = await a.propose();
    expect(next.usage.sequence).toBe(3n);
    expect(next.usage.link).toBe(usageDigest(contract, b.agreed.usage));
    await a.acceptCountersignature(await b.countersign(next));
    expect(a.agreed.usage.totalBytes).toBe(7n * MB);
  });

  it("refuses a unit that passes a 5 MB mark without the link", async () => {
    const { a, b } = pair();
    await exchange(a, b, 4n * MB);
    b.record(2n * MB);
    const usage: Usage = { channelId: 7n, sequence: 2n, totalBytes: 6n * MB, time: now(), link: zeroHash };
    const signature = await payer.signTypedData({
      domain: paymentDomain(BANDWIDTH_DOMAIN_NAME, contract),
      types: USAGE_TYPES,
      primaryType: "Usage",
      message: usage,
    });
    await expect(b.countersign({ usage, signature })).rejects.toThrow(/link/);
  });

  it("refuses old sequences, other channels, wrong signers and non-canonical signatures", async () => {
    const { a, b } = pair();
    b.record(MB);
    a.record(MB);
    const proposal = await a.propose();
    await b.countersign(proposal);
    await expect(b.countersign(proposal)).rejects.toThrow(UsageRejectedError);
    const other = pair().a;
    other.record(MB);
    const next = await other.propose();
    await expect(b.countersign({ ...next, usage: { ...next.usage, channelId: 8n } })).rejects.toThrow(/channel 8/);
    const fresh = pair();
    fresh.a.record(1n);
    const p = await fresh.a.propose();
    await expect(fresh.b.countersign({ ...p, signature: highS(p.signature) })).rejects.toThrow(PaymentSignatureError);
    await expect(fresh.b.countersign({ ...p, signature: compact(p.signature) })).rejects.toThrow(PaymentSignatureError);
    const forged = await payee.signTypedData({
      domain: paymentDomain(BANDWIDTH_DOMAIN_NAME, contract),
      types: USAGE_TYPES,
      primaryType: "Usage",
      message: p.usage,
    });
    await expect(fresh.b.countersign({ ...p, signature: forged })).rejects.toThrow(/expected/);
  });

  it("checks the other side against the key its channel bound, never its owner", async () => {
    const { a, b } = pair();
    a.record(MB);
    b.record(MB);
    const proposal = await a.propose();
    const byOwner = await payerOwner.signTypedData({
      domain: paymentDomain(BANDWIDTH_DOMAIN_NAME, contract),
      types: USAGE_TYPES,
      primaryType: "Usage",
      message: proposal.usage,
    });
    await expect(b.countersign({ ...proposal, signature: byOwner })).rejects.toThrow(
      new RegExp(`expected ${payer.address}`),
    );
    const agreed = await b.countersign(proposal);
    const ownerCountersigned = {
      ...agreed,
      payeeSignature: await payeeOwner.sign({ hash: usageDigest(contract, agreed.usage) }),
    };
    await expect(a.acceptCountersignature(ownerCountersigned)).rejects.toThrow(PaymentSignatureError);
    await a.acceptCountersignature(agreed);
    expect(a.agreed).toEqual(b.agreed);
  });

  it("refuses to run with one key on both sides", () => {
    expect(
      () =>
        new BandwidthMeter({
          contract,
          channelId: 1n,
          lossToleranceBytes: MB,
          role: "payee",
          self: payee,
          counterpartySigner: payee.address,
        }),
    ).toThrow(/both sides/);
    expect(boundSigner(bound, "payer")).toBe(payer.address);
    expect(boundSigner(bound, otherRole("payer"))).toBe(payee.address);
  });

  it("raises a dispute when the counts differ by more than the tolerance, and claims with a link", async () => {
    const { a, b } = pair(10_000n);
    await exchange(a, b, MB);
    await expect(exchange(a, b, MB, MB / 2n)).rejects.toThrow(UsageDisputeError);
    // The payee counted 2 MB; the payer signed 1.5 MB: the claim stops at 1.5 MB plus the tolerance.
    const claim = await b.claim();
    expect(claim.linked.totalBytes).toBe((3n * MB) / 2n);
    expect(claim.usage.totalBytes).toBe((3n * MB) / 2n + 10_000n);
    expect(claim.usage.link).toBe(usageDigest(contract, claim.linked));
    expect(claim.usage.sequence).toBe(claim.linked.sequence + 1n);
    // The payer's claim stays between what both signed and the tolerance above it.
    const payerClaim = await a.claim();
    expect(payerClaim.usage.totalBytes).toBe(MB + 10_000n);
    expect(payerClaim.usage.sequence).toBe(a.agreed.usage.sequence + 1n);
  });

  it("stops a payee from serving beyond its credit over the agreed count", async () => {
    const { a, b } = pair();
    expect(b.canServe(2n * MB)).toBe(true);
    expect(b.canServe(2n * MB + 1n)).toBe(false);
    await exchange(a, b, 2n * MB);
    expect(b.canServe(2n * MB)).toBe(true);
    expect(
      () =>
        new BandwidthMeter({
          ...{ contract, channelId: 1n, lossToleranceBytes: 0n },
          role: "payee",
          self: payee,
          counterpartySigner: payer.address,
          creditBytes: 1n,
        }),
    ).toThrow(RangeError);
  });
});

describe("settleUsage", () => {
  const terms = { deposit: 100n * MB, pricePerMB: MB, lossToleranceBytes: MB };
  it("pays the agreed count within the tolerance", () => {
    expect(settleUsage(terms, { agreedBytes: 10n * MB, payerClaimBytes: 10n * MB, payeeClaimBytes: 11n * MB })).toEqual(
      {
        paid: 10n * MB,
        refunded: 90n * MB,
        burned: 0n,
        disputed: false,
      },
    );
  });
  it("counts a claim below the agreed count as the agreed count", () => {
    expect(settleUsage(terms, { agreedBytes: 10n * MB, payerClaimBytes: 0n, payeeClaimBytes: 10n * MB })).toEqual({
      paid: 10n * MB,
      refunded: 90n * MB,
      burned: 0n,
      disputed: false,
    });
  });
  it("beyond it pays the lower claim, charges the payee's claim and burns the difference", () => {
    expect(settleUsage(terms, { agreedBytes: 5n * MB, payerClaimBytes: 5n * MB, payeeClaimBytes: 10n * MB })).toEqual({
      paid: 5n * MB,
      refunded: 90n * MB,
      burned: 5n * MB,
      disputed: true,
    });
  });
  it("never charges more than the deposit", () => {
    const s = settleUsage(terms, { agreedBytes: 0n, payerClaimBytes: 0n, payeeClaimBytes: 10_000n * MB });
    expect(s.refunded).toBe(0n);
    expect(s.paid + s.burned).toBe(terms.deposit);
  });
});

describe("claimableBytes", () => {
  it("clamps a count between the agreed bytes and the tolerance above what the other side signed", () => {
    expect(claimableBytes(0n, 10n * MB, 0n, MB)).toBe(10n * MB);
    expect(claimableBytes(30n * MB, 10n * MB, 12n * MB, MB)).toBe(13n * MB);
    expect(claimableBytes(11n * MB, 10n * MB, 0n, MB)).toBe(11n * MB);
  });
});

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
