import type { Address, Hash } from "viem";
import { getContractEvents } from "viem/actions";
import { deployedContract } from "../chain.ts";
import type { TabulaClient } from "../client.ts";

/** How a lot went, from its events: its close, its draw, the winner's pay, shares and the payer's refund. */
export interface LotOutcome {
  closed?: { hash: Hash };
  revealed?: { winningIndex: number; hash: Hash };
  won?: { payee: Address; amount: bigint; hash: Hash };
  shares: { payee: Address; amount: bigint; hash: Hash }[];
  finished?: { refunded: bigint; burned: bigint; hash: Hash };
}

/** The events of lot `lotId`. */
export async function lotOutcome(client: TabulaClient, parameters: { lotId: bigint }): Promise<LotOutcome> {
  const contract = deployedContract(client.chain, "Lottery");
  const common = {
    address: contract.address,
    abi: contract.abi,
    fromBlock: 0n,
    strict: true,
    args: { lotId: parameters.lotId },
  } as const;
  const [closed, revealed, won, shares, finished] = await Promise.all([
    getContractEvents(client, { ...common, eventName: "LotClosed" }),
    getContractEvents(client, { ...common, eventName: "LotRevealed" }),
    getContractEvents(client, { ...common, eventName: "WinnerPaid" }),
    getContractEvents(client, { ...common, eventName: "ShareWithdrawn" }),
    getContractEvents(client, { ...common, eventName: "LotFinished" }),
  ]);
  const [close] = closed;
  const [reveal] = revealed;
  const [win] = won;
  const [finish] = finished;
  return {
    ...(close ? { closed: { hash: close.transactionHash } } : {}),
    ...(reveal ? { revealed: { winningIndex: Number(reveal.args.winningIndex), hash: reveal.transactionHash } } : {}),
    ...(win ? { won: { payee: win.args.payee, amount: win.args.amount, hash: win.transactionHash } } : {}),
    shares: shares.map((e) => ({ payee: e.args.payee, amount: e.args.amount, hash: e.transactionHash })),
    ...(finish
      ? { finished: { refunded: finish.args.refunded, burned: finish.args.burned, hash: finish.transactionHash } }
      : {}),
  };
}

/** The transaction that pinned lot `lotId`'s seed, if one did. */
export async function lotSeedPin(client: TabulaClient, parameters: { lotId: bigint }): Promise<Hash | undefined> {
  const contract = deployedContract(client.chain, "Lottery");
  const [pinned] = await getContractEvents(client, {
    address: contract.address,
    abi: contract.abi,
    fromBlock: 0n,
    strict: true,
    args: { lotId: parameters.lotId },
    eventName: "SeedPinned",
  });
  return pinned?.transactionHash;
}
