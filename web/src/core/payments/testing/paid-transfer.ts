/**
 * What the tests of paid transfers share: a real chain with the payment contracts, two funded owners with their
 * operator keys, two libp2p nodes that run the transfer protocol, and each side's payments.
 */
import type { Libp2p } from "@libp2p/interface";
import type { Address } from "viem";
import { generatePrivateKey, type PrivateKeyAccount, privateKeyToAccount } from "viem/accounts";
import type { TabulaClient } from "../../../chain/client.ts";
import { startTestChain, type TestChain } from "../../../chain/testing/hardhat.ts";
import { balanceOf } from "../../../chain/token/balance-of.ts";
import { type Transfer, type TransferSink, transfer } from "../../../p2p/protocols/transfer/index.ts";
import { createTcpNode } from "../../../p2p/testing/tcp-node.ts";
import { type ChannelStore, TransferPayments } from "../transfer-payments.ts";

export type TransferNode = Libp2p<{ transfer: Transfer }>;

export interface PaidTransferFixture {
  chain: TestChain;
  sender: TransferNode;
  receiver: TransferNode;
  /** The owners paid and paying, and the operator keys their tabs sign with. */
  payee: PrivateKeyAccount;
  payer: PrivateKeyAccount;
  payeeKey: PrivateKeyAccount;
  payerKey: PrivateKeyAccount;
  payments(owner: PrivateKeyAccount, key: PrivateKeyAccount, options?: PaymentsOptions): TransferPayments;
  balances(...addresses: Address[]): Promise<bigint[]>;
  close(): Promise<void>;
}

/** How a side's payments differ from the default. */
export interface PaymentsOptions {
  paymentTimeoutMs?: number;
  store?: ChannelStore;
  lotTickets?: number;
  routeResumeMs?: number;
  /** What the side reads the chain through (default: a plain client of the test chain). */
  reader?: TabulaClient;
}

export async function startPaidTransfers(): Promise<PaidTransferFixture> {
  const chain = await startTestChain({ channels: true, http: true });
  const [payee, payer, payeeKey, payerKey] = [0, 1, 2, 3].map(() => privateKeyToAccount(generatePrivateKey())) as [
    PrivateKeyAccount,
    PrivateKeyAccount,
    PrivateKeyAccount,
    PrivateKeyAccount,
  ];
  await chain.fund([payee.address, payer.address]);
  const sender = await createTcpNode({ transfer: transfer() });
  const receiver = await createTcpNode({ transfer: transfer() });
  await receiver.dial(sender.getMultiaddrs());
  return {
    chain,
    sender,
    receiver,
    payee,
    payer,
    payeeKey,
    payerKey,
    payments: (owner, key, options = {}) =>
      new TransferPayments({
        reader: options.reader ?? chain.client(),
        owner: async () => chain.client(owner) as TabulaClient<PrivateKeyAccount>,
        operatorKey: async () => key,
        ...(options.paymentTimeoutMs ? { paymentTimeoutMs: options.paymentTimeoutMs } : {}),
        ...(options.store ? { store: options.store } : {}),
        ...(options.lotTickets ? { lotTickets: options.lotTickets } : {}),
        ...(options.routeResumeMs ? { routeResumeMs: options.routeResumeMs } : {}),
      }),
    balances: async (...addresses) =>
      await Promise.all(addresses.map((address) => balanceOf(chain.client(), { address }))),
    close: async () => {
      await Promise.all([sender.stop(), receiver.stop()]);
      await chain.close();
    },
  };
}

/** A sink that keeps the received bytes in memory. */
export function memorySink(size: number): TransferSink & { bytes: Uint8Array<ArrayBuffer> } {
  const bytes = new Uint8Array(size);
  return { bytes, write: async (_file, offset, chunk) => void bytes.set(chunk, offset) };
}
