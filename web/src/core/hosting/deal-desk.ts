/**
 * The host's side of a paid push (seed steps 10–13): before it keeps a piece, the host checks on the chain that the
 * offer's deal is proposed to it, escrowed, for exactly this shard (root and size) and this file and shard index,
 * at no less than its price, with time left to be accepted; once the shard is stored it signs σ over the deal's
 * exact terms with its operator key. The checks read the chain again at signing: σ is only ever given for terms
 * the chain holds.
 */
import type { Address, LocalAccount } from "viem";
import { bytesToBigInt, bytesToHex, hexToBytes } from "viem";
import { getBlock } from "viem/actions";
import type { TabulaClient } from "../../chain/client.ts";
import { DealStatus, dealInfo } from "../../chain/market/deal-info.ts";
import { quote } from "../../chain/market/quote.ts";
import { signReceipt } from "../../chain/market/receipts.ts";
import { type DealTerms, receiptStructHash } from "../../chain/market/storage-receipt.ts";
import type { OfferMessage } from "../../p2p/protocols/shard-store/index.ts";

/** Seconds a deal must still have before its `acceptBy` for the host to take the push (the upload and σ's submission). */
export const MIN_ACCEPT_MARGIN_SECONDS = 60n;

export interface DealDeskParts {
  reader: TabulaClient;
  /** The host's owner address: deals name it, and its stake backs them. */
  owner: Address;
  /** The operator key the owner authorized to sign σ. */
  operator: LocalAccount;
}

/** What the offer's deal is, once checked: the id, its client and the terms σ covers. */
export interface CheckedDeal {
  dealId: bigint;
  client: Address;
  terms: DealTerms;
}

export type DealCheck = { ok: true; deal: CheckedDeal } | { ok: false; message: string };

/** The offer's fields a deal is checked against (what a held shard also keeps). */
export type OfferedShard = Pick<OfferMessage, "dealId" | "manifest" | "shardIndex" | "root"> & { totalBytes: number };

export class DealDesk {
  readonly #parts: DealDeskParts;

  constructor(parts: DealDeskParts) {
    this.#parts = parts;
  }

  get owner(): Address {
    return this.#parts.owner;
  }

  /** Whether this host would sign σ for the offer's deal, and if not, why (for the client). */
  async check(offer: OfferedShard): Promise<DealCheck> {
    const { reader, owner } = this.#parts;
    if (!offer.dealId) return { ok: false, message: "the offer names no deal" };
    const dealId = bytesToBigInt(offer.dealId);
    const d = await dealInfo(reader, dealId);
    if (d.status !== DealStatus.Proposed) {
      return { ok: false, message: `deal ${dealId} is not a proposal waiting for its host (status ${d.status})` };
    }
    if (d.host.toLowerCase() !== owner.toLowerCase()) {
      return { ok: false, message: `deal ${dealId} is proposed to ${d.host}, not to this host (${owner})` };
    }
    if (d.shardRoot !== bytesToHex(offer.root)) {
      return { ok: false, message: `deal ${dealId} is for another Merkle root than this shard's` };
    }
    if (d.shardSizeBytes !== BigInt(offer.totalBytes)) {
      return {
        ok: false,
        message: `deal ${dealId} is for ${d.shardSizeBytes} bytes, the shard has ${offer.totalBytes}`,
      };
    }
    const now = (await getBlock(reader)).timestamp;
    if (d.acceptBy < now + MIN_ACCEPT_MARGIN_SECONDS) {
      return { ok: false, message: `deal ${dealId} must be accepted by ${d.acceptBy}: too soon to upload and sign` };
    }
    const asked = await quote(reader, {
      host: owner,
      shardSizeBytes: d.shardSizeBytes,
      durationSeconds: d.durationSeconds,
    });
    if (d.price < asked) return { ok: false, message: `deal ${dealId} pays ${d.price}; this host asks ${asked}` };
    const terms: DealTerms = {
      host: d.host,
      manifestCid: bytesToHex(offer.manifest.bytes),
      shardIndex: offer.shardIndex,
      shardSizeBytes: d.shardSizeBytes,
      shardRoot: d.shardRoot,
      durationSeconds: d.durationSeconds,
      price: d.price,
      acceptBy: d.acceptBy,
    };
    // The chain keeps the hash of every term: this also checks the file (L) and shard index the offer names.
    if (receiptStructHash(dealId, d.client, terms) !== d.receiptHash) {
      return { ok: false, message: `deal ${dealId} was proposed for another file or shard index` };
    }
    return { ok: true, deal: { dealId, client: d.client, terms } };
  }

  /** σ for a stored shard: checks its deal again, then signs the terms with the operator key. */
  async attest(shard: OfferedShard): Promise<Uint8Array> {
    const checked = await this.check(shard);
    if (!checked.ok) throw new Error(`No receipt for this shard: ${checked.message}.`);
    const { dealId, client, terms } = checked.deal;
    const sigma = await signReceipt(this.#parts.reader, { account: this.#parts.operator, dealId, client, terms });
    return hexToBytes(sigma);
  }
}
