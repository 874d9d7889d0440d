import type { Address, Hash, Hex } from "viem";
import { getContractEvents } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** What left a Merkle channel: each redemption (by payee) and the payer's reclaim after expiry. */
export interface MerkleOutcome {
  redeemed: { payee: Address; tokens: bigint; paid: bigint; hash: Hash }[];
  reclaimed?: { amount: bigint; hash: Hash };
}

/** The redemptions and reclaim of channel `channelId`, from its events. */
export async function merkleOutcome(client: TabulaClient, parameters: { channelId: Hex }): Promise<MerkleOutcome> {
  const contract = deployedContract(client.chain, "MerkleChannel");
  const common = { address: contract.address, abi: contract.abi, fromBlock: 0n, strict: true } as const;
  const [redeemed, reclaimed] = await Promise.all([
    getContractEvents(client, { ...common, eventName: "TokensRedeemed", args: { channelId: parameters.channelId } }),
    getContractEvents(client, { ...common, eventName: "ChannelReclaimed", args: { channelId: parameters.channelId } }),
  ]);
  const [reclaim] = reclaimed;
  return {
    redeemed: redeemed.map((e) => ({
      payee: e.args.payee,
      tokens: e.args.tokens,
      paid: e.args.paid,
      hash: e.transactionHash,
    })),
    ...(reclaim ? { reclaimed: { amount: reclaim.args.amount, hash: reclaim.transactionHash } } : {}),
  };
}
