import { type Config, createConfig, createStorage, http, noopStorage } from "@wagmi/core";
import type { Chain, LocalAccount } from "viem";
import { burnerConnector } from "./burner.ts";

/** Blocks are polled this often on local chains (which mine on demand), so balances follow transactions quickly. */
export const LOCAL_POLLING_INTERVAL_MS = 1_000;

/**
 * The wagmi config: the configured chain only, every injected wallet that announces itself through EIP-6963, and on
 * local chains the tab's burner account.
 */
export function createWagmiConfig(parameters: { chain: Chain; local: boolean; burner?: LocalAccount }): Config {
  const { chain, local, burner } = parameters;
  return createConfig({
    chains: [chain],
    connectors: burner ? [burnerConnector({ account: burner, chain })] : [],
    multiInjectedProviderDiscovery: true,
    transports: { [chain.id]: http(chain.rpcUrls.default.http[0]) },
    storage: createStorage({
      storage: typeof localStorage === "undefined" ? noopStorage : localStorage,
      key: "tabula.wagmi",
    }),
    ...(local ? { pollingInterval: LOCAL_POLLING_INTERVAL_MS } : {}),
  });
}
