/**
 * A proxy route payer → proxy → payee over two bandwidth channels (Tachyon's proxy hop): the payer locks 110 % of
 * what the payee is owed on the upstream leg, at 110 % of the payee's price, and the proxy opens the downstream leg
 * to the payee with the route's amount, keeping the 10 % as its fee. Each leg is funded by a permit: one signature,
 * one transaction.
 */
import { type Account, type Address, type Hash, parseEventLogs, type TransactionReceipt } from "viem";
import { readContract } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { NoAccountError } from "../errors.ts";
import { signPermit } from "../token/sign-permit.ts";
import { writeTabula } from "../write.ts";
import { bandwidthErrors } from "./errors.ts";

/** `BandwidthChannel.PROXY_LOCK_PERCENT`: the upstream leg locks and charges this share of the downstream one. */
export const PROXY_LOCK_PERCENT = 110n;

/** What the upstream leg of a route locks for `amount` owed downstream (and its price for a price). */
export function routeLock(amount: bigint): bigint {
  return (amount * PROXY_LOCK_PERCENT) / 100n;
}

/** A route as the contract keeps it on its upstream leg (zero amount: not a route). */
export interface RouteInfo {
  /** What the proxy owes the payee at most (the downstream leg's deposit). */
  amount: bigint;
  /** The payee's price per MB on the downstream leg. */
  pricePerMB: bigint;
  /** The downstream leg, once the proxy opened it (0 before). */
  downstreamId: bigint;
}

export interface OpenRouteParameters {
  proxy: Address;
  /** The key that signs the payer's units on the upstream leg. */
  payerSigner: Address;
  /** What the payee is owed at most: the upstream leg locks 110 % of it. */
  amount: bigint;
  /** The payee's price per MB: the upstream leg charges 110 % of it. */
  pricePerMB: bigint;
  lossToleranceBytes: bigint;
  /** The permit's deadline (unix s, chain time). */
  deadline: bigint;
  account?: Account | Address;
}

/** Opens the upstream leg of a route through `proxy`, its 110 % lock pulled with a permit: one signature, one transaction. */
export async function openRoute(client: TabulaClient, parameters: OpenRouteParameters): Promise<Hash> {
  const contract = deployedContract(client.chain, "BandwidthChannel");
  const account = parameters.account ?? client.account;
  if (!account) throw new NoAccountError({ action: "Opening a proxy route" });
  const value = routeLock(parameters.amount);
  const permit = await signPermit(client, { spender: contract.address, value, deadline: parameters.deadline, account });
  return await writeTabula(client, {
    contract: "BandwidthChannel",
    functionName: "openRouteWithPermit",
    args: [
      parameters.proxy,
      parameters.payerSigner,
      parameters.amount,
      parameters.pricePerMB,
      parameters.lossToleranceBytes,
      { value, deadline: parameters.deadline, v: permit.v, r: permit.r, s: permit.s },
    ],
    account,
    errors: bandwidthErrors,
  });
}

export interface OpenRouteLegParameters {
  upstreamId: bigint;
  payee: Address;
  /** The key that signs the proxy's units on the downstream leg. */
  payerSigner: Address;
  /** The route's amount (pulled from the proxy). */
  amount: bigint;
  /** The permit's deadline (unix s, chain time). */
  deadline: bigint;
  /** The proxy: the upstream leg's payee, whose tokens fund the downstream leg. */
  account?: Account | Address;
}

/** The proxy opens the downstream leg of a confirmed route, funded with a permit: one signature, one transaction. */
export async function openRouteLeg(client: TabulaClient, parameters: OpenRouteLegParameters): Promise<Hash> {
  const contract = deployedContract(client.chain, "BandwidthChannel");
  const account = parameters.account ?? client.account;
  if (!account) throw new NoAccountError({ action: "Opening a route's downstream leg" });
  const { amount: value, deadline } = parameters;
  const permit = await signPermit(client, { spender: contract.address, value, deadline, account });
  return await writeTabula(client, {
    contract: "BandwidthChannel",
    functionName: "openRouteLegWithPermit",
    args: [
      parameters.upstreamId,
      parameters.payee,
      parameters.payerSigner,
      { value, deadline, v: permit.v, r: permit.r, s: permit.s },
    ],
    account,
    errors: bandwidthErrors,
  });
}

/** The route of upstream leg `upstreamId` (zero amount when it is not a route). */
export async function getRoute(client: TabulaClient, parameters: { upstreamId: bigint }): Promise<RouteInfo> {
  const contract = deployedContract(client.chain, "BandwidthChannel");
  const route = await readContract(client, {
    address: contract.address,
    abi: contract.abi,
    functionName: "getRoute",
    args: [parameters.upstreamId],
  });
  return { amount: route.amount, pricePerMB: route.pricePerMB, downstreamId: route.downstreamId };
}

/** The downstream leg an `openRouteLeg` transaction opened. */
export function openedLegId(client: TabulaClient, receipt: TransactionReceipt): bigint {
  const contract = deployedContract(client.chain, "BandwidthChannel");
  const [opened] = parseEventLogs({ abi: contract.abi, logs: receipt.logs, eventName: "RouteLegOpened" });
  if (!opened) throw new Error(`transaction ${receipt.transactionHash} opened no route leg`);
  return opened.args.downstreamId;
}
