import { type Account, type Address, bytesToHex, type Hash } from "viem";
import { LEAF_SIZE_BYTES } from "../../lib/constants.ts";
import type { TabulaClient } from "../client.ts";
import { AuditWindowClosedError, InvalidAuditProofError } from "./errors.ts";
import { notOperator } from "./revert-mappers.ts";
import { writeMarket } from "./write-market.ts";

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
