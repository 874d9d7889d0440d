import { type DeployContext, deployContract } from "./context.ts";

/** Seconds a payee has to confirm a new bandwidth channel. */
export const CONFIRM_WINDOW_SECONDS = 60n * 60n;
/** Seconds either side has to answer a bandwidth channel's close. */
export const CHALLENGE_WINDOW_SECONDS = 24n * 60n * 60n;
/** Blocks after a lottery's draw block in which its payer must reveal (at most 256). */
export const REVEAL_WINDOW_BLOCKS = 200n;

/** Deploys the four payment contracts (bandwidth, hash-chain, Merkle, lottery), all paying in the platform token. */
export async function deployPayments(ctx: DeployContext): Promise<void> {
  const token = ctx.deployed.Token;
  if (!token) throw new Error("deployPayments needs the Token deployed first");
  await deployContract(ctx, "BandwidthChannel", [token, CONFIRM_WINDOW_SECONDS, CHALLENGE_WINDOW_SECONDS]);
  await deployContract(ctx, "HashChainChannel", [token]);
  await deployContract(ctx, "MerkleChannel", [token]);
  await deployContract(ctx, "Lottery", [token, REVEAL_WINDOW_BLOCKS]);
}
