import { describe, expect, it } from "vitest";
import { formatAmount, formatExactAmount, parseAmount } from "./amounts.ts";

describe("formatAmount", () => {
  it("shows base units as whole tokens in the user's locale, four fraction digits at most", () => {
    const grouped = (1000).toLocaleString();
    expect(formatAmount(1000n * 10n ** 18n)).toBe(grouped);
    expect(formatAmount(10n ** 18n + 12_345n * 10n ** 12n)).toBe(
      (1.0123).toLocaleString(undefined, { maximumFractionDigits: 4 }),
    );
    expect(formatAmount(0n)).toBe("0");
    expect(formatAmount(5n, 0)).toBe("5");
  });

  it("shows an ellipsis while the balance is unknown", () => {
    expect(formatAmount(undefined)).toBe("…");
  });
});

describe("formatExactAmount", () => {
  it("keeps every base unit, where rounding would hide a shortfall", () => {
    expect(formatExactAmount(100n * 10n ** 18n - 1n)).toBe("99.999999999999999999");
    expect(formatAmount(100n * 10n ** 18n - 1n)).toBe((100).toLocaleString());
    expect(formatExactAmount(0n)).toBe("0");
  });
});

describe("parseAmount", () => {
  it("reads decimal amounts to base units and refuses anything else", () => {
    expect(parseAmount("2")).toBe(2n * 10n ** 18n);
    expect(parseAmount(" 0.5 ")).toBe(5n * 10n ** 17n);
    expect(parseAmount("0.000000000000000001")).toBe(1n);
    for (const bad of ["", "-1", "1e3", "1,5", "abc", "0.0000000000000000001", "1."]) {
      expect(parseAmount(bad), bad).toBeUndefined();
    }
  });
});
