import { type Account, type Address, type Hash, parseEventLogs, type TransactionReceipt } from "viem";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { NoAccountError } from "../errors.ts";
import { signPermit } from "../token/sign-permit.ts";
import { writeTabula } from "../write.ts";
import { bandwidthErrors } from "./errors.ts";

export interface OpenChannelParameters {
  payee: Address;
  /** The key that signs the payer's units: the tab's operator key, authorized for the Payer role. */
  payerSigner: Address;
  deposit: bigint;
  pricePerMB: bigint;
  lossToleranceBytes: bigint;
  /** The permit's deadline (unix s, chain time). */
  deadline: bigint;
  /** The payer: the owner, whose tokens the deposit is. */
  account?: Account | Address;
}

/** Opens a channel to `payee`, its deposit pulled with a permit: one signature, one transaction. */
export async function openChannel(client: TabulaClient, parameters: OpenChannelParameters): Promise<Hash> {
  const contract = deployedContract(client.chain, "BandwidthChannel");
  const account = parameters.account ?? client.account;
  if (!account) throw new NoAccountError({ action: "Opening a payment channel" });
  const permit = await signPermit(client, {
    spender: contract.address,
    value: parameters.deposit,
    deadline: parameters.deadline,
    account,
  });
  return await writeTabula(client, {
    contract: "BandwidthChannel",
    functionName: "openWithPermit",
    args: [
      parameters.payee,
      parameters.payerSigner,
      parameters.deposit,
      parameters.pricePerMB,
      parameters.lossToleranceBytes,
      { value: parameters.deposit, deadline: parameters.deadline, v: permit.v, r: permit.r, s: permit.s },
    ],
    account,
    errors: bandwidthErrors,
  });
}

/** One channel of a batch: the terms of {@link openChannel} without the permit. */
export type ChannelOpening = Omit<OpenChannelParameters, "deadline" | "account">;

/** `BandwidthChannel.MAX_BATCH_OPENINGS`: most channels one batch opens. */
export const MAX_BATCH_OPENINGS = 32;

/**
 * Opens every channel of `openings` (at most {@link MAX_BATCH_OPENINGS}) in one transaction, their deposits pulled
 * with one permit for the sum: one signature, one transaction.
 */
export async function openChannels(
  client: TabulaClient,
  parameters: { openings: readonly ChannelOpening[]; deadline: bigint; account?: Account | Address },
): Promise<Hash> {
  const contract = deployedContract(client.chain, "BandwidthChannel");
  const account = parameters.account ?? client.account;
  if (!account) throw new NoAccountError({ action: "Opening payment channels" });
  const value = parameters.openings.reduce((sum, opening) => sum + opening.deposit, 0n);
  const permit = await signPermit(client, { spender: contract.address, value, deadline: parameters.deadline, account });
  return await writeTabula(client, {
    contract: "BandwidthChannel",
    functionName: "openBatchWithPermit",
    args: [
      parameters.openings.map(({ payee, payerSigner, deposit, pricePerMB, lossToleranceBytes }) => ({
        payee,
        payerSigner,
        deposit,
        pricePerMB,
        lossToleranceBytes,
      })),
      { value, deadline: parameters.deadline, v: permit.v, r: permit.r, s: permit.s },
    ],
    account,
    errors: bandwidthErrors,
  });
}

/** The ids of the channels an `open…` transaction opened, in order. */
export function openedChannelIds(client: TabulaClient, receipt: TransactionReceipt): bigint[] {
  const contract = deployedContract(client.chain, "BandwidthChannel");
  return parseEventLogs({ abi: contract.abi, logs: receipt.logs, eventName: "ChannelOpened" }).map(
    (opened) => opened.args.channelId,
  );
}

/** The id of the channel an `open…` transaction opened. */
export function openedChannelId(client: TabulaClient, receipt: TransactionReceipt): bigint {
  const contract = deployedContract(client.chain, "BandwidthChannel");
  const [opened] = parseEventLogs({ abi: contract.abi, logs: receipt.logs, eventName: "ChannelOpened" });
  if (!opened) throw new Error(`transaction ${receipt.transactionHash} opened no channel`);
  return opened.args.channelId;
}
