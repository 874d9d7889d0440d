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
import { type NoAccountError, revertOf } from "../errors.ts";
import { type WaitForSuccessErrorType, waitForSuccess } from "../receipt.ts";
import type { SignPermitErrorType } from "../token/sign-permit.ts";
import { ClientNotAuthorizedError, DealPriceTooLowError } from "./errors.ts";
import type { DealTerms } from "./storage-receipt.ts";
import { marketPermit } from "./write-market.ts";

export interface ProposeDealsParameters {
  /** One deal per shard of a file, each to its host. */
  terms: readonly DealTerms[];
  /** When the permit that escrows the file's price stops being valid (Unix seconds). */
  permitDeadline: bigint;
  /**
   * Token base units of allowance the market keeps after the escrow: the client's budget for challenge bonds, which
   * its operator key's audits draw from without a wallet prompt. The permit grants the escrow plus this and replaces
   * whatever allowance was there; by default the allowance standing now, so a budget the owner set stays.
   */
  auditBudget?: bigint;
  /** The client, who signs the permit and pays; the client's account when left out. */
  account?: Account | Address;
}

export type ProposeDealsReturnType = Hash;

export type ProposeDealsErrorType =
  | DeployedContractErrorType
  | NoAccountError
  | SignPermitErrorType
  | DealPriceTooLowError
  | ClientNotAuthorizedError
  | SimulateContractErrorType
  | WriteContractErrorType
  | RangeError;

/**
 * Proposes the deals of all shards of a file in one transaction, escrowing their prices with one permit signature
 * (no approval transaction) that also leaves `auditBudget` as the market's allowance. Simulates first: a host's
 * raised price or a missing authorization is a named error and nothing is sent.
 */
export async function proposeDeals(
  client: TabulaClient,
  parameters: ProposeDealsParameters,
): Promise<ProposeDealsReturnType> {
  const market = deployedContract(client.chain, "StorageMarket");
  const { account, permit } = await marketPermit(client, {
    account: parameters.account ?? client.account,
    amount: parameters.terms.reduce((sum, t) => sum + t.price, 0n),
    ...(parameters.auditBudget === undefined ? {} : { auditBudget: parameters.auditBudget }),
    deadline: parameters.permitDeadline,
    action: "Proposing storage deals",
  });
  const simulate = () =>
    simulateContract(client, {
      address: market.address,
      abi: market.abi,
      functionName: "proposeDeals",
      args: [parameters.terms, permit],
      account,
    });
  let request: Awaited<ReturnType<typeof simulate>>["request"];
  try {
    ({ request } = await simulate());
  } catch (error) {
    const revert = revertOf(error);
    if (revert?.errorName === "StorageMarketPriceTooLow") {
      const [offered, required] = revert.args as [bigint, bigint];
      throw new DealPriceTooLowError({ offered, required, cause: error });
    }
    if (revert?.errorName === "StorageMarketClientNotAuthorized") {
      const [host, client] = revert.args as [Address, Address];
      throw new ClientNotAuthorizedError({ host, client, cause: error });
    }
    throw error;
  }
  return await writeContract(client, request);
}

export interface ProposeDealsSyncParameters extends ProposeDealsParameters {
  onHash?: (hash: Hash) => void;
  signal?: AbortSignal;
}

/** A proposed deal: its id (what the host is told with the shard) and its terms. */
export interface ProposedDeal {
  dealId: bigint;
  terms: DealTerms;
}

export interface ProposeDealsSyncReturnType {
  receipt: TransactionReceipt;
  /** In the order of the terms given. */
  deals: ProposedDeal[];
}

export type ProposeDealsSyncErrorType = ProposeDealsErrorType | WaitForSuccessErrorType;

/** {@link proposeDeals}, then waits for the receipt and returns each deal's id from its `DealProposed` event. */
export async function proposeDealsSync(
  client: TabulaClient,
  parameters: ProposeDealsSyncParameters,
): Promise<ProposeDealsSyncReturnType> {
  const { onHash, signal, ...call } = parameters;
  const hash = await proposeDeals(client, call);
  onHash?.(hash);
  const receipt = await waitForSuccess(client, { hash, what: "Proposing the deals", ...(signal ? { signal } : {}) });
  const market = deployedContract(client.chain, "StorageMarket");
  const events = parseEventLogs({ abi: market.abi, logs: receipt.logs, eventName: "DealProposed", strict: true });
  const deals = events.map((event) => ({ dealId: event.args.dealId, terms: event.args.terms as DealTerms }));
  if (deals.length !== parameters.terms.length) {
    throw new Error(`expected ${parameters.terms.length} DealProposed events in ${hash}, found ${deals.length}`);
  }
  return { receipt, deals };
}
