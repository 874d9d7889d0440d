import type { Account, Address, Hash, Hex } from "viem";
import type { RedeemArgs, RegisterArgs } from "../../lib/payments/lottery.ts";
import type { TabulaClient } from "../client.ts";
import { writeTabula } from "../write.ts";
import { lotteryErrors } from "./errors.ts";

type Sender = { account?: Account | Address };

/** Ends a lot's issuing (its payer or Payer operator at any time, anyone after its close-by time). */
export async function closeLot(client: TabulaClient, parameters: { lotId: bigint } & Sender): Promise<Hash> {
  return await writeTabula(client, {
    contract: "Lottery",
    functionName: "closeLot",
    args: [parameters.lotId],
    account: parameters.account,
    errors: lotteryErrors,
  });
}

/** Draws a closed lot's winning index from the payer's secret and the seed block's hash (anyone holding it). */
export async function revealLot(
  client: TabulaClient,
  parameters: { lotId: bigint; secret: Hex } & Sender,
): Promise<Hash> {
  return await writeTabula(client, {
    contract: "Lottery",
    functionName: "reveal",
    args: [parameters.lotId, parameters.secret],
    account: parameters.account,
    errors: lotteryErrors,
  });
}

/** The holder of the winning index (or its Payee operator) is paid the lot. */
export async function redeemLot(client: TabulaClient, parameters: { args: RedeemArgs } & Sender): Promise<Hash> {
  return await writeTabula(client, {
    contract: "Lottery",
    functionName: "redeem",
    args: parameters.args,
    account: parameters.account,
    errors: lotteryErrors,
  });
}

/** A holder registers its tickets to share a lot whose reveal was withheld. */
export async function registerLotTickets(
  client: TabulaClient,
  parameters: { args: RegisterArgs } & Sender,
): Promise<Hash> {
  return await writeTabula(client, {
    contract: "Lottery",
    functionName: "registerTickets",
    args: parameters.args,
    account: parameters.account,
    errors: lotteryErrors,
  });
}

/** A holder that registered takes its share once the sharing window is over. */
export async function withdrawLotShare(
  client: TabulaClient,
  parameters: { lotId: bigint; payee: Address } & Sender,
): Promise<Hash> {
  return await writeTabula(client, {
    contract: "Lottery",
    functionName: "withdrawShare",
    args: [parameters.lotId, parameters.payee],
    account: parameters.account,
    errors: lotteryErrors,
  });
}

/** After its last window, the payer gets back what nobody won (anyone may send it). */
export async function finishLot(client: TabulaClient, parameters: { lotId: bigint } & Sender): Promise<Hash> {
  return await writeTabula(client, {
    contract: "Lottery",
    functionName: "finish",
    args: [parameters.lotId],
    account: parameters.account,
    errors: lotteryErrors,
  });
}

/** Keeps a closed lot's seed block hash for a later reveal (anyone, once the seed block is mined). */
export async function pinLotSeed(client: TabulaClient, parameters: { lotId: bigint } & Sender): Promise<Hash> {
  return await writeTabula(client, {
    contract: "Lottery",
    functionName: "pinSeed",
    args: [parameters.lotId],
    account: parameters.account,
    errors: lotteryErrors,
  });
}
