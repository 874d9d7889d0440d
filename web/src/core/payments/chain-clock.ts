import { getBlock } from "viem/actions";
import type { TabulaClient } from "../../chain/client.ts";
import type { UnixSeconds } from "../../lib/payments/types.ts";

/**
 * Seconds a unit's time stays behind the chain's clock: a unit stamped later than the block that closes with it
 * is refused, and blocks lag the wall clock by up to a block interval.
 */
export const UNIT_TIME_LAG_SECONDS = 30n;

/**
 * The chain's clock as this tab can follow it: the latest block's time plus the seconds passed since it was read,
 * held back by {@link UNIT_TIME_LAG_SECONDS} and never before `notBefore` (a channel's opening).
 */
export async function chainClock(reader: TabulaClient, notBefore = 0n): Promise<() => UnixSeconds> {
  const { timestamp } = await getBlock(reader);
  const readAt = Date.now();
  return () => {
    const now = timestamp + BigInt(Math.floor((Date.now() - readAt) / 1000)) - UNIT_TIME_LAG_SECONDS;
    return now > notBefore ? now : notBefore;
  };
}
