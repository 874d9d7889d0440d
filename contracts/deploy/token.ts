import { parseEther } from "viem";
import { type DeployContext, deployContract } from "./context.ts";

/** Initial supply minted to the deployer (the treasury moves it to governance on public chains). */
export const INITIAL_SUPPLY = parseEther("100000000");

export async function deployToken(ctx: DeployContext): Promise<void> {
  await deployContract(ctx, "Token", [ctx.walletClient.account.address, INITIAL_SUPPLY, ctx.local]);
}
