import { type Chain, defineChain } from "viem";
import type { TabulaConfig } from "../lib/config.ts";

/** The viem chain described by the run-time config. */
export function chainFromConfig(config: TabulaConfig["chain"]): Chain {
  return defineChain({
    id: config.id,
    name: config.name,
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: [config.rpcUrl] } },
    ...(config.explorerUrl ? { blockExplorers: { default: { name: "Explorer", url: config.explorerUrl } } } : {}),
    testnet: config.local,
  });
}
