/**
 * Off-chain half of the probabilistic scheme (contracts/Lottery.sol). The payer funds a lot (lotSize tickets of
 * ticketValue, a fine of one lot value, and a cover of one lot value for each payee it covers) and commits to a
 * secret; it pays with EIP-712 tickets, one index each, that never touch the chain. Payees check every ticket
 * against the lot's on-chain state, and that the lot covers them, before counting it as paid. The payer closes
 * the lot, then reveals; the holder of the winning index redeems and is paid the whole lot, and a covered holder
 * whose index another ticket redeemed first is paid the lot value from its cover. If the reveal is withheld,
 * holders register their tickets to share the lot.
 *
 * Tickets are signed by the key the lot bound at creation (`createLot(..., signer)`): the payer's wallet, or an
 * operator key the payer authorized for ROLE_PAYER in the OperatorRegistry, which the tab keeps so it signs
 * without a wallet prompt. Payees check tickets against that bound key (`signerOf`); revoking the operator later
 * does not void them. A payee's own operator key may send its redemptions, registrations and withdrawals.
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
import { BaseError } from "../errors.ts";
import { assertSignedBy, LOTTERY_DOMAIN_NAME, paymentDomain, TICKET_TYPES } from "./eip712.ts";
import { PaymentsExhaustedError, PaymentTokenRejectedError } from "./errors.ts";
import { type ContractRef, nowSeconds, type TypedDataSigner, type UnixSeconds } from "./types.ts";

/** The fine a payer posts with a lot, in lot values (see Lottery.FINE_LOTS); each covered payee adds one more. */
export const FINE_LOTS = 1n;

/** `ILottery.Status`, as the contract stores it. */
export const LotStatus = { None: 0, Open: 1, Closed: 2, Revealed: 3, Redeemed: 4, Finished: 5 } as const;
export type LotStatus = (typeof LotStatus)[keyof typeof LotStatus];

/**
 * A lot as `Lottery.getLot` returns it through viem (uint32/uint40 as numbers, uint96 as bigint), with the key bound
 * to sign its tickets as `Lottery.signerOf` returns it.
 */
export interface LotState {
  payer: Address;
  lotSize: number;
  /** Meaningful once `revealed`. */
  winningIndex: number;
  status: number;
  revealed: boolean;
  /** Payees covered with one lot value each. */
  covered: number;
  ticketValue: bigint;
  /** Unix seconds after which anyone may close the lot. */
  closeBy: number;
  closedAt: number;
  seedBlock: number;
  /** Zero if the payer signs the lot's tickets, else the id under which its operator key is stored. */
  signerKey: number;
  /** The key whose signatures count as this lot's tickets (`signerOf(lotId)`): the payer or its operator key. */
  signer: Address;
  commitment: Hex;
  registered: number;
  withdrawn: number;
  /** Covers that paid a lot value to a robbed holder of the winning index. */
  coversPaid: number;
  robbed: number;
  robbedWithdrawn: number;
}

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

/** What `Lottery.registerTickets` takes per ticket (the payee is named in the call). */
export interface TicketClaim {
  index: number;
  nonce: bigint;
  signature: Hex;
}

/** Arguments of `Lottery.redeem(lotId, payee, index, nonce, signature)`: the payee or its operator sends them. */
export type RedeemArgs = readonly [lotId: bigint, payee: Address, index: number, nonce: bigint, signature: Hex];

/** Arguments of `Lottery.registerTickets(lotId, payee, tickets)`: the payee or its operator sends them. */
export type RegisterArgs = readonly [lotId: bigint, payee: Address, tickets: TicketClaim[]];

/** Arguments of `Lottery.claimCover(lotId, ticket, signature)`: anyone may send them, the payee is paid. */
export type ClaimCoverArgs = readonly [
  lotId: bigint,
  ticket: { index: number; payee: Address; nonce: bigint },
  signature: Hex,
];

/** The payer can issue no more tickets on this lot: it was closed. */
export class LotNotIssuingError extends BaseError {
  override name = "LotNotIssuingError";
  constructor(lotId: bigint, reason: string) {
    super(`Lot ${lotId} issues no more tickets: ${reason}.`, {
      details: "Fund a new lot (createLot) to keep paying.",
    });
  }
}

/** A fresh 32-byte secret for a lot. */
export function newLotSecret(): Hex {
  return toHex(randomBytes(32));
}

