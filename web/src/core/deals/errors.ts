import type { Address } from "viem";
import { formatExactAmount } from "../../lib/amounts.ts";
import { BaseError } from "../../lib/errors.ts";

/** The wallet lacks tokens for a payment (a file's deals, a transfer's deposit), or ETH for its transactions. */
export class InsufficientFundsError extends BaseError {
  override name = "InsufficientFundsError";
  readonly account: Address;
  /** Tokens missing for the escrow (0 when enough). */
  readonly missingTokens: bigint;
  /** ETH missing for gas (0 when enough). */
  readonly missingEth: bigint;
  constructor(parameters: {
    account: Address;
    missingTokens: bigint;
    missingEth: bigint;
    /** What the tokens pay for, and what to do again once they are there. */
    purpose?: { what: string; retry: string };
  }) {
    const purpose = parameters.purpose ?? { what: "these deals", retry: "store the file again" };
    const missing = [
      parameters.missingTokens > 0n ? `${formatExactAmount(parameters.missingTokens)} TAB` : undefined,
      parameters.missingEth > 0n ? `${formatExactAmount(parameters.missingEth)} ETH` : undefined,
    ].filter(Boolean);
    super(`The wallet ${parameters.account} is missing ${missing.join(" and ")} to pay for ${purpose.what}.`, {
      details: `Add that much to the wallet (on the local chain: the faucet), then ${purpose.retry}. Nothing was sent.`,
    });
    this.account = parameters.account;
    this.missingTokens = parameters.missingTokens;
    this.missingEth = parameters.missingEth;
  }
}

/** Fewer hosts with stake than shards to place: the file cannot be stored for pay now. */
export class NotEnoughPaidHostsError extends BaseError {
  override name = "NotEnoughPaidHostsError";
  readonly needed: number;
  readonly found: number;
  constructor(needed: number, found: number) {
    super(`The file needs ${needed} staked hosts with room and free stake, and ${found} are online now.`, {
      details: "Wait for more hosts to stake and share storage, or switch paid storage off to place it for free.",
    });
    this.needed = needed;
    this.found = found;
  }
}

/** The owner's allowance to the market (its audit budget) cannot pay the bonds of this round's challenges. */
export class AuditBudgetExhaustedError extends BaseError {
  override name = "AuditBudgetExhaustedError";
  readonly needed: bigint;
  readonly left: bigint;
  constructor(parameters: { needed: bigint; left: bigint }) {
    super(
      `The audit budget has ${formatExactAmount(parameters.left)} TAB left; this round's challenges need ${formatExactAmount(parameters.needed)} TAB of bonds.`,
      { details: "Raise the audit budget on the files page; until then the hosts are checked over the network only." },
    );
    this.needed = parameters.needed;
    this.left = parameters.left;
  }
}

/** No running deal of the file ends soon enough to be renewed. */
export class NothingToRenewError extends BaseError {
  override name = "NothingToRenewError";
  constructor() {
    super("None of this file's running deals ends within the renewal window.", {
      details: "A deal is offered for renewal in its last 7 days; the file's page shows when its deals end.",
    });
  }
}
