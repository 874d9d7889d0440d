import type { Address, GetAddressesErrorType } from "viem";
import { getAddresses } from "viem/actions";
import { BaseError } from "../../lib/errors.ts";
import type { TabulaClient } from "../client.ts";

/** The chain's node unlocks no account, so nothing can fund a burner from it. */
export class NoDevAccountError extends BaseError {
  override name = "NoDevAccountError";
  constructor(parameters: { chainId: number }) {
    super(`The local chain ${parameters.chainId} has no unlocked development account to fund the burner from.`, {
      details: "Run a development node (npm start starts Hardhat's) or connect a browser wallet that holds ETH.",
    });
  }
}

/** The development account that funds burners. */
export type GetDevAccountReturnType = Address;

export type GetDevAccountErrorType = NoDevAccountError | GetAddressesErrorType;

/** The node's first unlocked account (Hardhat's well-known account #0 on a local chain). */
export async function getDevAccount(client: TabulaClient): Promise<GetDevAccountReturnType> {
  const [first] = await getAddresses(client);
  if (!first) throw new NoDevAccountError({ chainId: client.chain.id });
  return first;
}
