import type { TransferScheme } from "../../state/send.svelte.ts";

/** How each payment scheme is named to a user, what it does, and what happens to the part not spent. */
export const SCHEME_LABELS: Record<TransferScheme, { name: string; about: string; refund: string }> = {
  bandwidth: {
    name: "a bandwidth channel",
    about: "Both tabs sign the byte count as it grows; the channel settles on the last count both signed.",
    refund: "the rest comes back when the channel settles.",
  },
  "hash-chain": {
    name: "a hash chain",
    about: "The receiver reveals one link of a hash chain per MB; the sender redeems the last one, once.",
    refund: "the rest comes back when the sender redeems (or, if it never does, after two days).",
  },
  merkle: {
    name: "Merkle tokens",
    about: "The receiver hands over one token per MB, bound to the sender; the sender redeems them in one batch.",
    refund: "what no token was handed over for comes back after two days.",
  },
  lottery: {
    name: "lottery tickets",
    about:
      "The receiver hands over one ticket per MB from a lot that covers the sender; each wins the whole lot with one chance in its size, so it is worth one MB in expectation.",
    refund:
      "the lot, its fine and the sender's cover stay locked until the draw; after it, all comes back but the lot, if the sender holds the winning ticket.",
  },
};

/** A bytes32 id (as its number) shortened for a table cell. */
export function shortId(id: bigint): string {
  const hex = `0x${id.toString(16).padStart(64, "0")}`;
  return `${hex.slice(0, 10)}…${hex.slice(-4)}`;
}

/** How a payment is named on the receiving page: the channel, chain, Merkle channel or lot it runs on. */
export function paymentLabel(payment: { scheme: TransferScheme; channelId: bigint }): string {
  switch (payment.scheme) {
    case "bandwidth":
      return `Channel #${payment.channelId}`;
    case "hash-chain":
      return `Hash chain ${shortId(payment.channelId)}`;
    case "merkle":
      return `Merkle channel ${shortId(payment.channelId)}`;
    case "lottery":
      return `Lottery lot #${payment.channelId}`;
  }
}
