import { BaseError } from "../../lib/errors.ts";
import type { RevertMappers } from "../write.ts";

/** A lottery lot's windows do not allow what was asked now. */
export class LotWindowError extends BaseError {
  override name = "LotWindowError";
  readonly lotId: bigint;
  constructor(parameters: { lotId: bigint; what: string; at: bigint; cause?: unknown }) {
    super(`Lottery lot ${parameters.lotId}: ${parameters.what} (at ${parameters.at}).`, {
      details: "Refresh the money screen: it shows what the lot allows now.",
      cause: parameters.cause,
    });
    this.lotId = parameters.lotId;
  }
}

const window =
  (what: string) =>
  ([lotId, at]: readonly unknown[], cause: unknown) =>
    new LotWindowError({ lotId: lotId as bigint, what, at: at as bigint, cause });

/** Reverts of the Lottery that a user can act on, as named errors. */
export const lotteryErrors: RevertMappers = {
  LotteryStillIssuing: window("only its payer closes it before its close-by time"),
  LotteryRevealWindowClosed: window("the reveal window closed, so its holders share it instead"),
  LotteryClaimWindowClosed: window("the claim window closed, so the winner can no longer redeem"),
  LotteryShareWindowClosed: window("the sharing window closed"),
  LotteryShareWindowOpen: window("shares are paid once the sharing window is over"),
  LotteryFinishTooEarly: window("what is left goes back once its last window is over"),
};
