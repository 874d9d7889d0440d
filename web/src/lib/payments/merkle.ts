/**
 * Off-chain half of the Merkle channel (contracts/MerkleChannel.sol). The payer builds a tree of tokens, each
 * bound to its payee, funds the root with one allocation per payee (the sum of that payee's tokens), and pays by
 * handing a payee one token with its proof. The payee checks each token alone, and that its on-chain allocation
 * covers every token it holds (only its own tokens can draw on it, and they are spent per payee and index), and
 * later redeems any set of them at once with a multi-proof it assembles from the single proofs, without ever
 * seeing other payees' tokens.
 */
import { StandardMerkleTree } from "@openzeppelin/merkle-tree";
import { type Address, encodeAbiParameters, type Hex, isAddressEqual, keccak256 } from "viem";
import { PaymentTokenRejectedError } from "./errors.ts";
import type { ContractRef } from "./types.ts";

/** Leaf values, as the contract hashes them: (channelId, index, payee, value). */
export const MERKLE_LEAF_ENCODING = ["bytes32", "uint256", "address", "uint256"];
type LeafValues = [Hex, bigint, Address, bigint];

/** The id `MerkleChannel.open` gives a channel, binding it to chain id, contract, payer and salt. */
export function merkleChannelId(contract: ContractRef, payer: Address, salt: Hex): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "uint256" }, { type: "address" }, { type: "address" }, { type: "bytes32" }],
      [BigInt(contract.chainId), contract.address, payer, salt],
    ),
  );
}

/** One token as handed to its payee. */
export interface MerkleToken {
  channelId: Hex;
  index: bigint;
  payee: Address;
  value: bigint;
  /** Position in the tree's node array (needed to merge proofs). */
  treeIndex: number;
  proof: Hex[];
}

/**
 * What `MerkleChannel.redeem(channelId, payee, tokens, proof, proofFlags)` takes, in the multi-proof's leaf order;
 * the payee or its ROLE_PAYEE operator sends it, and the payee is paid.
 */
export interface MerkleRedemption {
  payee: Address;
  tokens: { index: bigint; value: bigint }[];
  proof: Hex[];
  proofFlags: boolean[];
  total: bigint;
}

/** The payer's token set: a standard OpenZeppelin tree over every token of one channel. */
export class MerkleTokenSet {
  readonly channelId: Hex;
  readonly #tree: StandardMerkleTree<LeafValues>;
  readonly #byIndex = new Map<bigint, { position: number; treeIndex: number }>();

  private constructor(channelId: Hex, tree: StandardMerkleTree<LeafValues>) {
    this.channelId = channelId;
    this.#tree = tree;
    tree.dump().values.forEach(({ value, treeIndex }, position) => {
      this.#byIndex.set(BigInt(value[1]), { position, treeIndex });
    });
  }

  /** Builds the tree: token i pays `entries[i].value` to `entries[i].payee`. */
  static create(channelId: Hex, entries: readonly { payee: Address; value: bigint }[]): MerkleTokenSet {
    if (entries.length === 0) throw new RangeError("a token set needs at least one token");
    const leaves = entries.map((e, i): LeafValues => [channelId, BigInt(i), e.payee, e.value]);
    // Leaves stay in the payer's order (not sorted by hash): a payee whose tokens are numbered together holds
    // neighbouring leaves, and their multi-proof needs few sibling nodes, which is most of its calldata.
    return new MerkleTokenSet(channelId, StandardMerkleTree.of(leaves, MERKLE_LEAF_ENCODING, { sortLeaves: false }));
  }

  /** Reloads a set saved with {@link dump}. */
  static load(channelId: Hex, data: ReturnType<MerkleTokenSet["dump"]>): MerkleTokenSet {
    return new MerkleTokenSet(channelId, StandardMerkleTree.load(data));
  }

  get root(): Hex {
    return this.#tree.root as Hex;
  }

  get size(): number {
    return this.#tree.length;
  }

  /** Sum of all token values: what the channel must be funded with. */
  get total(): bigint {
    let sum = 0n;
    for (const [, values] of this.#tree.entries()) sum += BigInt(values[3]);
    return sum;
  }

  /** What `MerkleChannel.open` takes: each payee's tokens summed, in the order payees first appear. */
  allocations(): { payee: Address; amount: bigint }[] {
    const sums = new Map<string, { payee: Address; amount: bigint }>();
    for (const [, values] of this.#tree.entries()) {
      const key = values[2].toLowerCase();
      const entry = sums.get(key) ?? { payee: values[2], amount: 0n };
      entry.amount += BigInt(values[3]);
      sums.set(key, entry);
    }
    return [...sums.values()];
  }

  /** Token `index` with its proof, ready to hand to its payee. */
  token(index: bigint): MerkleToken {
    const entry = this.#byIndex.get(index);
    if (entry === undefined) throw new RangeError(`no token ${index}`);
    const { position, treeIndex } = entry;
    const values = this.#tree.at(position) as LeafValues;
    return {
      channelId: this.channelId,
      index,
      payee: values[2],
      value: BigInt(values[3]),
      treeIndex,
      proof: this.#tree.getProof(position) as Hex[],
    };
  }

  /** Serializable form for storage. */
  dump() {
    return this.#tree.dump();
  }
}

const parentIndex = (i: number): number => Math.floor((i - 1) / 2);
const siblingIndex = (i: number): number => (i % 2 === 1 ? i + 1 : i - 1);

/** The payee's purse: verified tokens of one channel, not yet redeemed. */
export class MerkleTokenPurse {
  readonly channelId: Hex;
  readonly root: Hex;
  readonly payee: Address;
  readonly #tokens = new Map<bigint, MerkleToken>();
  #allocation: bigint;

