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
        version: solcVersion,
        path: require.resolve("solc/soljson.js"),
        settings: {
          evmVersion: "cancun",
          optimizer: { enabled: true, runs: 10_000 },
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
