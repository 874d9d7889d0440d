import { BaseError } from "../../lib/errors.ts";

/** The token's faucet was called on a deployment without one (only local chains have it). */
export class TokenFaucetDisabledError extends BaseError {
  override name = "TokenFaucetDisabledError";
  constructor(parameters: { chainId: number; cause?: unknown }) {
    super(`The token on chain ${parameters.chainId} has no faucet.`, {
      details: "Only local development chains mint tokens on request; get tokens from another holder.",
      cause: parameters.cause,
    });
  }
}

/** The token's faucet was asked for more than one call may mint. */
export class TokenFaucetAmountTooLargeError extends BaseError {
  override name = "TokenFaucetAmountTooLargeError";
  readonly requested: bigint;
  readonly max: bigint;
  constructor(parameters: { requested: bigint; max: bigint; cause?: unknown }) {
    super(`The faucet mints at most ${parameters.max} token units per call; ${parameters.requested} were asked for.`, {
      details: "Ask for less, or call the faucet several times.",
      cause: parameters.cause,
    });
    this.requested = parameters.requested;
    this.max = parameters.max;
  }
}
