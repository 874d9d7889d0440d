import { describe, expect, it } from "vitest";
import { equalBytes } from "../bytes.ts";
import { PaymentsExhaustedError, PaymentTokenRejectedError } from "./errors.ts";
import { HashChain, HashChainReceiver, hashChainChannelId, MAX_CHAIN_LENGTH, walkChain } from "./hashchain.ts";

const contract = { chainId: 31337, address: "0x00000000000000000000000000000000000000cc" } as const;
const payer = "0x00000000000000000000000000000000000000a1" as const;
const payee = "0x00000000000000000000000000000000000000b2" as const;
const salt = `0x${"11".repeat(32)}` as const;
const id = hashChainChannelId(contract, payer, payee, salt);

describe("HashChain", () => {
  it("hands out n tokens that each hash to the previous one, keeping O(√n) values", () => {
    const n = 1000;
    const { chain } = HashChain.generate(id, n);
    const receiver = new HashChainReceiver(id, chain.anchor, n);
    let maxStored = 0;
    for (let j = 1; j <= n; j++) {
      const { depth, token } = chain.next();
      expect(depth).toBe(j);
      receiver.accept(token);
      maxStored = Math.max(maxStored, chain.storedValues);
    }
    expect(maxStored).toBeLessThanOrEqual(2 * Math.ceil(Math.sqrt(n)) + 1);
    expect(receiver.redemption().depth).toBe(n);
    expect(() => chain.next()).toThrow(PaymentsExhaustedError);
  });

  it("rebuilds the same chain from its seed and resumes where it stopped", () => {
    const { chain, seed } = HashChain.generate(id, 50);
    for (let j = 0; j < 20; j++) chain.next();
    const again = new HashChain(id, seed, 50, 20);
    expect(equalBytes(again.anchor, chain.anchor)).toBe(true);
    expect(again.next().depth).toBe(21);
    expect(equalBytes(walkChain(id, again.token(21), 21), chain.anchor)).toBe(true);
  });

  it("accepts a skipped-ahead token and refuses a wrong, repeated or out-of-range one", () => {
    const { chain } = HashChain.generate(id, 10);
    const receiver = new HashChainReceiver(id, chain.anchor, 10);
    receiver.accept(chain.token(3), 3);
    expect(receiver.depth).toBe(3);
    expect(() => receiver.accept(chain.token(3), 3)).toThrow(PaymentTokenRejectedError);
    expect(() => receiver.accept(chain.token(5), 4)).toThrow(/previous token/);
    expect(() => receiver.accept(chain.token(10), 11)).toThrow(/depth 11/);
  });

  it("refuses chains longer than the contract's MAX_UNITS", () => {
    expect(() => new HashChain(id, new Uint8Array(32), MAX_CHAIN_LENGTH + 1)).toThrow(/invalid length/);
    expect(MAX_CHAIN_LENGTH).toBe(100_000);
  });

  it("binds tokens to the channel: the same seed under another channel id gives unrelated tokens", () => {
    const seed = new Uint8Array(32).fill(7);
    const other = hashChainChannelId(contract, payer, "0x00000000000000000000000000000000000000b3", salt);
    const mine = new HashChain(id, seed, 5);
    const theirs = new HashChain(other, seed, 5);
    expect(equalBytes(mine.anchor, theirs.anchor)).toBe(false);
    const receiver = new HashChainReceiver(id, mine.anchor, 5);
    expect(() => receiver.accept(theirs.token(1))).toThrow(PaymentTokenRejectedError);
  });
});
