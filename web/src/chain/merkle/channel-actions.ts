import type { Account, Address, Hash, Hex } from "viem";
import type { MerkleRedemption } from "../../lib/payments/merkle.ts";
import type { TabulaClient } from "../client.ts";
import { writeTabula } from "../write.ts";
import { merkleErrors } from "./errors.ts";

/** The payee (its Payee operator) redeems its tokens in one batch with their multi-proof. */
export async function redeemMerkle(
  client: TabulaClient,
  parameters: { channelId: Hex; redemption: MerkleRedemption; account?: Account | Address },
): Promise<Hash> {
  const { payee, tokens, proof, proofFlags } = parameters.redemption;
  return await writeTabula(client, {
    contract: "MerkleChannel",
    functionName: "redeem",
    args: [parameters.channelId, payee, tokens, proof, proofFlags],
    account: parameters.account,
    errors: merkleErrors,
  });
}

/** The payer (its Payer operator) takes back what is left of a channel after expiry. */
export async function reclaimMerkle(
  client: TabulaClient,
  parameters: { channelId: Hex; account?: Account | Address },
): Promise<Hash> {
  return await writeTabula(client, {
    contract: "MerkleChannel",
    functionName: "reclaim",
    args: [parameters.channelId],
    account: parameters.account,
    errors: merkleErrors,
  });
}
