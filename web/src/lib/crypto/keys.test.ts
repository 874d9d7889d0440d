import { recoverMessageAddress } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { describe, expect, it } from "vitest";
import { fromHex } from "../bytes.ts";
import { InvalidShareLinkError, WrongKeyError } from "../file-errors.ts";
import { openSealed, sealTo } from "./ecies.ts";
import { generateFileKey } from "./file-key.ts";
import { deriveVault, VAULT_TYPED_DATA } from "./key-vault.ts";
import { combineKey, splitKey } from "./shamir.ts";
import { parseShareLink, shareLink } from "./share-link.ts";

const CID_TEXT = "bafyreigdyrzt5sfp7udm7hu76uh7y26nf3efuylqabf3oclgtqy55fbzdi";

async function walletSignature(privateKey: `0x${string}`): Promise<Uint8Array> {
  const account = privateKeyToAccount(privateKey);
  return fromHex(await account.signTypedData(VAULT_TYPED_DATA));
}

const ALICE = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d";
const BOB = "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a";

describe("key vault", () => {
  it("unwraps on another device with the same wallet, not with another wallet", async () => {
    const fileKey = generateFileKey();
    const sealed = await (await deriveVault(await walletSignature(ALICE))).seal(fileKey, CID_TEXT);
    const otherDevice = await deriveVault(await walletSignature(ALICE));
    expect(await otherDevice.open(sealed, CID_TEXT)).toEqual(fileKey);
    await expect(otherDevice.open(sealed, "bafyother")).rejects.toThrow(WrongKeyError);
    await expect((await deriveVault(await walletSignature(BOB))).open(sealed, CID_TEXT)).rejects.toThrow(WrongKeyError);
  });
});

describe("operator keys", () => {
  it("are the same on every device of a wallet, one per chain and generation, and none is the wallet's key", async () => {
    const alice = await deriveVault(await walletSignature(ALICE));
    const otherDevice = await deriveVault(await walletSignature(ALICE));
    const bob = await deriveVault(await walletSignature(BOB));
    const key = await alice.operatorKey(31337);
    expect(await otherDevice.operatorKey(31337)).toBe(key);
    expect(await otherDevice.operatorKey(31337, 0)).toBe(key);
    const others = [
      await alice.operatorKey(31337, 1),
      await alice.operatorKey(8453),
      await bob.operatorKey(31337),
      ALICE,
    ];
    expect(new Set([key, ...others]).size).toBe(5);
    // A usable secp256k1 key: it signs, and the signature recovers to its address.
    const operator = privateKeyToAccount(key);
    const message = "a receipt";
    expect(await recoverMessageAddress({ message, signature: await operator.signMessage({ message }) })).toBe(
      operator.address,
    );
    await expect(alice.operatorKey(0)).rejects.toThrow(RangeError);
    await expect(alice.operatorKey(1, -1)).rejects.toThrow(RangeError);
  });
});

describe("ECIES", () => {
  it("wraps a key to a user's public key that only that user opens", async () => {
    const bob = await deriveVault(await walletSignature(BOB));
    const alice = await deriveVault(await walletSignature(ALICE));
    const fileKey = generateFileKey();
    const sealed = await sealTo(bob.x25519PublicKey, fileKey);
    expect(await openSealed(bob.x25519SecretKey, sealed)).toEqual(fileKey);
    await expect(openSealed(alice.x25519SecretKey, sealed)).rejects.toThrow(WrongKeyError);
    const tampered = sealed.slice();
    tampered[40] = (tampered[40] as number) ^ 1;
    await expect(openSealed(bob.x25519SecretKey, tampered)).rejects.toThrow(WrongKeyError);
  });
});

describe("Shamir", () => {
  it("rebuilds the key from any 3 of 5 shares, not from 2", async () => {
    const fileKey = generateFileKey();
    const shares = await splitKey(fileKey, 5, 3);
    expect(await combineKey([shares[4], shares[0], shares[2]] as Uint8Array[])).toEqual(fileKey);
    expect(await combineKey([shares[1], shares[3], shares[4]] as Uint8Array[])).toEqual(fileKey);
    expect(await combineKey([shares[1], shares[3]] as Uint8Array[])).not.toEqual(fileKey);
  });
});

describe("share link", () => {
  it("carries the manifest CID and key in the fragment", () => {
    const fileKey = generateFileKey();
    const link = shareLink("https://gw.example/ipfs/bafyapp/#/files", CID_TEXT, fileKey);
    expect(link.startsWith("https://gw.example/ipfs/bafyapp/#/open?")).toBe(true);
    const parsed = parseShareLink(link);
    expect(parsed.cid.toString()).toBe(CID_TEXT);
    expect(parsed.rawKey).toEqual(fileKey);
    expect(() => parseShareLink(link.slice(0, -3))).toThrow(InvalidShareLinkError);
    expect(() => parseShareLink("https://x/#/open?file=nope&key=AAAA")).toThrow(InvalidShareLinkError);
  });
});
