import { type Account, type Address, type Hash, type Hex, parseEventLogs, type TransactionReceipt } from "viem";
import { lotDeposit } from "../../lib/payments/lottery.ts";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { NoAccountError } from "../errors.ts";
import { signPermit } from "../token/sign-permit.ts";
import { writeTabula } from "../write.ts";
import { lotteryErrors } from "./errors.ts";

export interface CreateLotParameters {
  lotSize: number;
  ticketValue: bigint;
  /** `keccak256(abi.encode(payer, secret))`. */
  commitment: Hex;
  /** Unix s (chain time) after which anyone may close the lot. */
  closeBy: bigint;
  /** Payees each held one lot value for, so no other ticket for their index can rob them. */
  covered: Address[];
  /** The key that signs the lot's tickets: the payer, or its Payer operator. */
  signer: Address;
  /** The permit's deadline (unix s, chain time). */
  deadline: bigint;
  /** The payer: the owner, whose tokens fund the lot, its fine and its covers. */
  account?: Account | Address;
}

/** Funds a lot (its value, the fine and the covers), pulled with a permit: one signature, one transaction. */
export async function createLot(client: TabulaClient, parameters: CreateLotParameters): Promise<Hash> {
  const contract = deployedContract(client.chain, "Lottery");
  const account = parameters.account ?? client.account;
  if (!account) throw new NoAccountError({ action: "Funding a lottery lot" });
  const value = lotDeposit(parameters.lotSize, parameters.ticketValue, parameters.covered.length);
  const permit = await signPermit(client, { spender: contract.address, value, deadline: parameters.deadline, account });
  return await writeTabula(client, {
    contract: "Lottery",
    functionName: "createLotWithPermit",
    args: [
      parameters.lotSize,
      parameters.ticketValue,
      parameters.commitment,
      Number(parameters.closeBy),
      parameters.covered,
      parameters.signer,
      { value, deadline: parameters.deadline, v: permit.v, r: permit.r, s: permit.s },
    ],
    account,
    errors: lotteryErrors,
  });
}

/** The id of the lot a `createLot…` transaction funded. */
export function createdLotId(client: TabulaClient, receipt: TransactionReceipt): bigint {
  const contract = deployedContract(client.chain, "Lottery");
  const [created] = parseEventLogs({ abi: contract.abi, logs: receipt.logs, eventName: "LotCreated" });
  if (!created) throw new Error(`transaction ${receipt.transactionHash} funded no lottery lot`);
  return created.args.lotId;
}
