/**
 * Off-chain half of the probabilistic scheme (contracts/Lottery.sol). The payer commits to a secret when it
 * funds a lot, then pays with signed tickets, each index once; payees verify and collect them and redeem them
 * into the lot in batches. Once the lot closes the payer reveals, and the winner is paid the whole lot.
 */
import {
  type Address,
  encodeAbiParameters,
  type Hex,
  hashTypedData,
  hexToBigInt,
  isAddressEqual,
  keccak256,
  toHex,
} from "viem";
import { randomBytes } from "../bytes.ts";
import { assertSignedBy, LOTTERY_DOMAIN_NAME, paymentDomain, TICKET_TYPES } from "./eip712.ts";
import { PaymentsExhaustedError, PaymentTokenRejectedError } from "./errors.ts";
import type { ContractRef, TypedDataSigner } from "./types.ts";

/** A ticket as the payer signs it. */
export interface Ticket {
  lotId: bigint;
  index: number;
  payee: Address;
  nonce: bigint;
}

export interface SignedTicket extends Ticket {
  signature: Hex;
}

/** What `Lottery.redeemTickets` takes per ticket. */
export interface TicketClaim {
  index: number;
  nonce: bigint;
  signature: Hex;
}

/** A fresh 32-byte secret for a lot. */
export function newLotSecret(): Hex {
  return toHex(randomBytes(32));
}

/** `keccak256(abi.encode(payer, secret))`, what `createLot` takes. */
export function lotCommitment(payer: Address, secret: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [payer, secret]));
}

/** The EIP-712 digest of a ticket. */
export function ticketDigest(contract: ContractRef, ticket: Ticket): Hex {
  return hashTypedData({
    domain: paymentDomain(LOTTERY_DOMAIN_NAME, contract),
    types: TICKET_TYPES,
    primaryType: "Ticket",
    message: ticket,
  });
}

/** The draw position the contract computes, so anyone can check a reveal: H(secret, blockhash, lot) mod redeemed. */
export function drawPosition(secret: Hex, drawBlockHash: Hex, lotId: bigint, redeemed: bigint): bigint {
  const seed = keccak256(
    encodeAbiParameters(
      [{ type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }],
      [secret, drawBlockHash, lotId],
    ),
  );
  return hexToBigInt(seed) % redeemed;
}

/** The payer's side of one lot: hands out each index once. */
export class TicketIssuer {
  readonly lotId: bigint;
  readonly lotSize: number;
  readonly #contract: ContractRef;
  readonly #signer: TypedDataSigner;
  #nextIndex: number;

  constructor(options: {
    contract: ContractRef;
    lotId: bigint;
    lotSize: number;
    signer: TypedDataSigner;
    issued?: number;
  }) {
    this.#contract = options.contract;
    this.lotId = options.lotId;
    this.lotSize = options.lotSize;
    this.#signer = options.signer;
    this.#nextIndex = options.issued ?? 0;
  }

  /** Tickets still to hand out. */
  get remaining(): number {
    return this.lotSize - this.#nextIndex;
  }

  /** Signs the next ticket for `payee`. */
  async issue(payee: Address): Promise<SignedTicket> {
    if (this.#nextIndex >= this.lotSize) throw new PaymentsExhaustedError("lottery tickets in this lot");
    const ticket: Ticket = {
      lotId: this.lotId,
      index: this.#nextIndex,
      payee,
      nonce: hexToBigInt(toHex(randomBytes(32))),
    };
    this.#nextIndex += 1;
    const signature = await this.#signer.signTypedData({
      domain: paymentDomain(LOTTERY_DOMAIN_NAME, this.#contract),
      types: TICKET_TYPES,
      primaryType: "Ticket",
      message: ticket,
    });
    return { ...ticket, signature };
  }
}

/** The payee's ticket book for one lot: verified tickets waiting to be redeemed. */
export class TicketBook {
  readonly lotId: bigint;
  readonly #contract: ContractRef;
  readonly #lotSize: number;
  readonly #payer: Address;
  readonly #payee: Address;
  readonly #pending = new Map<number, SignedTicket>();
  readonly #redeemed = new Set<number>();

  constructor(options: { contract: ContractRef; lotId: bigint; lotSize: number; payer: Address; payee: Address }) {
    this.#contract = options.contract;
    this.lotId = options.lotId;
    this.#lotSize = options.lotSize;
    this.#payer = options.payer;
    this.#payee = options.payee;
  }

  /** Tickets held and not yet redeemed. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Verifies a ticket (this lot, us, index in range and new, signed by the payer) and keeps it. */
  async accept(ticket: SignedTicket): Promise<void> {
    const reject = (reason: string) => new PaymentTokenRejectedError("Lottery ticket", reason);
    if (ticket.lotId !== this.lotId) throw reject(`it is for lot ${ticket.lotId}`);
    if (!isAddressEqual(ticket.payee, this.#payee)) throw reject("it is bound to another payee");
    if (!Number.isInteger(ticket.index) || ticket.index < 0 || ticket.index >= this.#lotSize) {
      throw reject(`index ${ticket.index} outside the lot`);
    }
    if (this.#pending.has(ticket.index) || this.#redeemed.has(ticket.index)) {
      throw reject(`index ${ticket.index} received twice`);
    }
    await assertSignedBy(ticketDigest(this.#contract, ticket), ticket.signature, this.#payer);
    this.#pending.set(ticket.index, ticket);
  }

  /** The tickets to redeem next, at most `limit`. */
  claims(limit = Number.POSITIVE_INFINITY): TicketClaim[] {
    return [...this.#pending.values()]
      .slice(0, limit)
      .map((t) => ({ index: t.index, nonce: t.nonce, signature: t.signature }));
  }

  /** Moves tickets to the redeemed set once the transaction is mined. */
  markRedeemed(indices: Iterable<number>): void {
    for (const index of indices) {
      if (this.#pending.delete(index)) this.#redeemed.add(index);
    }
  }
}
