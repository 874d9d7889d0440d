import type { Address, Hash } from "viem";
import type { PaymentScheme } from "../../p2p/protocols/pay/index.ts";
import type { PayerGate } from "../../p2p/protocols/transfer/index.ts";

/** One receiver's payment as its payee sees it, live, whatever the scheme. */
export interface PayeeView {
  scheme: PaymentScheme;
  /** The channel's id (a bytes32 id as its number). */
  channelId: bigint;
  payer: Address;
  /** Bytes sent, bytes paid for, and what those earn. */
  sentBytes: bigint;
  paidBytes: bigint;
  earned: bigint;
  pricePerMB: bigint;
  deposit: bigint;
}

/** One payment as its payer sees it, live, whatever the scheme. */
export interface PayerView {
  scheme: PaymentScheme;
  channelId: bigint;
  payee: Address;
  deposit: bigint;
  pricePerMB: bigint;
  /** Bytes received, bytes paid for, and what those cost. */
  receivedBytes: bigint;
  paidBytes: bigint;
  paid: bigint;
  openTx: Hash;
}

/** What pays for one offer: the gate of each session, and where the payment stands. */
export interface SchemePayer {
  gate(): PayerGate;
  readonly view: PayerView;
  /** The transfer it paid for is over (done, failed or stopped): what it locked may be settled. */
  end?(): void;
}
