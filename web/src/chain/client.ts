import { type Account, type Client, createClient, http, type Transport } from "viem";
import type { TabulaChain } from "./chain.ts";

/** The client every chain action takes: any viem client whose chain carries Tabula's contracts. */
export type TabulaClient<account extends Account | undefined = Account | undefined> = Client<
  Transport,
  TabulaChain,
  account
>;

/** A client over the chain's RPC URL (or `transport`), without caching, so balances read right after a block. */
export function createTabulaClient<account extends Account | undefined = undefined>(parameters: {
  chain: TabulaChain;
  account?: account;
  transport?: Transport;
}): TabulaClient<account> {
  return createClient({
    chain: parameters.chain,
    transport: parameters.transport ?? http(parameters.chain.rpcUrls.default.http[0]),
    cacheTime: 0,
    ...(parameters.account ? { account: parameters.account } : {}),
  }) as TabulaClient<account>;
}
