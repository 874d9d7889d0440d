import {
  type Account,
  type Address,
  type Hex,
  parseSignature,
  type ReadContractErrorType,
  type SignTypedDataErrorType,
} from "viem";
import { readContract, signTypedData } from "viem/actions";
import { type DeployedContractErrorType, deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";
import { NoAccountError } from "../errors.ts";

/** EIP-2612's `Permit` struct, as the token's `permit` checks it. */
export const PERMIT_TYPES = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

export interface SignPermitParameters {
  /** Who may spend the owner's tokens once the permit is submitted. */
  spender: Address;
  /** Token base units the spender may move. */
  value: bigint;
  /** Unix time (seconds) after which the permit is void. */
  deadline: bigint;
  /** The owner, who signs; the client's account when left out. */
  account?: Account | Address;
  /** The owner's permit nonce; read from the token when left out. */
  nonce?: bigint;
}

/** The signature, whole and split into the `v, r, s` that `permit` (and `…WithPermit` calls) take. */
export interface SignPermitReturnType {
  signature: Hex;
  v: number;
  r: Hex;
  s: Hex;
  nonce: bigint;
}

export type SignPermitErrorType =
  | DeployedContractErrorType
  | NoAccountError
  | ReadContractErrorType
  | SignTypedDataErrorType;

/** Signs an EIP-2612 permit for the token, in the domain the token reports (ERC-5267), so no approval is sent. */
export async function signPermit(
  client: TabulaClient,
  parameters: SignPermitParameters,
): Promise<SignPermitReturnType> {
  const token = deployedContract(client.chain, "Token");
  const account = parameters.account ?? client.account;
  if (!account) throw new NoAccountError({ action: "Signing a permit" });
  const owner = typeof account === "string" ? account : account.address;
  const [[, name, version, chainId, verifyingContract], nonce] = await Promise.all([
    readContract(client, { address: token.address, abi: token.abi, functionName: "eip712Domain" }),
    parameters.nonce ??
      readContract(client, { address: token.address, abi: token.abi, functionName: "nonces", args: [owner] }),
  ]);
  const signature = await signTypedData(client, {
    account,
    domain: { name, version, chainId, verifyingContract },
    types: PERMIT_TYPES,
    primaryType: "Permit",
    message: { owner, spender: parameters.spender, value: parameters.value, nonce, deadline: parameters.deadline },
  });
  const { r, s, v, yParity } = parseSignature(signature);
  return { signature, r, s, v: v === undefined ? yParity + 27 : Number(v), nonce };
}
