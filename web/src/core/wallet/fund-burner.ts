import { type Address, formatEther, type Hash } from "viem";
import { getBalance } from "viem/actions";
import type { TabulaClient } from "../../chain/client.ts";
import {
  BURNER_FAUCET_TOKEN_WEI,
  BURNER_MIN_ETH_WEI,
  BURNER_MIN_TOKEN_WEI,
  BURNER_TOP_UP_ETH_WEI,
} from "../../chain/constants.ts";
import { getDevAccount } from "../../chain/eth/dev-account.ts";
import { topUpSync } from "../../chain/eth/top-up.ts";
import { balanceOf } from "../../chain/token/balance-of.ts";
import { faucetSync } from "../../chain/token/faucet.ts";

/** One funding transaction, as the wallet's activity shows it. */
export interface Funding {
  text: string;
  tx: Hash;
}

export interface FundBurnerParameters {
  /** The burner account to fund. */
  account: Address;
  /** Stops waiting for the funding transactions' receipts. */
  signal?: AbortSignal;
}

export interface FundBurnerReturnType {
  /** The development account the funds came from. */
  funder: Address;
  /** The transactions sent, ETH first; none when the burner was already funded. */
  fundings: Funding[];
}

/**
 * Funds a burner account on a local development chain: ETH from the chain's first unlocked account when it runs
 * low, tokens from the token's faucet (called by that same account) when they run low. A chain without the token
 * gets neither: a burner there could not pay for anything.
 */
export async function fundBurner(
  client: TabulaClient,
  parameters: FundBurnerParameters,
): Promise<FundBurnerReturnType | undefined> {
  if (!client.chain.local || !client.chain.contracts.Token) return undefined;
  const { account, signal } = parameters;
  const funder = await getDevAccount(client);
  const fundings: Funding[] = [];
  if ((await getBalance(client, { address: account })) < BURNER_MIN_ETH_WEI) {
    const { receipt, transfer } = await topUpSync(client, {
      from: funder,
      to: account,
      value: BURNER_TOP_UP_ETH_WEI,
      ...(signal ? { signal } : {}),
    });
    fundings.push({
      text: `Received ${formatEther(transfer.value)} ETH from local account ${funder}`,
      tx: receipt.transactionHash,
    });
  }
  if ((await balanceOf(client, { address: account })) < BURNER_MIN_TOKEN_WEI) {
    const { receipt, event } = await faucetSync(client, {
      to: account,
      amount: BURNER_FAUCET_TOKEN_WEI,
      account: funder,
      ...(signal ? { signal } : {}),
    });
    fundings.push({
      text: `Received ${formatEther(event.args.value)} TAB from the local faucet`,
      tx: receipt.transactionHash,
    });
  }
  return { funder, fundings };
}
