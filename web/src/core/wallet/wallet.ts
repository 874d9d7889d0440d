import {
  type Config,
  type Connector,
  connect,
  disconnect,
  getConnection,
  getConnectorClient,
  signTypedData,
  switchChain,
  watchBlockNumber,
  watchConnection,
  watchConnectors,
} from "@wagmi/core";
import type { Account, Address, Hash, Hex } from "viem";
import { getBalance } from "viem/actions";
import { BURNER_CONNECTOR_ID } from "../../chain/burner.ts";
import type { TabulaChain } from "../../chain/chain.ts";
import { createTabulaClient, type TabulaClient } from "../../chain/client.ts";
import { balanceOf } from "../../chain/token/balance-of.ts";
import { userMessage } from "../../lib/errors.ts";
import { deadline } from "../../lib/signals.ts";
import { fundBurner } from "./fund-burner.ts";

/** EIP-6963 wallets announce themselves shortly after load; a remembered one is waited for this long. */
export const WALLET_ANNOUNCE_WAIT_MS = 1_000;
/** Where the last chosen wallet's connector id is remembered. */
export const WALLET_PREFERENCE_KEY = "tabula.wallet";

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

export type ConnectionStatus = "disconnected" | "connecting" | "connected" | "reconnecting";

/** What the wallet looks like now; replaced whole on every change. */
export interface WalletSnapshot {
  /** Wallets that can connect: EIP-6963 announcements and, on local chains, the burner. */
  choices: WalletChoice[];
  address?: Address;
  chainId?: number;
  status: ConnectionStatus;
  connectorId?: string;
  /** Connected, but to another chain than the one this site is configured for. */
  wrongChain: boolean;
  /** Balances in wei, read on connection and on every new block. */
  eth?: bigint;
  tokens?: bigint;
  /** What was sent to or from the account, newest first. */
  activity: Activity[];
  /** The last failure, as a sentence for the user. */
  error?: string;
  /** A connect, switch or disconnect is under way. */
  busy: boolean;
}

/** The EIP-712 message a wallet is asked to sign. */
export type TypedDataToSign = Parameters<typeof signTypedData>[1];

export interface WalletParameters {
  /** The wagmi config: the configured chain, its connectors (chain/wagmi.ts). */
  config: Config;
  chain: TabulaChain;
  /** Reads balances and funds the burner; a client over the chain's RPC URL when left out. */
  client?: TabulaClient;
  /** Remembers the chosen wallet; `localStorage` when there is one. */
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem">;
  now?: () => number;
}

/**
 * The user's account: which wallets can connect, connecting one (the burner is funded from the local chain right
 * after), asking a wallet on another chain to switch, balances that follow new blocks, and signing typed data.
 * Emits `change` whenever {@link Wallet.snapshot} changes.
 */
export class Wallet extends EventTarget {
  readonly chain: TabulaChain;
  #config: Config;
  #client: TabulaClient;
  #storage: WalletParameters["storage"];
  #now: () => number;
  #snapshot: WalletSnapshot = { choices: [], status: "disconnected", wrongChain: false, activity: [], busy: false };
  #unwatch: Array<() => void> = [];
  #stopped = new AbortController();

