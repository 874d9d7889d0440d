import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import type { Hex } from "viem";
import { describe, expect, it } from "vitest";
import { PaymentTokenRejectedError } from "./errors.ts";
import { MERKLE_LEAF_ENCODING, MerkleTokenPurse, MerkleTokenSet, merkleChannelId } from "./merkle.ts";

const contract = { chainId: 31337, address: "0x00000000000000000000000000000000000000dd" } as const;
const payer = "0x00000000000000000000000000000000000000a1" as const;
const bob = "0x00000000000000000000000000000000000000b2" as const;
const carol = "0x00000000000000000000000000000000000000c3" as const;
const channelId = merkleChannelId(contract, payer, `0x${"22".repeat(32)}`);

function tokenSet(count: number) {
  return MerkleTokenSet.create(
    channelId,
    Array.from({ length: count }, (_, i) => ({ payee: i % 3 === 0 ? carol : bob, value: 10n + BigInt(i) })),
  );
}

describe("Merkle tokens", () => {
  it("merges single proofs into the same multi-proof OpenZeppelin builds from the whole tree", () => {
    const set = tokenSet(100);
    const allocation = set.allocations().find((a) => a.payee === bob)?.amount as bigint;
    const purse = new MerkleTokenPurse({ channelId, root: set.root, payee: bob, allocation });
    const mine = [...Array(100).keys()].filter((i) => i % 3 !== 0).map(BigInt);
    for (const i of mine) purse.accept(set.token(i));
    const redemption = purse.redemption();
    expect(redemption.payee).toBe(bob);
    expect(redemption.tokens).toHaveLength(mine.length);
    expect(redemption.total).toBe(mine.reduce((s, i) => s + 10n + i, 0n));
    const whole = StandardMerkleTree.load(set.dump());
    const reference = whole.getMultiProof(
      mine.map((i) => whole.dump().values.findIndex((v) => BigInt(v.value[1]) === i)),
    );
    expect(redemption.proof).toEqual(reference.proof);
    expect(redemption.proofFlags).toEqual(reference.proofFlags);
    expect(redemption.tokens.map((t) => t.index)).toEqual(reference.leaves.map((l) => BigInt(l[1])));
    expect(StandardMerkleTree.verifyMultiProof(set.root, MERKLE_LEAF_ENCODING, reference)).toBe(true);
  });

  it("refuses another payee's token, a token twice, another channel's token and a forged value", () => {
    const set = tokenSet(10);
    const purse = new MerkleTokenPurse({ channelId, root: set.root, payee: bob, allocation: 1_000n });
    expect(() => purse.accept(set.token(0n))).toThrow(/another payee/);
    purse.accept(set.token(1n));
    expect(() => purse.accept(set.token(1n))).toThrow(/twice|already/);
    expect(() => purse.accept({ ...set.token(2n), value: 1_000n })).toThrow(/root/);
    const other = MerkleTokenSet.create(merkleChannelId(contract, payer, `0x${"33".repeat(32)}`), [
      { payee: bob, value: 1n },
    ]);
    expect(() => purse.accept(other.token(0n))).toThrow(PaymentTokenRejectedError);
    purse.markRedeemed([1n]);
    expect(purse.size).toBe(0);
    expect(purse.allocation).toBe(1_000n - 11n);
  });

  it("knows a token it holds already, and not one at that index with another proof", () => {
    const set = tokenSet(10);
    const purse = new MerkleTokenPurse({ channelId, root: set.root, payee: bob, allocation: 1_000n });
    const token = set.token(1n);
    expect(purse.holds(token)).toBe(false);
    purse.accept(token);
    expect(purse.holds(set.token(1n))).toBe(true);
    // Hex digits in either case are the same proof.
    const upper = token.proof.map((node): Hex => `0x${node.slice(2).toUpperCase()}`);
    expect(purse.holds({ ...token, proof: upper })).toBe(true);
    expect(purse.holds({ ...token, proof: set.token(2n).proof })).toBe(false);
    expect(purse.holds({ ...token, treeIndex: token.treeIndex + 1 })).toBe(false);
    expect(purse.holds(set.token(2n))).toBe(false);
    expect(purse.size).toBe(1);
  });

  it("allocates each payee its tokens' sum and refuses tokens its on-chain allocation does not cover", () => {
    const set = tokenSet(4); // carol: 0, 3; bob: 1, 2
    expect(set.allocations()).toEqual([
      { payee: carol, amount: 10n + 13n },
      { payee: bob, amount: 11n + 12n },
    ]);
    // The payer funded bob for one token only: the second is refused before bob serves for it.
    const purse = new MerkleTokenPurse({ channelId, root: set.root, payee: bob, allocation: 12n });
    purse.accept(set.token(1n));
    expect(() => purse.accept(set.token(2n))).toThrow(/allocation of 12/);
    purse.syncAllocation(23n);
    purse.accept(set.token(2n));
    expect(purse.balance).toBe(23n);
  });

  it("sums the funding a token set needs", () => {
    expect(tokenSet(4).total).toBe(10n + 11n + 12n + 13n);
  });
});
