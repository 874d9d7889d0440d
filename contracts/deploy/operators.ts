import { type DeployContext, deployContract } from "./context.ts";

/** Deploys the OperatorRegistry every other contract reads an owner's operator keys from. */
export async function deployOperators(ctx: DeployContext): Promise<void> {
  await deployContract(ctx, "OperatorRegistry");
}
