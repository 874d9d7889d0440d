import { BaseError } from "../../lib/errors.ts";

/** A paid link asks to be paid on another chain than the one this tab is on. */
export class PaymentChainMismatchError extends BaseError {
  override name = "PaymentChainMismatchError";
  constructor(parameters: { linkChainId: number; tabChainId: number }) {
    super(
      `The sender asks to be paid on chain ${parameters.linkChainId}; this tab is on chain ${parameters.tabChainId}.`,
      {
        details: "Open the link in a Tabula tab on the sender's chain, or ask the sender for a link on this chain.",
      },
    );
  }
}

/** Paying or being paid needs a connected wallet (or the local burner) to own the tokens. */
export class NoPaymentWalletError extends BaseError {
  override name = "NoPaymentWalletError";
  constructor(action: string) {
    super(`${action} needs a connected wallet on this chain.`, {
      details: "Connect a wallet (or switch it to this chain), then try again.",
    });
  }
}
