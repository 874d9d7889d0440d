import type { Address, LocalAccount } from "viem";

/** A deployed payment contract: EIP-712 domains and channel ids are bound to both. */
export interface ContractRef {
  chainId: number;
  address: Address;
}

/**
 * Whatever signs EIP-712 messages for one side: a viem local account, or a wallet client wrapped as
 * `{ address, signTypedData: (p) => walletClient.signTypedData({ account, ...p }) }`.
 */
export type TypedDataSigner = Pick<LocalAccount, "address" | "signTypedData">;

/** Unix time in whole seconds, as the contracts use it. */
export type UnixSeconds = bigint;

/** The current unix time in seconds. */
export function nowSeconds(): UnixSeconds {
  return BigInt(Math.floor(Date.now() / 1000));
}
