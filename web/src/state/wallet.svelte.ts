import type {
  Activity,
  ConnectionStatus,
  TypedDataToSign,
  Wallet,
  WalletChoice,
  WalletSnapshot,
} from "../core/wallet/wallet.ts";

export type { Activity, WalletChoice };

/** What the mirror needs of the wallet service (core/wallet/wallet.ts). */
export type WalletService = Pick<
  Wallet,
  | "snapshot"
  | "connect"
  | "restore"
  | "switchChain"
  | "disconnect"
  | "refresh"
  | "signTypedData"
  | "addEventListener"
  | "removeEventListener"
> & { readonly chain: { id: number; name: string } };

/**
 * The connected wallet as the UI sees it: a reactive mirror of the wallet service's snapshot, replaced on each of
 * its `change` events; the verbs go to the service.
 */
export class WalletState {
  readonly chain: { id: number; name: string };
  #service: WalletService;
  #snapshot = $state.raw<WalletSnapshot>() as WalletSnapshot;
  #onChange = () => {
    this.#snapshot = this.#service.snapshot;
  };

  constructor(service: WalletService) {
    this.#service = service;
    this.chain = { id: service.chain.id, name: service.chain.name };
    this.#snapshot = service.snapshot;
    service.addEventListener("change", this.#onChange);
  }

  get choices(): WalletChoice[] {
    return this.#snapshot.choices;
  }
  get address(): `0x${string}` | undefined {
    return this.#snapshot.address;
  }
  get status(): ConnectionStatus {
    return this.#snapshot.status;
  }
  get chainId(): number | undefined {
    return this.#snapshot.chainId;
  }
  /** Connected, but to another chain than the one this site is configured for. */
  get wrongChain(): boolean {
    return this.#snapshot.wrongChain;
  }
  get eth(): bigint | undefined {
    return this.#snapshot.eth;
  }
  get tokens(): bigint | undefined {
    return this.#snapshot.tokens;
  }
  get activity(): Activity[] {
    return this.#snapshot.activity;
  }
  get error(): string | undefined {
    return this.#snapshot.error;
  }
  get busy(): boolean {
    return this.#snapshot.busy;
  }
  get connectorId(): string | undefined {
    return this.#snapshot.connectorId;
  }

  /** Signs EIP-712 typed data with the connected account (e.g. the file-key vault's unlock message). */
  signTypedData(typedData: TypedDataToSign): Promise<`0x${string}`> {
    return this.#service.signTypedData(typedData);
  }
  /** Connects the wallet with id `id`; a burner is funded from the local chain right after. */
  connect(id: string): Promise<void> {
    return this.#service.connect(id);
  }
  /** Reconnects the wallet chosen last time; on local chains the burner is the default. */
  restore(): Promise<void> {
    return this.#service.restore();
  }
  switchChain(): Promise<void> {
    return this.#service.switchChain();
  }
  disconnect(): Promise<void> {
    return this.#service.disconnect();
  }
  /** Re-reads the balances (the service also does on every new block). */
  refresh(): Promise<void> {
    return this.#service.refresh();
  }
  /** Stops mirroring the service. */
  detach(): void {
    this.#service.removeEventListener("change", this.#onChange);
  }
}
