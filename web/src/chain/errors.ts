import { ContractFunctionRevertedError, type Hash, BaseError as ViemBaseError } from "viem";
import { BaseError } from "../lib/errors.ts";
import type { ContractName } from "./contracts.ts";

/** The chain has no address for a contract the app needs: the deployments file lacks it. */
export class ContractNotDeployedError extends BaseError {
  override name = "ContractNotDeployedError";
  readonly contract: ContractName;
  readonly chainId: number;
  constructor(parameters: { contract: ContractName; chainId: number }) {
    super(`${parameters.contract} is not deployed on chain ${parameters.chainId}.`, {
      details: `Deploy the contracts to chain ${parameters.chainId} (npm run deploy) or point config.json at a deployments file that lists ${parameters.contract}.`,
    });
    this.contract = parameters.contract;
    this.chainId = parameters.chainId;
  }
}

/** A transaction was mined but reverted. */
export class TransactionRevertedError extends BaseError {
  override name = "TransactionRevertedError";
  readonly hash: Hash;
  constructor(parameters: { hash: Hash; what: string }) {
    super(`${parameters.what} reverted in transaction ${parameters.hash}.`, {
      details: "Check the account's balances and try again.",
    });
    this.hash = parameters.hash;
  }
}

/** The custom error a contract call reverted with (name and arguments), if that is why `error` was thrown. */
export function revertOf(error: unknown): { errorName: string; args: readonly unknown[] } | undefined {
  if (!(error instanceof ViemBaseError)) return undefined;
  const reverted = error.walk((e) => e instanceof ContractFunctionRevertedError);
  if (!(reverted instanceof ContractFunctionRevertedError) || !reverted.data) return undefined;
  return { errorName: reverted.data.errorName, args: reverted.data.args ?? [] };
}

/** An action that signs or sends was given no account, and its client has none. */
export class NoAccountError extends BaseError {
  override name = "NoAccountError";
  constructor(parameters: { action: string }) {
    super(`${parameters.action} needs an account to sign with.`, {
      details: "Connect a wallet, then try again.",
    });
  }
}
