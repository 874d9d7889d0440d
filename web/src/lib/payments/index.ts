/** Off-chain halves of the payment contracts: sign, verify and track state for each scheme. */
export * from "./bandwidth.ts";
export * from "./eip712.ts";
export * from "./errors.ts";
export * from "./hashchain.ts";
export * from "./lottery.ts";
export * from "./merkle.ts";
export * from "./types.ts";
