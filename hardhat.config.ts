import { createRequire } from "node:module";
import hardhatToolboxViem from "@nomicfoundation/hardhat-toolbox-viem";
import { defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);
// The solc-js compiler comes from the exact-pinned npm package, so nothing is downloaded.
const solcVersion: string = require("solc/package.json").version;

export default defineConfig({
  plugins: [hardhatToolboxViem],
  solidity: {
    profiles: {
      default: {
        compilers: [
          {
            version: solcVersion,
            path: require.resolve("solc/soljson.js"),
            settings: { evmVersion: "cancun", optimizer: { enabled: true, runs: 10_000 } },
          },
        ],
        // The market is the largest contract: at 10,000 runs its code passes EIP-170's 24,576 bytes, at 200 it
        // fits (scripts/abi.ts fails the build on any contract over the limit).
        overrides: {
          "contracts/StorageMarket.sol": {
            version: solcVersion,
            path: require.resolve("solc/soljson.js"),
            settings: { evmVersion: "cancun", optimizer: { enabled: true, runs: 200 } },
          },
        },
      },
    },
  },
  paths: {
    sources: "contracts",
    tests: { solidity: "contracts/test", nodejs: "contracts/test" },
  },
  networks: {
    localhost: { type: "http", chainType: "l1", url: process.env.TABULA_RPC_URL ?? "http://127.0.0.1:8545" },
  },
});
