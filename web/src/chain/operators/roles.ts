/** Role bits of the OperatorRegistry: what an operator key may do for its owner. */
export const OperatorRole = {
  /** Sign receipts σ and answer audits. */
  Host: 1,
  /** Challenge the owner's deals and end them. */
  Client: 2,
  /** Sign usage units, tokens and tickets; close and reveal. */
  Payer: 4,
  /** Countersign units, confirm, redeem and claim. */
  Payee: 8,
} as const;