  constructor(parameters: WalletParameters) {
    super();
    this.#config = parameters.config;
    this.chain = parameters.chain;
    this.#client = parameters.client ?? createTabulaClient({ chain: parameters.chain });
    this.#storage = parameters.storage ?? (typeof localStorage === "undefined" ? undefined : localStorage);
    this.#now = parameters.now ?? Date.now;
    this.#onConnectors(this.#config.connectors);
    this.#unwatch.push(
      watchConnectors(this.#config, { onChange: (connectors) => this.#onConnectors(connectors) }),
      watchConnection(this.#config, {
        onChange: (connection) => {
          this.#update({
            address: connection.address,
            chainId: connection.chainId,
            status: connection.status,
            connectorId: connection.connector?.id,
          });
          void this.refresh();
        },
      }),
      watchBlockNumber(this.#config, { onBlockNumber: () => void this.refresh() }),
    );
  }

  get snapshot(): WalletSnapshot {
    return this.#snapshot;
  }

  /** Connects the wallet with id `id`; a burner is funded from the local chain right after. */
  async connect(id: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    const connector = this.#config.connectors.find((c) => c.id === id);
    if (!connector) return;
    await this.#run(async () => {
      // No chain is forced here: a wallet on another chain is connected as it is and asked to switch.
      await connect(this.#config, { connector });
      this.#storage?.setItem(WALLET_PREFERENCE_KEY, id);
      if (id === BURNER_CONNECTOR_ID) await this.#fundBurner(options.signal);
    });
  }

  /** Reconnects the wallet chosen last time; on local chains the burner is the default. */
  async restore(options: { signal?: AbortSignal } = {}): Promise<void> {
    const preferred =
      this.#storage?.getItem(WALLET_PREFERENCE_KEY) ?? (this.chain.local ? BURNER_CONNECTOR_ID : undefined);
    if (!preferred) return;
    if (await this.#announced(preferred, options.signal)) await this.connect(preferred, options);
  }

  /** Asks the connected wallet to move to the configured chain. */
  async switchChain(): Promise<void> {
    await this.#run(async () => {
      await switchChain(this.#config, { chainId: this.chain.id });
    });
  }

  async disconnect(): Promise<void> {
    await this.#run(async () => {
      await disconnect(this.#config);
      this.#storage?.removeItem(WALLET_PREFERENCE_KEY);
      this.#update({ eth: undefined, tokens: undefined });
    });
  }

  /** Re-reads the balances (also done on every new block). */
  async refresh(): Promise<void> {
    const { address, wrongChain } = this.#snapshot;
    if (!address || wrongChain) return;
    try {
      const [eth, tokens] = await Promise.all([
        getBalance(this.#client, { address }),
        this.chain.contracts.Token ? balanceOf(this.#client, { address }) : Promise.resolve(undefined),
      ]);
      if (address !== this.#snapshot.address) return;
      this.#update({ eth, tokens });
    } catch (error) {
      this.#update({
        error: `Balances could not be read from ${this.chain.rpcUrls.default.http[0]}: ${userMessage(error)}`,
      });
    }
  }

  /** Signs EIP-712 typed data with the connected account (e.g. the file-key vault's unlock message). */
  async signTypedData(typedData: TypedDataToSign): Promise<Hex> {
    return await signTypedData(this.#config, typedData);
  }

  /**
   * A client that sends transactions and signs as the connected account, through its wallet (each one a prompt in
   * an injected wallet, silent for the burner), on the configured chain.
   */
  async ownerClient(): Promise<TabulaClient<Account>> {
    const client = await getConnectorClient(this.#config, { chainId: this.chain.id });
    return client as unknown as TabulaClient<Account>;
  }

  /** Stops following connections and blocks, and aborts what waits. */
  stop(): void {
    this.#stopped.abort();
    for (const unwatch of this.#unwatch.splice(0)) unwatch();
  }

  #onConnectors(connectors: readonly Connector[]): void {
    this.#update({
      choices: connectors.map((c) => ({
        id: c.id,
        name: c.name,
        ...(c.icon ? { icon: c.icon } : {}),
        kind: c.id === BURNER_CONNECTOR_ID ? "burner" : "injected",
      })),
    });
  }

  /** Whether connector `id` is there now or announces itself within {@link WALLET_ANNOUNCE_WAIT_MS}. */
  async #announced(id: string, signal?: AbortSignal): Promise<boolean> {
    const has = (connectors: readonly Connector[]) => connectors.some((c) => c.id === id);
    if (has(this.#config.connectors)) return true;
    const outer = signal ? AbortSignal.any([signal, this.#stopped.signal]) : this.#stopped.signal;
    const wait = deadline(WALLET_ANNOUNCE_WAIT_MS, () => new Error(`wallet ${id} did not announce itself`), outer);
    try {
      return await new Promise<boolean>((resolve, reject) => {
        const unwatch = watchConnectors(this.#config, {
          onChange: (connectors) => {
            if (!has(connectors)) return;
            unwatch();
            resolve(true);
          },
        });
        wait.signal.addEventListener(
          "abort",
          () => {
            unwatch();
            if (outer.aborted) reject(outer.reason);
            else resolve(false);
          },
          { once: true },
        );
      });
    } finally {
      wait.clear();
    }
  }

  async #fundBurner(signal?: AbortSignal): Promise<void> {
    const address = getConnection(this.#config).address;
    if (!address) return;
    const funded = await fundBurner(this.#client, { account: address, ...(signal ? { signal } : {}) });
    if (funded?.fundings.length) {
      const at = this.#now();
      this.#update({
        activity: [...funded.fundings.map((f) => ({ at, text: f.text, tx: f.tx })), ...this.#snapshot.activity],
      });
    }
    await this.refresh();
  }

  async #run(action: () => Promise<void>): Promise<void> {
    this.#update({ busy: true, error: undefined });
    try {
      await action();
    } catch (error) {
      this.#update({ error: userMessage(error) });
    } finally {
      this.#update({ busy: false });
    }
  }

  #update(patch: Partial<WalletSnapshot>): void {
    const next = { ...this.#snapshot, ...patch };
    next.wrongChain = next.status === "connected" && next.chainId !== undefined && next.chainId !== this.chain.id;
    for (const key of Object.keys(next) as (keyof WalletSnapshot)[]) if (next[key] === undefined) delete next[key];
    this.#snapshot = next;
    this.dispatchEvent(new Event("change"));
  }
}
