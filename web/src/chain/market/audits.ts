import { type Account, type Address, bytesToHex, type Hash, type ReadContractErrorType } from "viem";
import { readContract } from "viem/actions";
import { LEAF_SIZE_BYTES } from "../../lib/constants.ts";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { AuditSeedExpiredError, AuditWindowClosedError, InvalidAuditProofError, NotOperatorError } from "./errors.ts";
import { type RevertMappers, writeMarket } from "./write-market.ts";

const notOperator: RevertMappers = {
  StorageMarketNotOperator: ([owner, account, role], cause) =>
    new NotOperatorError({ owner: owner as Address, account: account as Address, role: Number(role), cause }),
};

export interface ChallengeParameters {
  dealIds: readonly bigint[];
  /** Whose allowance pays each deal's challenge bond: the sender, or the owner whose client operator it is. */
  bondPayer: Address;
  account?: Account | Address;
}

/**
 * Challenges deals (usually all of a file's) in one transaction, each bond pulled from `bondPayer`'s allowance to
 * the market (the client's audit budget). The audited leaf is drawn from the next block's hash: fix it with
 * {@link fixAuditSeeds} once that block is mined.
 */
export async function challengeDeals(client: TabulaClient, parameters: ChallengeParameters): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "challenge",
    args: [parameters.dealIds, parameters.bondPayer],
    account: parameters.account,
    errors: notOperator,
  });
}

/** Fixes the seeds of challenged deals (their seed block must be mined), which starts each host's answer window. */
export async function fixAuditSeeds(
  client: TabulaClient,
  parameters: { dealIds: readonly bigint[]; account?: Account | Address },
): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "fixAuditSeeds",
    args: [parameters.dealIds],
    account: parameters.account,
    // Runs in the block after the seed block: simulate on top of the latest one.
    pending: true,
    errors: {
      StorageMarketAuditSeedExpired: ([dealId, seedBlock], cause) =>
        new AuditSeedExpiredError({ dealId: dealId as bigint, seedBlock: seedBlock as bigint, cause }),
    },
  });
}

/** A deal's open audit as its host's tab needs it. */
export interface OpenAudit {
  dealId: bigint;
  /** The owner whose allowance put up the bond. */
  challenger: Address;
  seedBlock: bigint;
  /** Unix time the answer window closes; zero until the seed is fixed. */
  deadline: bigint;
  /** The chunk the host must prove. */
  leafIndex: bigint;
}

/** The deal's open audit, or undefined when none is open. */
export async function openAudit(client: TabulaClient, dealId: bigint): Promise<OpenAudit | undefined> {
  const market = deployedContract(client.chain, "StorageMarket");
  const info = await readContract(client, {
    address: market.address,
    abi: market.abi,
    functionName: "auditInfo",
    args: [dealId],
  });
  if (info.challenger === "0x0000000000000000000000000000000000000000") return undefined;
  const leafIndex = await readContract(client, {
    address: market.address,
    abi: market.abi,
    functionName: "auditLeafIndex",
    args: [dealId],
    blockTag: "pending",
  });
  return { dealId, challenger: info.challenger, seedBlock: info.seedBlock, deadline: info.deadline, leafIndex };
}

export type OpenAuditErrorType = ReadContractErrorType;

export interface AnswerAuditParameters {
  dealId: bigint;
  /** Chunk {@link OpenAudit.leafIndex} of the shard, at most {@link LEAF_SIZE_BYTES} bytes (zero-padded here). */
  chunk: Uint8Array;
  /** Its sibling hashes from the leaf up to the shard root. */
  proof: readonly Uint8Array[];
  /** The host or its host operator key. */
  account?: Account | Address;
}

/** Answers an audit with the challenged chunk and its proof; the host is paid up to now and receives the bond. */
export async function answerAudit(client: TabulaClient, parameters: AnswerAuditParameters): Promise<Hash> {
  if (parameters.chunk.length > LEAF_SIZE_BYTES) {
    throw new RangeError(`an audit chunk is at most ${LEAF_SIZE_BYTES} bytes, not ${parameters.chunk.length}`);
  }
  const leaf = new Uint8Array(LEAF_SIZE_BYTES);
  leaf.set(parameters.chunk);
  return await writeMarket(client, {
    functionName: "answerAudit",
    args: [parameters.dealId, bytesToHex(leaf), parameters.proof.map((node) => bytesToHex(node))],
    account: parameters.account,
    pending: true,
    errors: {
      ...notOperator,
      StorageMarketAuditWindowClosed: ([dealId, deadline], cause) =>
        new AuditWindowClosedError({ dealId: dealId as bigint, deadline: deadline as bigint, cause }),
      StorageMarketInvalidProof: ([dealId, leafIndex], cause) =>
        new InvalidAuditProofError({ dealId: dealId as bigint, leafIndex: leafIndex as bigint, cause }),
    },
  });
}

/** After a missed window (anyone may send it): the collateral and unproven escrow go to the client. */
export async function finalizeMissedAudit(
  client: TabulaClient,
  parameters: { dealId: bigint; account?: Account | Address },
): Promise<Hash> {
  return await writeMarket(client, {
    functionName: "finalizeMissedAudit",
    args: [parameters.dealId],
    account: parameters.account,
  });
}
