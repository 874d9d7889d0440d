import type { Address } from "viem";
import { NotDealClientError, NotOperatorError } from "./errors.ts";
import type { RevertMappers } from "./write-market.ts";

/** `StorageMarketNotOperator`: the sender is neither the owner nor its live operator for the role. */
export const notOperator: RevertMappers = {
  StorageMarketNotOperator: ([owner, account, role], cause) =>
    new NotOperatorError({ owner: owner as Address, account: account as Address, role: Number(role), cause }),
};

/** `StorageMarketNotDealClient`: only the deal's client or its client operator may do this. */
export const notClient: RevertMappers = {
  StorageMarketNotDealClient: ([dealId, account], cause) =>
    new NotDealClientError({ dealId: dealId as bigint, account: account as Address, cause }),
};
