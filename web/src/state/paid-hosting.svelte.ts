import type {
  PaidHosting,
  PaidHostingActivity,
  PaidHostingSnapshot,
  StartPaidHostingParameters,
} from "../core/hosting/paid-hosting.ts";

export type { PaidHostingActivity };

/** What the mirror needs of the paid-hosting service (core/hosting/paid-hosting.ts). */
export type PaidHostingService = Pick<
  PaidHosting,
  | "snapshot"
  | "start"
  | "addStake"
  | "unbond"
  | "withdraw"
  | "claimAll"
  | "fuelOperator"
  | "sync"
  | "addEventListener"
  | "removeEventListener"
>;

/** Paid hosting as the Share storage page sees it: a reactive mirror of the service's snapshot; verbs go through. */
export class PaidHostingState {
  #service: PaidHostingService;
  #snapshot = $state.raw<PaidHostingSnapshot>() as PaidHostingSnapshot;
  #onChange = () => {
    this.#snapshot = this.#service.snapshot;
  };

  constructor(service: PaidHostingService) {
    this.#service = service;
    this.#snapshot = service.snapshot;
    service.addEventListener("change", this.#onChange);
  }

  get snapshot(): PaidHostingSnapshot {
    return this.#snapshot;
  }
  start(parameters: StartPaidHostingParameters): Promise<void> {
    return this.#service.start(parameters);
  }
  addStake(amount: bigint): Promise<void> {
    return this.#service.addStake(amount);
  }
  unbond(amount: bigint): Promise<void> {
    return this.#service.unbond(amount);
  }
  withdraw(): Promise<void> {
    return this.#service.withdraw();
  }
  /** Claims every proven earning of the running deals in one transaction. */
  claimAll(): Promise<void> {
    return this.#service.claimAll();
  }
  /** Gives the tab's key ETH for its transactions. */
  fuelOperator(): Promise<void> {
    return this.#service.fuelOperator();
  }
  /** Re-reads the host's record (a failed read shows as the error). */
  sync(): Promise<void> {
    return this.#service.sync();
  }
  detach(): void {
    this.#service.removeEventListener("change", this.#onChange);
  }
}
