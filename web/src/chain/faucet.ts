import { type Address, type Chain, createClient, encodeFunctionData, type Hash, http, parseEther } from "viem";
import { getBalance, readContract, waitForTransactionReceipt } from "viem/actions";
import { tokenAbi } from "./abi.ts";

/** A burner below this ETH balance is topped up on local chains. */
export const BURNER_MIN_ETH_WEI = parseEther("1");
export const BURNER_TOPUP_ETH_WEI = parseEther("10");
/** A burner below this token balance gets the faucet's grant. */
export const BURNER_MIN_TOKEN_WEI = parseEther("100");
export const BURNER_FAUCET_TOKEN_WEI = parseEther("1000");

export interface FundingResult {
  ethTx?: Hash;
  tokenTx?: Hash;
  /** The development account the funds came from. */
  funder?: Address;
}

/**
 * Funds a burner account on a local development chain: ETH from the chain's first unlocked account, tokens from the
 * token's faucet (called by that same account). Returns the transactions it sent; none when already funded.
 */
export async function fundBurner(parameters: {
  chain: Chain;
  token: Address;
  account: Address;
}): Promise<FundingResult> {
  const client = createClient({
    chain: parameters.chain,
    transport: http(parameters.chain.rpcUrls.default.http[0]),
    cacheTime: 0,
  });
  const [funder] = (await client.request({ method: "eth_accounts" })) as Address[];
  if (!funder) throw new Error("the local chain has no unlocked development account to fund the burner from");
  const result: FundingResult = { funder };
  const send = async (tx: { to: Address; value?: bigint; data?: `0x${string}` }): Promise<Hash> => {
    const hash = (await client.request({
      method: "eth_sendTransaction",
      params: [
        {
          from: funder,
          to: tx.to,
          ...(tx.value ? { value: `0x${tx.value.toString(16)}` } : {}),
          ...(tx.data ? { data: tx.data } : {}),
        },
      ],
    } as never)) as Hash;
    const receipt = await waitForTransactionReceipt(client, { hash });
    if (receipt.status !== "success") throw new Error(`funding transaction ${hash} reverted`);
    return hash;
  };
  if ((await getBalance(client, { address: parameters.account })) < BURNER_MIN_ETH_WEI) {
    result.ethTx = await send({ to: parameters.account, value: BURNER_TOPUP_ETH_WEI });
  }
  const tokens = await readContract(client, {
    address: parameters.token,
    abi: tokenAbi,
    functionName: "balanceOf",
    args: [parameters.account],
  });
  if (tokens < BURNER_MIN_TOKEN_WEI) {
    result.tokenTx = await send({
      to: parameters.token,
      data: encodeFunctionData({
        abi: tokenAbi,
        functionName: "faucet",
        args: [parameters.account, BURNER_FAUCET_TOKEN_WEI],
      }),
    });
  }
  return result;
}
