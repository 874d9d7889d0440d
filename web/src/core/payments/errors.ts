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

/** A transfer needs more units than one payment of this scheme can hold. */
export class TransferTooLargeError extends BaseError {
  override name = "TransferTooLargeError";
  constructor(parameters: { scheme: string; maxBytes: bigint }) {
    super(`These files are larger than one ${parameters.scheme} payment can cover (${parameters.maxBytes} bytes).`, {
      details: "Ask the sender to split them over several links, or to take the bandwidth channel.",
    });
  }
}

/** The link takes none of the schemes this tab pays in, or a scheme the link does not take was asked for. */
export class PaymentSchemeError extends BaseError {
  override name = "PaymentSchemeError";
  constructor(parameters: { asked: string; offered: readonly string[] }) {
    super(`This link is paid in ${parameters.offered.join(", ")}; ${parameters.asked} is not among them.`, {
      details: `Choose one of ${parameters.offered.join(", ")}, or ask the sender for a link in the scheme you pay in.`,
    });
  }
}
