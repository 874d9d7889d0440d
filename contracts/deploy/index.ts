import { mkdir, readFile, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import {
  type Account,
  type Address,
  type Chain,
  createPublicClient,
  createWalletClient,
  defineChain,
  http,
  type Transport,
} from "viem";
import type { DeployContext } from "./context.ts";
import { deployMarket } from "./market.ts";
import { deployOperators } from "./operators.ts";
import { deployPayments } from "./payments.ts";
import { deployToken } from "./token.ts";

/** The deploy steps, in order. Each adds its contracts to `ctx.deployed`. */
const STEPS: Array<(ctx: DeployContext) => Promise<void>> = [
  deployToken,
  deployOperators,
  deployMarket,
  deployPayments,
];

export const LOCAL_CHAIN_ID = 31337;

export interface DeployOptions {
  rpcUrl: string;
  account: Account;
  /** Where to merge this chain's addresses: `{ "<chainId>": { "<Contract>": "0x…" } }`. */
  deploymentsFile?: string;
  log?: (line: string) => void;
}

export type Deployments = Record<string, Record<string, Address>>;

/** Deploys every Tabula contract to the chain at `rpcUrl` and records the addresses. Works on any EVM chain. */
export async function deployAll(
  options: DeployOptions,
): Promise<{ chainId: number; contracts: Record<string, Address> }> {
  const log = options.log ?? ((line: string) => console.log(line));
  const probe = createPublicClient({ transport: http(options.rpcUrl) });
  const chainId = await probe.getChainId();
  const chain: Chain = defineChain({
    id: chainId,
    name: `chain ${chainId}`,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [options.rpcUrl] } },
  });
  const transport = http(options.rpcUrl);
  const ctx: DeployContext = {
    publicClient: createPublicClient({ chain, transport, cacheTime: 0 }) as DeployContext["publicClient"],
    walletClient: createWalletClient({ chain, transport, account: options.account }) as ReturnType<
      typeof createWalletClient<Transport, Chain, Account>
    >,
    chainId,
    local: chainId === LOCAL_CHAIN_ID,
    deployed: {},
    log,
  };
  log(`deploying to chain ${chainId} at ${options.rpcUrl} from ${options.account.address}`);
  for (const step of STEPS) await step(ctx);
  if (options.deploymentsFile) await recordDeployments(options.deploymentsFile, chainId, ctx.deployed);
  return { chainId, contracts: ctx.deployed };
}

async function recordDeployments(file: string, chainId: number, contracts: Record<string, Address>): Promise<void> {
  let all: Deployments = {};
  try {
    all = JSON.parse(await readFile(file, "utf8")) as Deployments;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  all[String(chainId)] = contracts;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(all, null, 2)}\n`);
}
