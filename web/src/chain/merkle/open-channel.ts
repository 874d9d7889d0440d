import { type Account, type Address, type Hash, type Hex, parseEventLogs, type TransactionReceipt } from "viem";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { NoAccountError } from "../errors.ts";
import { signPermit } from "../token/sign-permit.ts";
import { writeTabula } from "../write.ts";
import { merkleErrors } from "./errors.ts";

export interface OpenMerkleParameters {
  /** Makes the channel's id unique for the payer. */
  salt: Hex;
  /** The root of the tree of tokens, each bound to its payee. */
  root: Hex;
  /** The part of the funds only each payee's tokens can draw on; the channel holds their sum. */
  allocations: { payee: Address; amount: bigint }[];
  /** Unix s (chain time): payees redeem before it, the payer takes back what is left after it. */
  expiresAt: bigint;
  /** The permit's deadline (unix s, chain time). */
  deadline: bigint;
  /** The payer: the owner, whose tokens fund the channel. */
  account?: Account | Address;
}

/** Funds a channel under `root` with the sum of the allocations, pulled with a permit: one signature, one transaction. */
export async function openMerkle(client: TabulaClient, parameters: OpenMerkleParameters): Promise<Hash> {
  const contract = deployedContract(client.chain, "MerkleChannel");
  const account = parameters.account ?? client.account;
  if (!account) throw new NoAccountError({ action: "Funding a Merkle payment" });
  const value = parameters.allocations.reduce((sum, a) => sum + a.amount, 0n);
  const permit = await signPermit(client, { spender: contract.address, value, deadline: parameters.deadline, account });
  return await writeTabula(client, {
    contract: "MerkleChannel",
    functionName: "openWithPermit",
    args: [
      parameters.salt,
      parameters.root,
      parameters.allocations,
      parameters.expiresAt,
      { value, deadline: parameters.deadline, v: permit.v, r: permit.r, s: permit.s },
    ],
    account,
    errors: merkleErrors,
  });
}

/** The id of the channel an `open…` transaction funded. */
export function openedMerkleId(client: TabulaClient, receipt: TransactionReceipt): Hex {
  const contract = deployedContract(client.chain, "MerkleChannel");
  const [opened] = parseEventLogs({ abi: contract.abi, logs: receipt.logs, eventName: "ChannelOpened" });
  if (!opened) throw new Error(`transaction ${receipt.transactionHash} funded no Merkle channel`);
  return opened.args.channelId;
}
