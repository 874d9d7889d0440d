import { describe, expect, it } from "vitest";
import { CodeSizeExceededError, checkCodeSizes, codeSizeBytes, MAX_CODE_SIZE_BYTES } from "./code-size.ts";

const code = (bytes: number) => `0x${"60".repeat(bytes)}`;

describe("checkCodeSizes", () => {
  it("passes a contract of exactly the EIP-170 limit", () => {
    expect(codeSizeBytes(code(MAX_CODE_SIZE_BYTES))).toBe(24_576);
    expect(() => checkCodeSizes([{ contractName: "Edge", deployedBytecode: code(MAX_CODE_SIZE_BYTES) }])).not.toThrow();
  });

  it("names every contract one byte or more over the limit, with its size", () => {
    const check = () =>
      checkCodeSizes([
        { contractName: "Small", deployedBytecode: code(100) },
        { contractName: "Market", deployedBytecode: code(26_890) },
        { contractName: "Lot", deployedBytecode: code(MAX_CODE_SIZE_BYTES + 1) },
      ]);
    expect(check).toThrow(CodeSizeExceededError);
    expect(check).toThrow(/^Market is 26,890 bytes, Lot is 24,577 bytes of runtime code, over the EIP-170 limit/);
  });
});
