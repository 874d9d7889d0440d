import type { Hash, TransactionReceipt, WaitForTransactionReceiptErrorType } from "viem";
import { waitForTransactionReceipt } from "viem/actions";
import { raceSignal } from "../lib/signals.ts";
import type { TabulaClient } from "./client.ts";
import { TransactionRevertedError } from "./errors.ts";

export type WaitForSuccessErrorType = TransactionRevertedError | WaitForTransactionReceiptErrorType;

/** Waits for `hash` to be mined; {@link TransactionRevertedError} (naming `what`) when it reverted. */
export async function waitForSuccess(
  client: TabulaClient,
  parameters: { hash: Hash; what: string; signal?: AbortSignal },
): Promise<TransactionReceipt> {
  const receipt = await raceSignal(waitForTransactionReceipt(client, { hash: parameters.hash }), parameters.signal);
  if (receipt.status !== "success")
    throw new TransactionRevertedError({ hash: parameters.hash, what: parameters.what });
  return receipt;
}