  /**
   * `root` is the channel's on-chain root and `allocation` what `allocationOf(channelId, payee)` returns: the part
   * of the funds only this payee's tokens can draw on.
   */
  constructor(options: { channelId: Hex; root: Hex; payee: Address; allocation: bigint }) {
    this.channelId = options.channelId;
    this.root = options.root;
    this.payee = options.payee;
    this.#allocation = options.allocation;
  }

  /** What is left of our allocation, as last read or followed through our redemptions. */
  get allocation(): bigint {
    return this.#allocation;
  }

  /** Follows the on-chain allocation (it only shrinks by our own redemptions, or to zero at expiry). */
  syncAllocation(allocation: bigint): void {
    this.#allocation = allocation;
  }

  /** Tokens held and not yet redeemed. */
  get size(): number {
    return this.#tokens.size;
  }

  /** Value of the tokens held. */
  get balance(): bigint {
    let sum = 0n;
    for (const t of this.#tokens.values()) sum += t.value;
    return sum;
  }

  /** Whether this very token (index, tree position and proof) is held already. */
  holds(token: Pick<MerkleToken, "index" | "treeIndex" | "proof">): boolean {
    const held = this.#tokens.get(token.index);
    return (
      held !== undefined &&
      held.treeIndex === token.treeIndex &&
      held.proof.length === token.proof.length &&
      held.proof.every((node, i) => node.toLowerCase() === token.proof[i]?.toLowerCase())
    );
  }

  /** Verifies one token (ours, this channel, proof to the root, not held yet) and keeps it. */
  accept(token: MerkleToken): void {
    const reject = (reason: string) => new PaymentTokenRejectedError("Merkle token", reason);
    if (token.channelId.toLowerCase() !== this.channelId.toLowerCase()) throw reject("it belongs to another channel");
    if (!isAddressEqual(token.payee, this.payee)) throw reject("it is bound to another payee");
    if (this.#tokens.has(token.index)) throw reject(`token ${token.index} already received`);
    const leaf: LeafValues = [token.channelId, token.index, token.payee, token.value];
    if (!StandardMerkleTree.verify(this.root, MERKLE_LEAF_ENCODING, leaf, token.proof)) {
      throw reject("its proof does not lead to the channel's root");
    }
    if (!this.#proofMatchesPosition(token)) throw reject("its tree position does not match its proof");
    if (this.balance + token.value > this.#allocation) {
      throw reject(`our allocation of ${this.#allocation} does not cover it on top of the ${this.balance} we hold`);
    }
    this.#tokens.set(token.index, token);
  }

  /**
   * A multi-proof for up to `limit` held tokens (all by default), merged from their single proofs with the same
   * algorithm as OpenZeppelin's `getMultiProof`, in the leaf order `MerkleProof.multiProofVerify` expects.
   */
  redemption(limit = Number.POSITIVE_INFINITY): MerkleRedemption {
    const chosen = [...this.#tokens.values()].slice(0, limit);
    if (chosen.length === 0) throw new PaymentTokenRejectedError("Redemption", "no Merkle token held");
    const nodes = new Map<number, Hex>();
    for (const token of chosen) {
      let i = token.treeIndex;
      nodes.set(i, this.#leafHash(token));
      for (const sibling of token.proof) {
        nodes.set(siblingIndex(i), sibling);
        i = parentIndex(i);
      }
    }
    const indices = chosen.map((t) => t.treeIndex).sort((a, b) => b - a);
    const queue = [...indices];
    const proof: Hex[] = [];
    const proofFlags: boolean[] = [];
    while (queue.length > 0 && (queue[0] as number) > 0) {
      const j = queue.shift() as number;
      const s = siblingIndex(j);
      if (s === queue[0]) {
        proofFlags.push(true);
        queue.shift();
      } else {
        proofFlags.push(false);
        proof.push(nodes.get(s) as Hex);
      }
      queue.push(parentIndex(j));
    }
    const byTreeIndex = new Map(chosen.map((t) => [t.treeIndex, t]));
    const tokens = indices.map((i) => {
      const t = byTreeIndex.get(i) as MerkleToken;
      return { index: t.index, value: t.value };
    });
    const leaves = indices.map((i) => {
      const t = byTreeIndex.get(i) as MerkleToken;
      return [t.channelId, t.index, t.payee, t.value] as LeafValues;
    });
    if (!StandardMerkleTree.verifyMultiProof(this.root, MERKLE_LEAF_ENCODING, { leaves, proof, proofFlags })) {
      throw new PaymentTokenRejectedError("Redemption", "the tokens' tree positions do not form a valid multi-proof");
    }
    const total = tokens.reduce((sum, t) => sum + t.value, 0n);
    return { payee: this.payee, tokens, proof, proofFlags, total };
  }

  /** Forgets tokens once redeemed on-chain, and their value from our allocation, as the contract does. */
  markRedeemed(indices: Iterable<bigint>): void {
    for (const index of indices) {
      const token = this.#tokens.get(index);
      if (token === undefined) continue;
      this.#allocation -= token.value;
      this.#tokens.delete(index);
    }
  }

  #leafHash(token: MerkleToken): Hex {
    const inner = keccak256(
      encodeAbiParameters(
        [{ type: "bytes32" }, { type: "uint256" }, { type: "address" }, { type: "uint256" }],
        [token.channelId, token.index, token.payee, token.value],
      ),
    );
    return keccak256(inner);
  }

  /** A proof's length must equal the depth of the claimed tree index, or merged proofs would be inconsistent. */
  #proofMatchesPosition(token: MerkleToken): boolean {
    if (!Number.isInteger(token.treeIndex) || token.treeIndex < 0) return false;
    let depth = 0;
    for (let i = token.treeIndex; i > 0; i = parentIndex(i)) depth++;
    return depth === token.proof.length;
  }
}