/** `keccak256(abi.encode(payer, secret))`, what `createLot` takes. */
export function lotCommitment(payer: Address, secret: Hex): Hex {
  return keccak256(encodeAbiParameters([{ type: "address" }, { type: "bytes32" }], [payer, secret]));
}

/** What `createLot` transfers: the lot value, the fine, and one lot value per covered payee. */
export function lotDeposit(lotSize: number, ticketValue: bigint, covered: number): bigint {
  return (1n + FINE_LOTS + BigInt(covered)) * BigInt(lotSize) * ticketValue;
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

/**
 * The winning index the contract computes at the reveal: keccak256(abi.encode(secret, seed, lotId)) mod lotSize,
 * where seed is the hash of the block after the close. Nothing a payee sends enters it.
 */
export function winningIndex(secret: Hex, seed: Hex, lotId: bigint, lotSize: number): number {
  const hash = keccak256(
    encodeAbiParameters([{ type: "bytes32" }, { type: "bytes32" }, { type: "uint256" }], [secret, seed, lotId]),
  );
  return Number(hexToBigInt(hash) % BigInt(lotSize));
}

/**
 * The payer's side of one lot: hands out each index once, and keeps the secret for the reveal. `signer` is the key
 * bound to the lot at `createLot`: the payer's wallet or the tab's operator key.
 */
export class TicketIssuer {
  readonly lotId: bigint;
  readonly lotSize: number;
  readonly secret: Hex;
  readonly #contract: ContractRef;
  readonly #signer: TypedDataSigner;
  #nextIndex: number;
  #stopped: string | undefined;

  constructor(options: {
    contract: ContractRef;
    lotId: bigint;
    lotSize: number;
    /** The key the lot bound at creation (the payer's, or its ROLE_PAYER operator's). */
    signer: TypedDataSigner;
    /** The secret committed to at `createLot`. */
    secret: Hex;
    /** Tickets already issued (after a restart). */
    issued?: number;
  }) {
    this.#contract = options.contract;
    this.lotId = options.lotId;
    this.lotSize = options.lotSize;
    this.#signer = options.signer;
    this.secret = options.secret;
    this.#nextIndex = options.issued ?? 0;
  }

  /** Tickets issued so far: indices 0 .. issued - 1. */
  get issued(): number {
    return this.#nextIndex;
  }

  /** Tickets still to hand out. */
  get remaining(): number {
    return this.#stopped === undefined ? this.lotSize - this.#nextIndex : 0;
  }

  /** Stops issuing; call it before sending `closeLot`, so that no ticket is signed for a closed lot. */
  close(): void {
    this.#stopped ??= "the payer closed it";
  }

  /** Follows the lot's on-chain state: once it is no longer open, stops issuing. */
  sync(lot: LotState): void {
    if (lot.status !== LotStatus.Open) this.#stopped ??= "it is closed on-chain";
  }

  /** Signs the next index for `payee`. */
  async issue(payee: Address): Promise<SignedTicket> {
    if (this.#stopped !== undefined) throw new LotNotIssuingError(this.lotId, this.#stopped);
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

  /** Arguments of `reveal(lotId, secret)`. */
  revealArgs(): readonly [bigint, Hex] {
    return [this.lotId, this.secret];
  }
}

/**
 * The payee's ticket book for one lot: verifies each ticket against the lot's on-chain state and the payee's cover
 * and keeps it; builds the redemption if it holds the winning index (paid from the lot, or from the cover if
 * another ticket for that index was redeemed first), the registration for sharing, and cover claims.
 */
export class TicketBook {
  readonly lotId: bigint;
  readonly payee: Address;
  readonly #contract: ContractRef;
  readonly #held = new Map<number, SignedTicket>();
  readonly #checking = new Set<number>();

  constructor(options: {
    contract: ContractRef;
    lotId: bigint;
    payee: Address;
    /** Tickets this book accepted before (after a reload): kept as they are, checked when they were accepted. */
    held?: readonly TicketClaim[];
  }) {
    this.#contract = options.contract;
    this.lotId = options.lotId;
    this.payee = options.payee;
    for (const t of options.held ?? []) {
      this.#held.set(t.index, {
        lotId: this.lotId,
        payee: this.payee,
        index: t.index,
        nonce: t.nonce,
        signature: t.signature,
      });
    }
  }

  /** Tickets held. */
  get size(): number {
    return this.#held.size;
  }

  /** Whether this very ticket (index, nonce and signature) is held already. */
  holds(ticket: Pick<SignedTicket, "index" | "nonce" | "signature">): boolean {
    const held = this.#held.get(ticket.index);
    return held !== undefined && held.nonce === ticket.nonce && held.signature === ticket.signature;
  }

  /** The indices held, in increasing order. */
  indices(): number[] {
    return [...this.#held.keys()].sort((a, b) => a - b);
  }

  /**
   * Verifies a ticket and keeps it; throws {@link PaymentTokenRejectedError} (or `PaymentSignatureError`)
   * for anything the payee must not count as paid. `lot` is the lot's current on-chain state (`getLot`) and
   * `covered` what `isCovered(lotId, payee)` returns: without a cover, a ticket for the winning index could be
   * robbed by another ticket the payer signs for that index, even after the draw.
   */
  async accept(ticket: SignedTicket, lot: LotState, covered: boolean, now: UnixSeconds = nowSeconds()): Promise<void> {
    const reject = (reason: string) => new PaymentTokenRejectedError("Lottery ticket", reason);
    if (ticket.lotId !== this.lotId) throw reject(`it is for lot ${ticket.lotId}, not lot ${this.lotId}`);
    if (lot.status === LotStatus.None) throw reject(`lot ${this.lotId} does not exist`);
    if (lot.status !== LotStatus.Open) throw reject(`lot ${this.lotId} is closed, so a ticket issued now cannot win`);
    if (!covered) throw reject("the lot holds no cover for us, so another ticket for our index could take the lot");
    if (now >= BigInt(lot.closeBy)) throw reject("the lot is past its close-by time and anyone may close it");
    if (!isAddressEqual(ticket.payee, this.payee)) throw reject("it is bound to another payee");
    if (!Number.isInteger(ticket.index) || ticket.index < 0 || ticket.index >= lot.lotSize) {
      throw reject(`index ${ticket.index} is beyond the lot's ${lot.lotSize} tickets: the lot is full`);
    }
    if (this.#held.has(ticket.index) || this.#checking.has(ticket.index)) {
      throw reject(`index ${ticket.index} was issued to us before`);
    }
    // Held while its signature is checked: the same index from another transfer of this lot is refused meanwhile.
    this.#checking.add(ticket.index);
    try {
      // The key bound to the lot, not the payer: a lot bound to an operator key refuses even the payer's own.
      await assertSignedBy(ticketDigest(this.#contract, ticket), ticket.signature, lot.signer);
      this.#held.set(ticket.index, ticket);
    } finally {
      this.#checking.delete(ticket.index);
    }
  }

  /**
   * The `redeem` arguments if the lot is revealed and we hold its winning index, and either nobody redeemed it or
   * another ticket was redeemed and `covered` (`isCovered(lotId, payee)`, false once we were paid) says our cover
   * will pay; otherwise undefined.
   */
  redemption(lot: LotState, covered = false): RedeemArgs | undefined {
    if (lot.status !== LotStatus.Revealed && lot.status !== LotStatus.Redeemed) return undefined;
    if (lot.status === LotStatus.Redeemed && !covered) return undefined;
    const ticket = this.#held.get(lot.winningIndex);
    if (ticket === undefined) return undefined;
    return [this.lotId, this.payee, ticket.index, ticket.nonce, ticket.signature];
  }

  /** The `registerTickets` arguments for every ticket held, when the payer withheld its reveal. */
  registration(): RegisterArgs {
    return [this.lotId, this.payee, this.registrations()];
  }

  /** Every ticket held, for `registerTickets` when the payer withheld its reveal. */
  registrations(): TicketClaim[] {
    return this.indices().map((index) => {
      const t = this.#held.get(index) as SignedTicket;
      return { index: t.index, nonce: t.nonce, signature: t.signature };
    });
  }

  /**
   * The `claimCover` arguments for our ticket at `index` (anyone may send them; the contract pays us): for the
   * winning index after another payee redeemed it, or for an index another payee registered for sharing.
   * Undefined if we hold no ticket for `index`.
   */
  coverClaim(index: number): ClaimCoverArgs | undefined {
    const ours = this.#held.get(index);
    if (ours === undefined) return undefined;
    return [this.lotId, { index: ours.index, payee: ours.payee, nonce: ours.nonce }, ours.signature];
  }
}
