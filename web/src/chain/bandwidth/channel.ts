import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** `IBandwidthChannel.Status`. */
export const ChannelStatus = {
  None: 0,
  Opened: 1,
  Active: 2,
  Closing: 3,
  Settled: 4,
  Reclaimed: 5,
} as const;

export type ChannelStatusName = keyof typeof ChannelStatus;

/** The name of a channel's status number ("None" for one the contract does not know). */
export function channelStatusName(status: number): ChannelStatusName {
  return (Object.keys(ChannelStatus) as ChannelStatusName[])[status] ?? "None";
}

/** A bandwidth channel as the contract keeps it (`getChannel`). */
export interface ChannelInfo {
  status: number;
  payer: Address;
  payee: Address;
  /** The keys bound to sign each side's units (zero payee key before the payee confirmed). */
  payerSigner: Address;
  payeeSigner: Address;
  deposit: bigint;
  pricePerMB: bigint;
  lossToleranceBytes: bigint;
  /** Confirmation deadline while Opened, end of the challenge window while Closing (unix s). */
  deadline: bigint;
  openedAt: bigint;
  agreedBytes: bigint;
  agreedSequence: bigint;
  payerBytes: bigint;
  payeeBytes: bigint;
}

export type GetChannelErrorType = ReadContractErrorType;

/** Reads channel `channelId` (status None when there is no such channel). */
export async function getChannel(
  client: TabulaClient,
  parameters: { channelId: bigint; blockNumber?: bigint },
): Promise<ChannelInfo> {
  const contract = deployedContract(client.chain, "BandwidthChannel");
  const c = await readContract(client, {
    address: contract.address,
    abi: contract.abi,
    functionName: "getChannel",
    args: [parameters.channelId],
    ...(parameters.blockNumber === undefined ? {} : { blockNumber: parameters.blockNumber }),
  });
  return {
    status: c.status,
    payer: c.payer,
    payee: c.payee,
    payerSigner: c.payerSigner,
    payeeSigner: c.payeeSigner,
    deposit: c.deposit,
    pricePerMB: c.pricePerMB,
    lossToleranceBytes: c.lossToleranceBytes,
    deadline: BigInt(c.deadline),
    openedAt: BigInt(c.openedAt),
    agreedBytes: c.agreedBytes,
    agreedSequence: c.agreedSequence,
    payerBytes: c.payerBytes,
    payeeBytes: c.payeeBytes,
  };
}
