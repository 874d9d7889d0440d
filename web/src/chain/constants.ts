import { parseEther } from "viem";

/** A burner below this ETH balance is topped up on local chains. */
export const BURNER_MIN_ETH_WEI = parseEther("1");
/** What one top-up sends a burner: enough gas for a long development session. */
export const BURNER_TOP_UP_ETH_WEI = parseEther("10");
/** A burner below this token balance gets the faucet's grant. */
export const BURNER_MIN_TOKEN_WEI = parseEther("100");
/** What the token's faucet grants a burner (the contract caps one call at `FAUCET_MAX`, 10 000 TAB). */
export const BURNER_FAUCET_TOKEN_WEI = parseEther("1000");
