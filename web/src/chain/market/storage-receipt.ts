import { type Address, type Hex, hashStruct, type TypedDataDomain } from "viem";

/** EIP-712 domain of the storage receipt σ, as StorageMarket declares it. */
export const STORAGE_MARKET_DOMAIN_NAME = "Tabula StorageMarket";
export const STORAGE_MARKET_DOMAIN_VERSION = "2";

/** The terms of one deal, as `IStorageMarket.DealTerms` takes them. */
export interface DealTerms {
  host: Address;
  /** The file's manifest CID as binary CID bytes: the link pointer L. */
  manifestCid: Hex;
  shardIndex: number;
  shardSizeBytes: bigint;
  shardRoot: Hex;
  durationSeconds: bigint;
  price: bigint;
  /** Last second at which σ may activate the deal. */
  acceptBy: bigint;
}

/** σ's EIP-712 type: the deal id, the client and every term (`IStorageMarket.RECEIPT_TYPEHASH`). */
export const STORAGE_RECEIPT_TYPES = {
  StorageReceipt: [
    { name: "dealId", type: "uint256" },
    { name: "client", type: "address" },
    { name: "host", type: "address" },
    { name: "manifestCid", type: "bytes" },
    { name: "shardIndex", type: "uint32" },
    { name: "shardSizeBytes", type: "uint64" },
    { name: "shardRoot", type: "bytes32" },
    { name: "durationSeconds", type: "uint64" },
    { name: "price", type: "uint256" },
    { name: "acceptBy", type: "uint64" },
  ],
} as const;

export function storageMarketDomain(chainId: number, market: Address): TypedDataDomain {
  return {
    name: STORAGE_MARKET_DOMAIN_NAME,
    version: STORAGE_MARKET_DOMAIN_VERSION,
    chainId,
    verifyingContract: market,
  };
}

/** The typed data a host (or its operator key) signs as σ for deal `dealId` of `client` on `terms`. */
export function storageReceipt(chainId: number, market: Address, dealId: bigint, client: Address, terms: DealTerms) {
  return {
    domain: storageMarketDomain(chainId, market),
    types: STORAGE_RECEIPT_TYPES,
    primaryType: "StorageReceipt",
    message: { dealId, client, ...terms },
  } as const;
}

/** The EIP-712 struct hash of σ's message: what the market stores as a deal's `receiptHash` at proposal. */
export function receiptStructHash(dealId: bigint, client: Address, terms: DealTerms): Hex {
  return hashStruct({
    types: STORAGE_RECEIPT_TYPES,
    primaryType: "StorageReceipt",
    data: { dealId, client, ...terms },
  });
}
