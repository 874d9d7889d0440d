/** EIP-170: the most bytes of runtime code a contract may have; a larger one cannot be deployed on Ethereum. */
export const MAX_CODE_SIZE_BYTES = 24_576;

/** A deployable contract over the EIP-170 limit: it compiles and runs in tests, but no chain will deploy it. */
export class CodeSizeExceededError extends Error {
  readonly oversized: ReadonlyArray<{ name: string; bytes: number }>;

  constructor(oversized: ReadonlyArray<{ name: string; bytes: number }>) {
    super(
      `${oversized.map(({ name, bytes }) => `${name} is ${bytes.toLocaleString("en")} bytes`).join(", ")} of ` +
        `runtime code, over the EIP-170 limit of ${MAX_CODE_SIZE_BYTES.toLocaleString("en")} bytes: no chain will ` +
        "deploy it. Move code into a separate contract or library, or lower the optimizer runs for that file.",
    );
    this.name = "CodeSizeExceededError";
    this.oversized = oversized;
  }
}

/** Runtime code size in bytes of a `0x…` deployed bytecode string. */
export function codeSizeBytes(deployedBytecode: string): number {
  return (deployedBytecode.length - 2) / 2;
}

/** Throws {@link CodeSizeExceededError} naming every contract whose runtime code is over the EIP-170 limit. */
export function checkCodeSizes(contracts: ReadonlyArray<{ contractName: string; deployedBytecode: string }>): void {
  const oversized = contracts
    .map((c) => ({ name: c.contractName, bytes: codeSizeBytes(c.deployedBytecode) }))
    .filter(({ bytes }) => bytes > MAX_CODE_SIZE_BYTES);
  if (oversized.length > 0) throw new CodeSizeExceededError(oversized);
}
