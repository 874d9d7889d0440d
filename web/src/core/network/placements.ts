import * as dagCbor from "@ipld/dag-cbor";
import { decodeFields } from "../../p2p/protocols/common/codec.ts";
import { SHARD_STORE_PROTOCOL } from "../../p2p/protocols/shard-store/constants.ts";
import { readReceipt, receiptFields, type StoreReceipt } from "../../p2p/protocols/shard-store/receipt.ts";
import type { ReceiptRecord } from "../../storage/files-db.ts";

/**
 * Where a shard of one of my files is stored: the host, its signed receipt, and what the last check found. Kept
 * with the file (the files database's receipts, deleted with the file).
 */
export interface Placement {
  manifest: string;
  shard: number;
  host: string;
  receipt: StoreReceipt;
  signature: Uint8Array;
  /** live: held as far as we know; lost: unreachable or not held; bad: failed an audit or served a bad piece; moved: repaired elsewhere. */
  status: PlacementStatus;
  placedAtMs: number;
  checkedAtMs?: number;
  /** Why it is not live. */
  reason?: string;
  /** The storage deal that pays the host, for a paid placement. */
  deal?: PlacementDeal;
}

/** The market's deal behind a paid placement: what the file page shows and what audits and endings act on. */
export interface PlacementDeal {
  id: bigint;
  /** The host's owner address, whom the deal pays. */
  owner: `0x${string}`;
  /** Escrowed for the whole duration, in token base units. */
  price: bigint;
  /** σ, the host's EIP-712 receipt over the deal's exact terms, once it stored the shard. */
  sigma?: Uint8Array;
  /** The transaction that escrowed the price. */
  proposeTx: `0x${string}`;
  /** The transaction that submitted σ and started the deal. */
  acceptTx?: `0x${string}`;
  /** Unix seconds at which the deal ends, once accepted. */
  endsAtS?: number;
  /** How the deal ended, once the owner's tab saw it end (no more audits of it). */
  ended?: string;
  /** The running deal of the same shard this one renews: ended early once this one runs. */
  renews?: bigint;
}

export type PlacementStatus = "live" | "lost" | "bad" | "moved";

/** Where placements are kept (storage/files-db.ts FilesDB). */
export interface PlacementStore {
  putReceipt(record: ReceiptRecord): Promise<void>;
  receiptsOf(manifestCid: string): Promise<ReceiptRecord[]>;
}

const PLACEMENT_VERSION = 1;

export function placementId(p: Pick<Placement, "manifest" | "shard" | "host">): string {
  return `${p.manifest}/${p.shard}/${p.host}`;
}

export function encodePlacement(p: Placement): ReceiptRecord {
  const value = dagCbor.encode({
    v: PLACEMENT_VERSION,
    host: p.host,
    receipt: receiptFields(p.receipt),
    sig: p.signature,
    status: p.status,
    placed: p.placedAtMs,
    ...(p.checkedAtMs === undefined ? {} : { checked: p.checkedAtMs }),
    ...(p.reason === undefined ? {} : { reason: p.reason }),
    ...(p.deal === undefined ? {} : { deal: encodeDeal(p.deal) }),
  });
  return { id: placementId(p), manifestCid: p.manifest, shard: p.shard, value };
}

export function decodePlacement(record: ReceiptRecord): Placement | undefined {
  try {
    const fields = dagCbor.decode(record.value) as {
      v: number;
      host: string;
      receipt: unknown;
      sig: Uint8Array;
      status: PlacementStatus;
      placed: number;
      checked?: number;
      reason?: string;
      deal?: EncodedDeal;
    };
    if (fields.v !== PLACEMENT_VERSION) return undefined;
    const receipt = readReceipt(decodeFields(SHARD_STORE_PROTOCOL, dagCbor.encode(fields.receipt), "receipt"));
    return {
      manifest: record.manifestCid,
      shard: record.shard,
      host: fields.host,
      receipt,
      signature: fields.sig,
      status: fields.status,
      placedAtMs: fields.placed,
      ...(fields.checked === undefined ? {} : { checkedAtMs: fields.checked }),
      ...(fields.reason === undefined ? {} : { reason: fields.reason }),
      ...(fields.deal === undefined ? {} : { deal: decodeDeal(fields.deal) }),
    };
  } catch {
    return undefined;
  }
}

interface EncodedDeal {
  id: bigint | number;
  owner: string;
  price: bigint | number;
  sigma?: Uint8Array;
  ptx: string;
  atx?: string;
  ends?: number;
  ended?: string;
  renews?: bigint | number;
}

function encodeDeal(deal: PlacementDeal): EncodedDeal {
  return {
    id: deal.id,
    owner: deal.owner,
    price: deal.price,
    ptx: deal.proposeTx,
    ...(deal.sigma ? { sigma: deal.sigma } : {}),
    ...(deal.acceptTx ? { atx: deal.acceptTx } : {}),
    ...(deal.endsAtS === undefined ? {} : { ends: deal.endsAtS }),
    ...(deal.ended === undefined ? {} : { ended: deal.ended }),
    ...(deal.renews === undefined ? {} : { renews: deal.renews }),
  };
}

/** dag-cbor gives small integers back as numbers: every amount and id is read back as a bigint. */
function decodeDeal(fields: EncodedDeal): PlacementDeal {
  return {
    id: BigInt(fields.id),
    owner: fields.owner as `0x${string}`,
    price: BigInt(fields.price),
    proposeTx: fields.ptx as `0x${string}`,
    ...(fields.sigma ? { sigma: fields.sigma } : {}),
    ...(fields.atx ? { acceptTx: fields.atx as `0x${string}` } : {}),
    ...(fields.ends === undefined ? {} : { endsAtS: fields.ends }),
    ...(fields.ended === undefined ? {} : { ended: fields.ended }),
    ...(fields.renews === undefined ? {} : { renews: BigInt(fields.renews) }),
  };
}

export async function placementsOf(store: PlacementStore, manifest: string): Promise<Placement[]> {
  const records = await store.receiptsOf(manifest);
  return records
    .map(decodePlacement)
    .filter((p): p is Placement => p !== undefined)
    .sort((a, b) => a.shard - b.shard || a.placedAtMs - b.placedAtMs);
}

export async function savePlacement(store: PlacementStore, placement: Placement): Promise<void> {
  await store.putReceipt(encodePlacement(placement));
}

/** The live holder(s) of each shard. */
export function liveHolders(placements: readonly Placement[], n: number): string[][] {
  const holders: string[][] = Array.from({ length: n }, () => []);
  for (const p of placements) if (p.status === "live" && p.shard < n) holders[p.shard]?.push(p.host);
  return holders;
}

/**
 * Hosts that may not take another shard of the file: those holding one, and those that lost one (they may come
 * back with it) or served a bad one. Two shards on one host fail together. Only hosts whose shard moved elsewhere
 * are free again.
 */
export function hostsOfFile(placements: readonly Placement[]): Set<string> {
  return new Set(placements.filter((p) => p.status !== "moved").map((p) => p.host));
}
