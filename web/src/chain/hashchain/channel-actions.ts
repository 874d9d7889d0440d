import type { Account, Address, Hash, Hex } from "viem";
import { bytesToHex } from "viem";
import type { TabulaClient } from "../client.ts";
import { writeTabula } from "../write.ts";
import { hashChainErrors } from "./errors.ts";

/** The payee (its Payee operator) is paid `depth` units for the preimage at that depth; the rest goes back. */
export async function redeemHashChain(
  client: TabulaClient,
  parameters: { channelId: Hex; preimage: Uint8Array | Hex; depth: number; account?: Account | Address },
): Promise<Hash> {
  const preimage = typeof parameters.preimage === "string" ? parameters.preimage : bytesToHex(parameters.preimage);
  return await writeTabula(client, {
    contract: "HashChainChannel",
    functionName: "redeem",
    args: [parameters.channelId, preimage, BigInt(parameters.depth)],
    account: parameters.account,
    errors: hashChainErrors,
  });
}

/** The payer (its Payer operator) takes back the deposit of a channel that expired unredeemed. */
export async function reclaimHashChain(
  client: TabulaClient,
  parameters: { channelId: Hex; account?: Account | Address },
): Promise<Hash> {
  return await writeTabula(client, {
    contract: "HashChainChannel",
    functionName: "reclaim",
    args: [parameters.channelId],
    account: parameters.account,
    errors: hashChainErrors,
  });
}
