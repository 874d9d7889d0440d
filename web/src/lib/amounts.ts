import { formatUnits, parseUnits } from "viem";

/** Decimals of ETH and of the platform token (TAB): amounts on chain are in units of 10^-18. */
export const TOKEN_DECIMALS = 18;
/** Fraction digits a balance shows: enough to see gas spent, few enough to read at a glance. */
export const AMOUNT_FRACTION_DIGITS = 4;

/** A balance in base units as the user reads it (`"1,234.5678"` in their locale); `"…"` while unknown. */
export function formatAmount(value: bigint | undefined, decimals = TOKEN_DECIMALS): string {
  if (value === undefined) return "…";
  // One formatter for every amount: building one is what costs, and a live transfer shows amounts often.
  amountFormat ??= new Intl.NumberFormat(undefined, { maximumFractionDigits: AMOUNT_FRACTION_DIGITS });
  return amountFormat.format(Number(formatUnits(value, decimals)));
}
let amountFormat: Intl.NumberFormat | undefined;

/** An amount to the last base unit (`"99.999999999999999999"`), for messages where rounding would hide a shortfall. */
export function formatExactAmount(value: bigint, decimals = TOKEN_DECIMALS): string {
  return formatUnits(value, decimals);
}

/** What the user typed as an amount of tokens (`"2"`, `"0.5"`), in base units; undefined when it is not one. */
export function parseAmount(text: string, decimals = TOKEN_DECIMALS): bigint | undefined {
  const trimmed = text.trim();
  if (!/^\d+(\.\d+)?$/.test(trimmed) || (trimmed.split(".")[1]?.length ?? 0) > decimals) return undefined;
  return parseUnits(trimmed, decimals);
}
