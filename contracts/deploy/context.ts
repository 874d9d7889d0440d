import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  type Abi,
  type Account,
  type Address,
  type Chain,
  getContractAddress,
  type Hex,
  type PublicClient,
  type Transport,
  type WalletClient,
} from "viem";

/** What every deploy step gets: clients for the target chain, the deployer, and what earlier steps deployed. */
export interface DeployContext {
  publicClient: PublicClient<Transport, Chain>;
  walletClient: WalletClient<Transport, Chain, Account>;
  chainId: number;
  /** True on a local development chain (31337): enables the token faucet and funds test accounts. */
  local: boolean;
  /** Addresses deployed so far, by contract name. */
  deployed: Record<string, Address>;
  log: (line: string) => void;
}

interface Artifact {
  contractName: string;
  abi: Abi;
  bytecode: Hex;
}

const ARTIFACTS_DIR = join(import.meta.dirname, "..", "..", "artifacts", "contracts");

/** Reads a compiled contract from Hardhat's artifacts (`npx hardhat build` must have run). */
export async function readArtifact(name: string, sourceFile = `${name}.sol`): Promise<Artifact> {
  const raw = await readFile(join(ARTIFACTS_DIR, sourceFile, `${name}.json`), "utf8");
  return JSON.parse(raw) as Artifact;
}

/** Deploys `name` with constructor `args`, waits for the receipt, records and returns its address. */
export async function deployContract(
  ctx: DeployContext,
  name: string,
  args: readonly unknown[] = [],
  options: { sourceFile?: string; as?: string } = {},
): Promise<Address> {
  const artifact = await readArtifact(name, options.sourceFile);
  const hash = await ctx.walletClient.deployContract({ abi: artifact.abi, bytecode: artifact.bytecode, args });
  const receipt = await ctx.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success" || !receipt.contractAddress) {
    throw new Error(`deploying ${name} failed in transaction ${hash}`);
  }
  const key = options.as ?? name;
  ctx.deployed[key] = receipt.contractAddress;
  ctx.log(`${key.padEnd(20)} ${receipt.contractAddress}  (tx ${hash}, gas ${receipt.gasUsed})`);
  return receipt.contractAddress;
}

/** Sends a contract call from the deployer and waits for it to be mined. */
export async function send(
  ctx: DeployContext,
  address: Address,
  abi: Abi,
  functionName: string,
  args: readonly unknown[] = [],
): Promise<Hex> {
  const hash = await ctx.walletClient.writeContract({ address, abi, functionName, args });
  const receipt = await ctx.publicClient.waitForTransactionReceipt({ hash });
  if (receipt.status !== "success") throw new Error(`${functionName} failed in transaction ${hash}`);
  return hash;
}

/** The address the deployer's next contract creation will get. */
export async function nextAddress(ctx: DeployContext, offset = 0): Promise<Address> {
  const nonce = await ctx.publicClient.getTransactionCount({ address: ctx.walletClient.account.address });
  return getContractAddress({ from: ctx.walletClient.account.address, nonce: BigInt(nonce + offset) });
}
