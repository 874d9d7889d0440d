import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { assertCanonicalSignature, assertSignedBy } from "./eip712.ts";
import { PaymentSignatureError } from "./errors.ts";
import { compact, highS } from "./test-helpers.ts";

const alice = privateKeyToAccount("0x1111111111111111111111111111111111111111111111111111111111111111");
const bob = privateKeyToAccount("0x2222222222222222222222222222222222222222222222222222222222222222");
const digest = "0x5c4b2ba1e0a2f0a3e7e7bde3f1bb3b0b1e6b8b3c3c0a1e2d7a4b5c6d7e8f9a0b" as const;

describe("signature checks", () => {
  it("accepts a canonical 65-byte signature by the expected signer", async () => {
    const signature = await alice.sign({ hash: digest });
    await expect(assertSignedBy(digest, signature, alice.address)).resolves.toBeUndefined();
  });

  it("refuses another signer, a high-s twin and the 64-byte EIP-2098 form", async () => {
    const signature = await alice.sign({ hash: digest });
    await expect(assertSignedBy(digest, signature, bob.address)).rejects.toThrow(PaymentSignatureError);
    expect(() => assertCanonicalSignature(highS(signature))).toThrow(/high-s/);
    expect(() => assertCanonicalSignature(compact(signature))).toThrow(/64-byte/);
  });
});
