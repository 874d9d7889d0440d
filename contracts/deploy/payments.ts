import { type DeployContext, deployContract } from "./context.ts";

/** Seconds a payee has to confirm a new bandwidth channel. */
export const CONFIRM_WINDOW_SECONDS = 60n * 60n;
/** Seconds either side has to answer a bandwidth channel's close. */
export const CHALLENGE_WINDOW_SECONDS = 24n * 60n * 60n;
/** Seconds after a lottery lot closes in which its payer must reveal (pin the seed if it takes over 256 blocks). */
export const LOTTERY_REVEAL_WINDOW_SECONDS = 60n * 60n;
/** Seconds after the reveal deadline in which the winner redeems and robbed covered payees claim their covers. */
export const LOTTERY_CLAIM_WINDOW_SECONDS = 24n * 60n * 60n;
/** Seconds after the reveal deadline in which holders register for sharing a lot whose reveal was withheld. */
export const LOTTERY_SHARE_WINDOW_SECONDS = 24n * 60n * 60n;

/** Deploys the four payment contracts (bandwidth, hash-chain, Merkle, lottery), all paying in the platform token. */
export async function deployPayments(ctx: DeployContext): Promise<void> {
  const token = ctx.deployed.Token;
  if (!token) throw new Error("deployPayments needs the Token deployed first");
  const operators = ctx.deployed.OperatorRegistry;
  if (!operators) throw new Error("deployPayments needs the OperatorRegistry deployed first");
  await deployContract(ctx, "BandwidthChannel", [token, operators, CONFIRM_WINDOW_SECONDS, CHALLENGE_WINDOW_SECONDS]);
  await deployContract(ctx, "HashChainChannel", [token, operators]);
  await deployContract(ctx, "MerkleChannel", [token, operators]);
  await deployContract(ctx, "Lottery", [
    token,
    operators,
    LOTTERY_REVEAL_WINDOW_SECONDS,
    LOTTERY_CLAIM_WINDOW_SECONDS,
    LOTTERY_SHARE_WINDOW_SECONDS,
  ]);
}
