import { generateKeyPair } from "@libp2p/crypto/keys";
import { peerIdFromPrivateKey } from "@libp2p/peer-id";
import { describe, expect, it } from "vitest";
import { peerIdBytes, peerIdFromBytes } from "./peer-id.ts";

describe("peer ids as the chain keeps them", () => {
  it("the bytes a host registers give back its id string, for Ed25519 and secp256k1 keys", async () => {
    for (const type of ["Ed25519", "secp256k1"] as const) {
      const id = peerIdFromPrivateKey(await generateKeyPair(type));
      const registered = id.toMultihash().bytes;
      expect(peerIdFromBytes(registered)).toBe(id.toString());
      expect(peerIdBytes(id.toString())).toEqual(registered);
    }
  });

  it("bytes that are no peer id give undefined", () => {
    expect(peerIdFromBytes(new Uint8Array([0x00, 0x24]))).toBeUndefined();
    expect(peerIdFromBytes(new Uint8Array())).toBeUndefined();
    expect(peerIdFromBytes(new Uint8Array([0x12, 0x20, 1, 2, 3]))).toBeUndefined();
  });
});
