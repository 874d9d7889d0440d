import {
  type Account,
  type Address,
  type Hash,
  type Hex,
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
import { InsufficientFreeStakeError, InvalidReceiptError, ReceiptExpiredError } from "./errors.ts";

export interface AcceptDealsParameters {
  /** Each proposed deal with the σ its host returned. */
  receipts: ReadonlyArray<{ dealId: bigint; signature: Hex }>;
  /** Who sends it (anyone may: usually the client); the client's account when left out. */
  account?: Account | Address;
}

export type AcceptDealsErrorType =
  | DeployedContractErrorType
  | ReceiptExpiredError
  | InvalidReceiptError
  | InsufficientFreeStakeError
  | SimulateContractErrorType
  | WriteContractErrorType;

/** Submits all σ of a file in one transaction; each activates its deal and locks its host's collateral. */
export async function acceptDeals(client: TabulaClient, parameters: AcceptDealsParameters): Promise<Hash> {
  const market = deployedContract(client.chain, "StorageMarket");
  const account = parameters.account ?? client.account;
  const simulate = () =>
    simulateContract(client, {
      address: market.address,
      abi: market.abi,
      functionName: "acceptDeals",
      args: [parameters.receipts.map((r) => r.dealId), parameters.receipts.map((r) => r.signature)],
      ...(account ? { account } : {}),
    });
  let request: Awaited<ReturnType<typeof simulate>>["request"];
  try {
    ({ request } = await simulate());
  } catch (error) {
    const revert = revertOf(error);
    if (revert?.errorName === "StorageMarketReceiptExpired") {
      const [dealId, acceptBy] = revert.args as [bigint, bigint];
      throw new ReceiptExpiredError({ dealId, acceptBy, cause: error });
    }
    if (revert?.errorName === "StorageMarketInvalidReceiptSignature") {
      const [dealId, signer] = revert.args as [bigint, Address];
      throw new InvalidReceiptError({ dealId, signer, cause: error });
    }
    if (revert?.errorName === "StorageMarketInsufficientFreeStake") {
      const [host, freeStake, required] = revert.args as [Address, bigint, bigint];
      throw new InsufficientFreeStakeError({ host, freeStake, required, cause: error });
    }
    throw error;
  }
  return await writeContract(client, request);
}

/** What acceptance recorded for a deal (from its `DealAccepted` event). */
export interface AcceptedDeal {
  dealId: bigint;
  host: Address;
  /** The host or its operator key. */
  signer: Address;
  startedAt: bigint;
  endsAt: bigint;
  collateral: bigint;
}

/** {@link acceptDeals}, then waits for the receipt and returns each deal's `DealAccepted`. */
export async function acceptDealsSync(
  client: TabulaClient,
  parameters: AcceptDealsParameters & { onHash?: (hash: Hash) => void; signal?: AbortSignal },
): Promise<{ receipt: TransactionReceipt; deals: AcceptedDeal[] }> {
  const { onHash, signal, ...call } = parameters;
  const hash = await acceptDeals(client, call);
  onHash?.(hash);
  const receipt = await waitForSuccess(client, { hash, what: "Accepting the deals", ...(signal ? { signal } : {}) });
  const market = deployedContract(client.chain, "StorageMarket");
  const deals = parseEventLogs({ abi: market.abi, logs: receipt.logs, eventName: "DealAccepted", strict: true }).map(
    ({ args }) => ({
      dealId: args.dealId,
      host: args.host,
      signer: args.signer,
      startedAt: args.startedAt,
      endsAt: args.endsAt,
      collateral: args.collateral,
    }),
  );
  return { receipt, deals };
}

export type AcceptDealsSyncErrorType = AcceptDealsErrorType | WaitForSuccessErrorType;
