import type { Account, Address, Hash, SendTransactionErrorType, TransactionReceipt } from "viem";
import { sendTransaction } from "viem/actions";
import type { TabulaClient } from "../client.ts";
import { type WaitForSuccessErrorType, waitForSuccess } from "../receipt.ts";

export interface TopUpParameters {
  /** Who pays: a local account, or the address of an account the node unlocks. */
  from: Account | Address;
  to: Address;
  /** Wei to send. */
  value: bigint;
}

/** The transfer's transaction. */
export type TopUpReturnType = Hash;

export type TopUpErrorType = SendTransactionErrorType;

/** Sends `value` wei of the chain's coin from `from` to `to` (funds a burner's gas on a local chain). */
export async function topUp(client: TabulaClient, parameters: TopUpParameters): Promise<TopUpReturnType> {
  return await sendTransaction(client, {
    account: parameters.from,
    chain: client.chain,
    to: parameters.to,
    value: parameters.value,
  });
}

export interface TopUpSyncParameters extends TopUpParameters {
  /** Called with the transaction's hash as soon as it is sent. */
  onHash?: (hash: Hash) => void;
  /** Stops waiting for the receipt (the transaction, once sent, may still be mined). */
  signal?: AbortSignal;
}

export interface TopUpSyncReturnType {
  receipt: TransactionReceipt;
  /** A plain transfer logs no event: what it moved, as the receipt confirms. */
  transfer: { from: Address; to: Address; value: bigint };
}

export type TopUpSyncErrorType = TopUpErrorType | WaitForSuccessErrorType;

/** {@link topUp}, then waits for the receipt. */
export async function topUpSync(client: TabulaClient, parameters: TopUpSyncParameters): Promise<TopUpSyncReturnType> {
  const { onHash, signal, ...call } = parameters;
  const hash = await topUp(client, call);
  onHash?.(hash);
  const receipt = await waitForSuccess(client, { hash, what: "The ETH top-up", ...(signal ? { signal } : {}) });
  return { receipt, transfer: { from: receipt.from, to: parameters.to, value: parameters.value } };
}
