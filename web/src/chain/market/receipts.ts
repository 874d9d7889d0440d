import { type Account, type Address, type Hex, isAddressEqual, recoverTypedDataAddress } from "viem";
import { readContract, signTypedData } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { NoAccountError } from "../errors.ts";
import { type DealTerms, storageReceipt } from "./storage-receipt.ts";

export interface ReceiptParameters {
  dealId: bigint;
  client: Address;
  terms: DealTerms;
}

/** σ: the host's (or its operator key's) EIP-712 signature over deal `dealId`'s exact terms. No wallet prompt for a
 * local operator key. */
export async function signReceipt(
  client: TabulaClient,
  parameters: ReceiptParameters & { account?: Account | Address },
): Promise<Hex> {
  const market = deployedContract(client.chain, "StorageMarket");
  const account = parameters.account ?? client.account;
  if (!account) throw new NoAccountError({ action: "Signing a storage receipt" });
  return await signTypedData(client, {
    account,
    ...storageReceipt(client.chain.id, market.address, parameters.dealId, parameters.client, parameters.terms),
  });
}

/** Who signed σ over these terms, recovered in the tab (no chain call). */
export async function receiptSigner(client: TabulaClient, parameters: ReceiptParameters & { signature: Hex }) {
  const market = deployedContract(client.chain, "StorageMarket");
  return await recoverTypedDataAddress({
    ...storageReceipt(client.chain.id, market.address, parameters.dealId, parameters.client, parameters.terms),
    signature: parameters.signature,
  });
}

export interface VerifyReceiptReturnType {
  /** Recovered from σ over the terms as given. */
  signer: Address;
  /** The chain's `isValidReceipt`: σ is over the deal's stored terms and by its host or a current host operator. */
  validOnChain: boolean;
  /** The signer is the host itself (not an operator key). */
  byHost: boolean;
}

/** Checks σ for anyone holding the terms (a share link): who signed it, and whether the chain accepts it. */
export async function verifyReceipt(
  client: TabulaClient,
  parameters: ReceiptParameters & { signature: Hex },
): Promise<VerifyReceiptReturnType> {
  const market = deployedContract(client.chain, "StorageMarket");
  const [signer, validOnChain] = await Promise.all([
    receiptSigner(client, parameters),
    readContract(client, {
      address: market.address,
      abi: market.abi,
      functionName: "isValidReceipt",
      args: [parameters.dealId, parameters.signature],
    }),
  ]);
  return { signer, validOnChain, byHost: isAddressEqual(signer, parameters.terms.host) };
}
