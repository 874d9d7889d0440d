import { type Address, bytesToHex, type Hex } from "viem";
import { getContractEvents } from "viem/actions";
import { deployedContract } from "../../chain/chain.ts";
import type { TabulaClient } from "../../chain/client.ts";
import { dealInfo } from "../../chain/market/deal-info.ts";
import { DEAL_STATUSES, type DealStatus } from "../../chain/market/file-deals.ts";
import { verifyReceipt } from "../../chain/market/receipts.ts";
import { type DealTerms, receiptStructHash } from "../../chain/market/storage-receipt.ts";
import { asCid } from "../../lib/cid.ts";

/** What anyone holding a file's link can check of one of its deals, from the chain alone. */
export interface DealVerification {
  dealId: bigint;
  status: DealStatus;
  host: Address;
  /** The deal's stored terms name this file (L) and this shard index. */
  forThisShard: boolean;
  /** σ as given, or as the market recorded it at acceptance; undefined when neither exists. */
  sigma?: Hex;
  /** Who signed σ over the deal's terms: the host or its operator key. */
  signer?: Address;
  /** The market's `isValidReceipt`: σ is over the deal's terms, by its host or a key it authorized for hosting now. */
  validOnChain: boolean;
}

/**
 * Checks a deal of a file against the chain: its terms must hash to what the market stored for this manifest CID
 * and shard index, and σ (given, else read from the deal's `DealAccepted` event) must be the host's signature of
 * them. Needs no trust in the file's owner or its hosts.
 */
export async function verifyDeal(
  reader: TabulaClient,
  parameters: { manifestCid: string; shardIndex: number; dealId: bigint; sigma?: Uint8Array },
): Promise<DealVerification> {
  const { dealId } = parameters;
  const info = await dealInfo(reader, dealId);
  const terms: DealTerms = {
    host: info.host,
    manifestCid: bytesToHex(asCid(parameters.manifestCid).bytes),
    shardIndex: parameters.shardIndex,
    shardSizeBytes: info.shardSizeBytes,
    shardRoot: info.shardRoot,
    durationSeconds: info.durationSeconds,
    price: info.price,
    acceptBy: info.acceptBy,
  };
  const forThisShard = receiptStructHash(dealId, info.client, terms) === info.receiptHash;
  const sigma = parameters.sigma ? bytesToHex(parameters.sigma) : await acceptedSigma(reader, dealId);
  const base = { dealId, status: DEAL_STATUSES[info.status] ?? "None", host: info.host, forThisShard };
  if (!sigma) return { ...base, validOnChain: false };
  const checked = await verifyReceipt(reader, { dealId, client: info.client, terms, signature: sigma });
  return { ...base, sigma, signer: checked.signer, validOnChain: checked.validOnChain && forThisShard };
}

/** σ as the market recorded it when the deal was accepted. */
async function acceptedSigma(reader: TabulaClient, dealId: bigint): Promise<Hex | undefined> {
  const market = deployedContract(reader.chain, "StorageMarket");
  const [event] = await getContractEvents(reader, {
    address: market.address,
    abi: market.abi,
    eventName: "DealAccepted",
    args: { dealId },
    fromBlock: 0n,
    strict: true,
  });
  return event?.args.signature;
}
