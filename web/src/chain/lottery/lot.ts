import type { Address, ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import type { LotState } from "../../lib/payments/lottery.ts";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

export type GetLotErrorType = ReadContractErrorType;

/** Reads lot `lotId` with the key bound to sign its tickets (status None: no such lot). */
export async function getLot(client: TabulaClient, parameters: { lotId: bigint }): Promise<LotState> {
  const contract = deployedContract(client.chain, "Lottery");
  const read = { address: contract.address, abi: contract.abi, args: [parameters.lotId] } as const;
  const [lot, signer] = await Promise.all([
    readContract(client, { ...read, functionName: "getLot" }),
    readContract(client, { ...read, functionName: "signerOf" }),
  ]);
  return {
    payer: lot.payer,
    lotSize: Number(lot.lotSize),
    winningIndex: Number(lot.winningIndex),
    status: Number(lot.status),
    revealed: lot.revealed,
    covered: Number(lot.covered),
    ticketValue: lot.ticketValue,
    closeBy: Number(lot.closeBy),
    closedAt: Number(lot.closedAt),
    seedBlock: Number(lot.seedBlock),
    signerKey: Number(lot.signerKey),
    signer,
    commitment: lot.commitment,
    registered: Number(lot.registered),
    withdrawn: Number(lot.withdrawn),
    coversPaid: Number(lot.coversPaid),
    robbed: Number(lot.robbed),
    robbedWithdrawn: Number(lot.robbedWithdrawn),
  };
}

/** Whether lot `lotId` holds an unused cover for `payee` (what a payee checks before it serves). */
export async function isLotCovered(client: TabulaClient, parameters: { lotId: bigint; payee: Address }) {
  const contract = deployedContract(client.chain, "Lottery");
  return await readContract(client, {
    address: contract.address,
    abi: contract.abi,
    functionName: "isCovered",
    args: [parameters.lotId, parameters.payee],
  });
}

/** The reveal, claim and sharing deadlines of a closed lot (unix s; zeros while it is open). */
export async function lotDeadlines(
  client: TabulaClient,
  parameters: { lotId: bigint },
): Promise<{ reveal: bigint; claim: bigint; share: bigint }> {
  const contract = deployedContract(client.chain, "Lottery");
  const [reveal, claim, share] = await readContract(client, {
    address: contract.address,
    abi: contract.abi,
    functionName: "deadlines",
    args: [parameters.lotId],
  });
  return { reveal, claim, share };
}

/** Tickets `payee` registered for sharing lot `lotId` and has not withdrawn yet. */
export async function lotRegisteredBy(client: TabulaClient, parameters: { lotId: bigint; payee: Address }) {
  const contract = deployedContract(client.chain, "Lottery");
  return await readContract(client, {
    address: contract.address,
    abi: contract.abi,
    functionName: "registeredBy",
    args: [parameters.lotId, parameters.payee],
  });
}
