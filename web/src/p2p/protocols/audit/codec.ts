import type { CID } from "multiformats/cid";
import { checkBytes, decodeMessage, encodeMessage } from "../common/codec.ts";
import { MalformedMessageError } from "../common/errors.ts";
import { type ErrorMessage, errorFields, readError } from "../common/messages.ts";
import { MAX_SHARD_INDEX } from "../shard-store/constants.ts";
import { AUDIT_PROTOCOL, MAX_LEAF_BYTES, MAX_PROOF_NODES } from "./constants.ts";

/** Prove leaf `leafIndex` of shard `shardIndex` of the file whose manifest is `manifest`. */
export interface ChallengeMessage {
  type: "challenge";
  manifest: CID;
  shardIndex: number;
  leafIndex: number;
}

/** The leaf's bytes and its Merkle path (siblings, leaf to root). */
export interface ProofMessage {
  type: "proof";
  leaf: Uint8Array;
  proof: Uint8Array[];
}

export type AuditorMessage = ChallengeMessage;
export type HostMessage = ProofMessage | ErrorMessage;

export function encodeAuditorMessage(message: AuditorMessage): Uint8Array {
  return encodeMessage({
    t: "challenge",
    manifest: message.manifest,
    shard: message.shardIndex,
    leaf: message.leafIndex,
  });
}

export function encodeHostMessage(message: HostMessage): Uint8Array {
  switch (message.type) {
    case "proof":
      return encodeMessage({ t: "proof", leaf: message.leaf, path: message.proof });
    case "error":
      return encodeMessage(errorFields(message.code, message.message));
  }
}

export function decodeAuditorMessage(bytes: Uint8Array): AuditorMessage {
  const { type, fields } = decodeMessage(AUDIT_PROTOCOL, bytes);
  if (type !== "challenge") throw new MalformedMessageError(AUDIT_PROTOCOL, `unknown auditor message type "${type}"`);
  const message: ChallengeMessage = {
    type: "challenge",
    manifest: fields.cid("manifest"),
    shardIndex: fields.uint("shard", MAX_SHARD_INDEX),
    leafIndex: fields.uint("leaf"),
  };
  fields.end();
  return message;
}

export function decodeHostMessage(bytes: Uint8Array): HostMessage {
  const { type, fields } = decodeMessage(AUDIT_PROTOCOL, bytes);
  switch (type) {
    case "proof": {
      const message: ProofMessage = {
        type: "proof",
        leaf: fields.bytes("leaf", { min: 1, max: MAX_LEAF_BYTES }),
        proof: fields.list("path", { max: MAX_PROOF_NODES }, (value, fail) =>
          checkBytes(value, { min: 32, max: 32 }, fail),
        ),
      };
      fields.end();
      return message;
    }
    case "error":
      return readError(fields);
    default:
      throw new MalformedMessageError(AUDIT_PROTOCOL, `unknown host message type "${type}"`);
  }
}
