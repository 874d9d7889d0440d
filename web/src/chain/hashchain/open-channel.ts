import { type Account, type Address, type Hash, type Hex, parseEventLogs, type TransactionReceipt } from "viem";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { NoAccountError } from "../errors.ts";
import { signPermit } from "../token/sign-permit.ts";
import { writeTabula } from "../write.ts";
import { hashChainErrors } from "./errors.ts";

export interface OpenHashChainParameters {
  payee: Address;
  /** Makes the channel's id (and so its chain) unique between the same payer and payee. */
  salt: Hex;
  /** The chain's tip: hashing the preimage at depth j j times gives it. */
  anchor: Hex;
  units: number;
  unitValue: bigint;
  /** Unix s (chain time): the payee redeems before it, the payer takes the deposit back after it. */
  expiresAt: bigint;
  /** The permit's deadline (unix s, chain time). */
  deadline: bigint;
  /** The payer: the owner, whose tokens the deposit is. */
  account?: Account | Address;
}

/** Locks `units × unitValue` for `payee` under `anchor`, pulled with a permit: one signature, one transaction. */
export async function openHashChain(client: TabulaClient, parameters: OpenHashChainParameters): Promise<Hash> {
  const contract = deployedContract(client.chain, "HashChainChannel");
  const account = parameters.account ?? client.account;
  if (!account) throw new NoAccountError({ action: "Opening a hash-chain payment" });
  const value = BigInt(parameters.units) * parameters.unitValue;
  const permit = await signPermit(client, {
    spender: contract.address,
    value,
    deadline: parameters.deadline,
    account,
  });
  return await writeTabula(client, {
    contract: "HashChainChannel",
    functionName: "openWithPermit",
    args: [
      parameters.payee,
      parameters.salt,
      parameters.anchor,
      parameters.units,
      parameters.unitValue,
      parameters.expiresAt,
      { value, deadline: parameters.deadline, v: permit.v, r: permit.r, s: permit.s },
    ],
    account,
    errors: hashChainErrors,
  });
}

/** The id of the channel an `open…` transaction opened. */
export function openedHashChainId(client: TabulaClient, receipt: TransactionReceipt): Hex {
  const contract = deployedContract(client.chain, "HashChainChannel");
  const [opened] = parseEventLogs({ abi: contract.abi, logs: receipt.logs, eventName: "ChannelOpened" });
  if (!opened) throw new Error(`transaction ${receipt.transactionHash} opened no hash-chain channel`);
  return opened.args.channelId;
}
