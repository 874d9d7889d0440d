import {
  type Config,
  type Connector,
  connect,
  disconnect,
  getBalance,
  getConnection,
  readContract,
  signTypedData,
  switchChain,
  watchBlockNumber,
  watchConnection,
  watchConnectors,
} from "@wagmi/core";
import type { Address, Chain, Hash, Hex } from "viem";
import { tokenAbi } from "../chain/abi.ts";
import { BURNER_CONNECTOR_ID } from "../chain/burner.ts";
import { fundBurner } from "../chain/faucet.ts";
import { userMessage } from "../lib/errors.ts";

export interface WalletChoice {
  id: string;
  name: string;
  icon?: string;
  kind: "burner" | "injected";
}

export interface Activity {
  at: number;
  text: string;
  tx?: Hash;
}

const PREFERENCE_KEY = "tabula.wallet";

/**
 * The connected wallet as the UI sees it: which wallets can connect (EIP-6963 announcements and, on local chains,
 * the burner), the account, whether it is on the right chain, its ETH and token balances, and what was sent.
 */
export class WalletState {
  readonly chain: Chain;
  readonly local: boolean;
  readonly tokenAddress: Address | undefined;
  #config: Config;
  #choices = $state.raw<WalletChoice[]>([]);
  #address = $state<Address | undefined>();
  #chainId = $state<number | undefined>();
  #status = $state<"disconnected" | "connecting" | "connected" | "reconnecting">("disconnected");
  #eth = $state<bigint | undefined>();
  #tokens = $state<bigint | undefined>();
  #activity = $state.raw<Activity[]>([]);
  #error = $state<string | undefined>();
  #busy = $state(false);

  constructor(parameters: { config: Config; chain: Chain; local: boolean; tokenAddress?: Address }) {
    this.#config = parameters.config;
    this.chain = parameters.chain;
    this.local = parameters.local;
    this.tokenAddress = parameters.tokenAddress;
    const onConnectors = (connectors: readonly Connector[]) => {
      this.#choices = connectors.map((c) => ({
        id: c.id,
        name: c.name,
        ...(c.icon ? { icon: c.icon } : {}),
        kind: c.id === BURNER_CONNECTOR_ID ? "burner" : "injected",
      }));
    };
    onConnectors(this.#config.connectors);
    watchConnectors(this.#config, { onChange: onConnectors });
    watchConnection(this.#config, {
      onChange: (connection) => {
        this.#address = connection.address;
        this.#chainId = connection.chainId;
        this.#status = connection.status;
        void this.refresh();
      },
    });
    watchBlockNumber(this.#config, { onBlockNumber: () => void this.refresh() });
  }

  get choices(): WalletChoice[] {
    return this.#choices;
  }
  get address(): Address | undefined {
    return this.#address;
  }
  get status() {
    return this.#status;
  }
  get chainId(): number | undefined {
    return this.#chainId;
  }
  /** Connected, but to another chain than the one this site is configured for. */
  get wrongChain(): boolean {
    return this.#status === "connected" && this.#chainId !== undefined && this.#chainId !== this.chain.id;
  }
  get eth(): bigint | undefined {
    return this.#eth;
  }
  get tokens(): bigint | undefined {
    return this.#tokens;
  }
  get activity(): Activity[] {
    return this.#activity;
  }
  get error(): string | undefined {
    return this.#error;
  }
  get busy(): boolean {
    return this.#busy;
  }
  get connectorId(): string | undefined {
    return getConnection(this.#config).connector?.id;
  }

  /** Connects the wallet with id `id`; a burner is funded from the local chain right after. */
  /** Signs EIP-712 typed data with the connected account (e.g. the file-key vault's unlock message). */
  async signTypedData(typedData: Parameters<typeof signTypedData>[1]): Promise<Hex> {
    return await signTypedData(this.#config, typedData);
  }

  async connect(id: string): Promise<void> {
    const connector = this.#config.connectors.find((c) => c.id === id);
    if (!connector) return;
    await this.#run(async () => {
      // No chain is forced here: a wallet on another chain is connected as it is and asked to switch.
      await connect(this.#config, { connector });
      localStorage.setItem(PREFERENCE_KEY, id);
      if (id === BURNER_CONNECTOR_ID) await this.#fundBurner();
    });
  }

  /** Reconnects the wallet chosen last time; on local chains the burner is the default. */
  async restore(): Promise<void> {
    const preferred = localStorage.getItem(PREFERENCE_KEY) ?? (this.local ? BURNER_CONNECTOR_ID : undefined);
    if (!preferred) return;
    // EIP-6963 wallets announce themselves shortly after load.
    for (let i = 0; i < 10 && !this.#config.connectors.some((c) => c.id === preferred); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (this.#config.connectors.some((c) => c.id === preferred)) await this.connect(preferred);
  }

  async switchChain(): Promise<void> {
    await this.#run(async () => {
      await switchChain(this.#config, { chainId: this.chain.id });
    });
  }

  async disconnect(): Promise<void> {
    await this.#run(async () => {
      await disconnect(this.#config);
      localStorage.removeItem(PREFERENCE_KEY);
      this.#eth = undefined;
      this.#tokens = undefined;
    });
  }

  /** Re-reads the balances (also called on every new block). */
  async refresh(): Promise<void> {
    const address = this.#address;
    if (!address || this.wrongChain) return;
    try {
      const [eth, tokens] = await Promise.all([
        getBalance(this.#config, { address, chainId: this.chain.id }),
        this.tokenAddress
          ? readContract(this.#config, {
              address: this.tokenAddress,
              abi: tokenAbi,
              functionName: "balanceOf",
              args: [address],
              chainId: this.chain.id,
            })
          : Promise.resolve(undefined),
      ]);
      if (address !== this.#address) return;
      this.#eth = eth.value;
      this.#tokens = tokens;
    } catch (error) {
      this.#error = `Balances could not be read from ${this.chain.rpcUrls.default.http[0]}: ${userMessage(error)}`;
    }
  }

  async #fundBurner(): Promise<void> {
    const address = getConnection(this.#config).address;
    if (!this.local || !this.tokenAddress || !address) return;
    const funded = await fundBurner({ chain: this.chain, token: this.tokenAddress, account: address });
    const log: Activity[] = [];
    if (funded.ethTx)
      log.push({ at: Date.now(), text: `Received 10 ETH from local account ${funded.funder}`, tx: funded.ethTx });
    if (funded.tokenTx)
      log.push({ at: Date.now(), text: "Received 1000 TAB from the local faucet", tx: funded.tokenTx });
    if (log.length) this.#activity = [...log, ...this.#activity];
    await this.refresh();
  }

  async #run(action: () => Promise<void>): Promise<void> {
    this.#busy = true;
    this.#error = undefined;
    try {
      await action();
    } catch (error) {
      this.#error = userMessage(error);
    } finally {
      this.#busy = false;
    }
  }
}
