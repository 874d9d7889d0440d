import { createConnector } from "@wagmi/core";
import {
  type Chain,
  createWalletClient,
  type EIP1193RequestFn,
  getAddress,
  type Hex,
  hexToBigInt,
  http,
  type LocalAccount,
  numberToHex,
  ProviderRpcError,
} from "viem";

/**
 * An EIP-1193 provider for an account whose key lives in this tab: signing happens here, everything else goes to
 * the chain's RPC. It lets the rest of the app use one code path (wagmi actions) for burner and injected wallets.
 */
export function burnerProvider(account: LocalAccount, chain: Chain): { request: EIP1193RequestFn } {
  const transport = http(chain.rpcUrls.default.http[0])({ chain, retryCount: 0 });
  const wallet = createWalletClient({ account, chain, transport: http(chain.rpcUrls.default.http[0]) });
  const request = async ({ method, params }: { method: string; params?: unknown }): Promise<unknown> => {
    const args = (params ?? []) as unknown[];
    switch (method) {
      case "eth_chainId":
        return numberToHex(chain.id);
      case "eth_accounts":
      case "eth_requestAccounts":
        return [account.address];
      case "personal_sign":
        return await account.signMessage({ message: { raw: args[0] as Hex } });
      case "eth_signTypedData_v4": {
        const typed = typeof args[1] === "string" ? JSON.parse(args[1]) : args[1];
        return await account.signTypedData(typed);
      }
      case "wallet_switchEthereumChain": {
        const wanted = Number((args[0] as { chainId: Hex }).chainId);
        if (wanted !== chain.id)
          throw new ProviderRpcError(new Error("unsupported chain"), {
            code: 4902,
            shortMessage: `The burner account only exists on chain ${chain.id}.`,
          });
        return null;
      }
      case "eth_sendTransaction": {
        const tx = args[0] as { to?: Hex; data?: Hex; value?: Hex; gas?: Hex; nonce?: Hex };
        return await wallet.sendTransaction({
          to: tx.to ?? null,
          ...(tx.data ? { data: tx.data } : {}),
          ...(tx.value ? { value: hexToBigInt(tx.value) } : {}),
          ...(tx.gas ? { gas: hexToBigInt(tx.gas) } : {}),
          ...(tx.nonce ? { nonce: Number(tx.nonce) } : {}),
        } as Parameters<typeof wallet.sendTransaction>[0]);
      }
      default:
        return await transport.request({ method, params } as never);
    }
  };
  return { request: request as EIP1193RequestFn };
}

export const BURNER_CONNECTOR_ID = "tabula-burner";

/** A wagmi connector for the tab's burner account (local development chains only). */
export function burnerConnector(parameters: { account: LocalAccount; chain: Chain }) {
  const provider = burnerProvider(parameters.account, parameters.chain);
  let connected = false;
  return createConnector<typeof provider>((config) => ({
    id: BURNER_CONNECTOR_ID,
    name: "Burner account (this tab)",
    type: "burner",
    async connect<withCapabilities extends boolean = false>() {
      connected = true;
      const accounts = [getAddress(parameters.account.address)];
      return { accounts, chainId: parameters.chain.id } as never as {
        accounts: withCapabilities extends true ? never : readonly `0x${string}`[];
        chainId: number;
      };
    },
    async disconnect() {
      connected = false;
    },
    async getAccounts() {
      return connected ? [getAddress(parameters.account.address)] : [];
    },
    async getChainId() {
      return parameters.chain.id;
    },
    async getProvider() {
      return provider;
    },
    async isAuthorized() {
      return connected;
    },
    onAccountsChanged() {},
    onChainChanged() {},
    onDisconnect() {
      connected = false;
      config.emitter.emit("disconnect");
    },
  }));
}
