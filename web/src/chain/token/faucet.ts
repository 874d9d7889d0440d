import {
  type Account,
  type Address,
  type Hash,
  parseEventLogs,
  type SimulateContractErrorType,
  type TransactionReceipt,
  type WriteContractErrorType,
} from "viem";
import { simulateContract, writeContract } from "viem/actions";
import { type DeployedContractErrorType, deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { revertOf } from "../errors.ts";
import { type WaitForSuccessErrorType, waitForSuccess } from "../receipt.ts";
import { TokenFaucetAmountTooLargeError, TokenFaucetDisabledError } from "./errors.ts";

export interface FaucetParameters {
  /** Who receives the minted tokens. */
  to: Address;
  /** Token base units to mint; at most the contract's `FAUCET_MAX`. */
  amount: bigint;
  /** Who sends the call (any account may); the client's account when left out. */
  account?: Account | Address;
}

/** The faucet call's transaction. */
export type FaucetReturnType = Hash;

export type FaucetErrorType =
  | DeployedContractErrorType
  | TokenFaucetDisabledError
  | TokenFaucetAmountTooLargeError
  | SimulateContractErrorType
  | WriteContractErrorType;

/** Mints `amount` tokens to `to` from the token's faucet (local chains only); simulates first, then sends. */
export async function faucet(client: TabulaClient, parameters: FaucetParameters): Promise<FaucetReturnType> {
  const token = deployedContract(client.chain, "Token");
  const account = parameters.account ?? client.account;
  let request: Awaited<ReturnType<typeof simulateFaucet>>["request"];
  try {
    ({ request } = await simulateFaucet(client, { ...parameters, ...(account ? { account } : {}) }, token));
  } catch (error) {
    const revert = revertOf(error);
    if (revert?.errorName === "TokenFaucetDisabled")
      throw new TokenFaucetDisabledError({ chainId: client.chain.id, cause: error });
    if (revert?.errorName === "TokenFaucetAmountTooLarge") {
      const [requested, max] = revert.args as [bigint, bigint];
      throw new TokenFaucetAmountTooLargeError({ requested, max, cause: error });
    }
    throw error;
  }
  return await writeContract(client, request);
}

function simulateFaucet(
  client: TabulaClient,
  parameters: FaucetParameters,
  token: ReturnType<typeof deployedContract<"Token">>,
) {
  return simulateContract(client, {
    address: token.address,
    abi: token.abi,
    functionName: "faucet",
    args: [parameters.to, parameters.amount],
    ...(parameters.account ? { account: parameters.account } : {}),
  });
}

export interface FaucetSyncParameters extends FaucetParameters {
  /** Called with the transaction's hash as soon as it is sent. */
  onHash?: (hash: Hash) => void;
  /** Stops waiting for the receipt (the transaction, once sent, may still be mined). */
  signal?: AbortSignal;
}

export interface FaucetSyncReturnType {
  receipt: TransactionReceipt;
  /** The mint: a `Transfer` from the zero address to `to`. */
  event: ReturnType<typeof extractFaucetEvent>;
}

export type FaucetSyncErrorType = FaucetErrorType | WaitForSuccessErrorType;

/** {@link faucet}, then waits for the receipt and returns the mint's `Transfer` event. */
export async function faucetSync(
  client: TabulaClient,
  parameters: FaucetSyncParameters,
): Promise<FaucetSyncReturnType> {
  const { onHash, signal, ...call } = parameters;
  const hash = await faucet(client, call);
  onHash?.(hash);
  const receipt = await waitForSuccess(client, { hash, what: "The token faucet", ...(signal ? { signal } : {}) });
  return { receipt, event: extractFaucetEvent(client, receipt, parameters.to) };
}

/** The `Transfer` that minted tokens to `to` in the faucet's receipt. */
export function extractFaucetEvent(client: TabulaClient, receipt: TransactionReceipt, to: Address) {
  const token = deployedContract(client.chain, "Token");
  const [event] = parseEventLogs({
    abi: token.abi,
    logs: receipt.logs,
    eventName: "Transfer",
    args: { to },
    strict: true,
  });
  if (!event) throw new Error(`no Transfer to ${to} in the faucet's transaction ${receipt.transactionHash}`);
  return event;
}
