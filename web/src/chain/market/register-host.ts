import type { Account, Address, Hash, Hex } from "viem";
import type { TabulaClient } from "../client.ts";
import type { NoAccountError } from "../errors.ts";
import type { SignPermitErrorType } from "../token/sign-permit.ts";
import { InsufficientStakeError } from "./errors.ts";
import { marketPermit, type WriteMarketErrorType, writeMarket } from "./write-market.ts";

export interface RegisterHostParameters {
  /** The libp2p peer id clients dial (its bytes). */
  peerId: Hex;
  capacityBytes: bigint;
  /** Token base units per GiB per month of 30 days: the unit the app shows. */
  pricePerGiBMonth: bigint;
  /** Take deals from any client, not only those the host authorized. */
  openRegistration: boolean;
  /** Token base units staked now, moved with one permit signature. */
  stake: bigint;
  /** When the permit stops being valid (Unix seconds). */
  permitDeadline: bigint;
  /** The host's wallet; the client's account when left out. */
  account?: Account | Address;
}

export type RegisterHostErrorType =
  | NoAccountError
  | SignPermitErrorType
  | InsufficientStakeError
  | WriteMarketErrorType;

/** Registers the wallet as a host and stakes, with one permit signature and one transaction. */
export async function registerHost(client: TabulaClient, parameters: RegisterHostParameters): Promise<Hash> {
  const { account, permit } = await marketPermit(client, {
    account: parameters.account ?? client.account,
    amount: parameters.stake,
    deadline: parameters.permitDeadline,
    action: "Registering as a host",
  });
  return await writeMarket(client, {
    functionName: "registerHost",
    args: [
      parameters.peerId,
      parameters.capacityBytes,
      parameters.pricePerGiBMonth,
      parameters.openRegistration,
      parameters.stake,
      permit,
    ],
    account,
    errors: {
      StorageMarketInsufficientStake: ([host, stake, minStake], cause) =>
        new InsufficientStakeError({
          host: host as Address,
          stake: stake as bigint,
          minStake: minStake as bigint,
          cause,
        }),
    },
  });
}
