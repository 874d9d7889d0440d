/**
 * `npm run deploy -- --rpc <url> [--out public/deployments.json]`: deploys every Tabula contract to any EVM chain
 * and merges the addresses into the deployments file the app reads. The deployer is $DEPLOYER_PRIVATE_KEY, or on
 * a development node without one, its first unlocked account.
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Account, Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { deployAll } from "../contracts/deploy/index.ts";
import { devAccounts } from "./lib/chain.ts";
import { compileContracts } from "./lib/stack.ts";

const { values } = parseArgs({
  options: {
    rpc: { type: "string", default: process.env.TABULA_RPC_URL ?? "http://127.0.0.1:8545" },
    out: { type: "string", default: join(import.meta.dirname, "..", "public", "deployments.json") },
  },
});

let account: Account;
const key = process.env.DEPLOYER_PRIVATE_KEY;
if (key) {
  if (!/^0x[0-9a-fA-F]{64}$/.test(key)) {
    console.error("deploy: DEPLOYER_PRIVATE_KEY must be a 0x-prefixed 32-byte hex key");
    process.exit(1);
  }
  account = privateKeyToAccount(key as Hex);
} else {
  const [first] = await devAccounts(values.rpc).catch(() => [] as `0x${string}`[]);
  if (!first) {
    console.error(`deploy: set DEPLOYER_PRIVATE_KEY; ${values.rpc} has no unlocked account to deploy from`);
    process.exit(1);
  }
  account = { address: first, type: "json-rpc" };
}

await compileContracts();
const { chainId } = await deployAll({ rpcUrl: values.rpc, account, deploymentsFile: values.out });
console.log(`deployments for chain ${chainId} written to ${values.out}`);
