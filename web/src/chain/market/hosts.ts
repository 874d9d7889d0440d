import type { Account, Address, Hash, Hex, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { NoAccountError } from "../errors.ts";
import { type SignPermitErrorType, signPermit } from "../token/sign-permit.ts";
import {
  InsufficientFreeStakeError,
  InsufficientStakeError,
  NothingToClaimError,
  UnbondingNotReadyError,
} from "./errors.ts";
import { type WriteMarketErrorType, writeMarket } from "./write-market.ts";

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

async function permitFor(
  client: TabulaClient,
  account: Account | Address | undefined,
  value: bigint,
  deadline: bigint,
  action: string,
) {
  if (!account) throw new NoAccountError({ action });
  const market = deployedContract(client.chain, "StorageMarket");
  const permit = await signPermit(client, { spender: market.address, value, deadline, account });
  return { account, permit: { deadline, v: permit.v, r: permit.r, s: permit.s } };
}

/** Registers the wallet as a host and stakes, with one permit signature and one transaction. */
export async function registerHost(client: TabulaClient, parameters: RegisterHostParameters): Promise<Hash> {
  const { account, permit } = await permitFor(
    client,
    parameters.account ?? client.account,
    parameters.stake,
    parameters.permitDeadline,
    "Registering as a host",
  );
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

/** Adds `amount` to the host's stake with one permit signature. */
export async function addStake(
  client: TabulaClient,
  parameters: { amount: bigint; permitDeadline: bigint; account?: Account | Address },
): Promise<Hash> {
  const { account, permit } = await permitFor(
    client,
    parameters.account ?? client.account,
    parameters.amount,
    parameters.permitDeadline,
    "Adding stake",
  );
  return await writeMarket(client, { functionName: "addStake", args: [parameters.amount, permit], account });
}

/** Starts unbonding `amount` of the host's free stake (stake no running deal has locked). */
export async function beginUnbonding(
  client: TabulaClient,
  parameters: { amount: bigint; account?: Account | Address },
): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "beginUnbonding",
    args: [parameters.amount],
    account: parameters.account,
    errors: {
      StorageMarketInsufficientFreeStake: ([host, freeStake, required], cause) =>
        new InsufficientFreeStakeError({
          host: host as Address,
          freeStake: freeStake as bigint,
          required: required as bigint,
          cause,
        }),
    },
  });
}

/** Withdraws the stake whose unbonding delay has passed. */
export async function withdrawStake(client: TabulaClient, parameters: { account?: Account | Address } = {}) {
  return await writeMarket(client, {
    functionName: "withdrawStake",
    args: [],
    account: parameters.account,
    errors: {
      StorageMarketUnbondingNotReady: ([host, readyAt], cause) =>
        new UnbondingNotReadyError({ host: host as Address, readyAt: readyAt as bigint, cause }),
    },
  });
}

/** Pays the host (owner, never its operator) every proven, unclaimed earning of these deals in one transaction. */
export async function claimEarnings(
  client: TabulaClient,
  parameters: { dealIds: readonly bigint[]; account?: Account | Address },
): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "claimEarnings",
    args: [parameters.dealIds],
    account: parameters.account,
    errors: { StorageMarketNothingToClaim: (_args, cause) => new NothingToClaimError({ cause }) },
  });
}

/** What the Share storage page shows of a host: its record and its reputation counters. */
export interface HostStatus {
  registered: boolean;
  capacityBytes: bigint;
  usedBytes: bigint;
  pricePerGiBMonth: bigint;
  stake: bigint;
  /** Part of the stake that running deals locked as collateral. */
  lockedCollateral: bigint;
  unbonding: bigint;
  unbondingReadyAt: bigint;
  activeDeals: bigint;
  auditsPassed: number;
  auditsFailed: number;
  dealsCompleted: number;
  timesSlashed: number;
  /** Paid by other clients, in token base units. */
  paidVolume: bigint;
}

/** Reads a host's record and reputation. */
export async function hostStatus(client: TabulaClient, host: Address): Promise<HostStatus> {
  const market = deployedContract(client.chain, "StorageMarket");
  const read = { address: market.address, abi: market.abi, args: [host] } as const;
  const [info, reputation] = await Promise.all([
    readContract(client, { ...read, functionName: "hostInfo" }),
    readContract(client, { ...read, functionName: "reputation" }),
  ]);
  return {
    registered: info.registered,
    capacityBytes: info.capacityBytes,
    usedBytes: info.usedBytes,
    pricePerGiBMonth: info.pricePerGiBMonth,
    stake: info.stake,
    lockedCollateral: info.lockedCollateral,
    unbonding: info.unbonding,
    unbondingReadyAt: info.unbondingReadyAt,
    activeDeals: info.activeDeals,
    auditsPassed: reputation.auditsPassed,
    auditsFailed: reputation.auditsFailed,
    dealsCompleted: reputation.dealsCompleted,
    timesSlashed: reputation.timesSlashed,
    paidVolume: reputation.paidVolume,
  };
}

export type HostStatusErrorType = ReadContractErrorType;
