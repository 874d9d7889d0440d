import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import { type Account, bytesToHex, type LocalAccount, numberToBytes } from "viem";
import { getBlock } from "viem/actions";
import type { TabulaClient } from "../../../chain/client.ts";
import { acceptDealsSync } from "../../../chain/market/accept-deals.ts";
import { proposeDealsSync } from "../../../chain/market/propose-deals.ts";
import { quote } from "../../../chain/market/quote.ts";
import { signReceipt } from "../../../chain/market/receipts.ts";
import type { DealTerms } from "../../../chain/market/storage-receipt.ts";
import type { TestChain } from "../../../chain/testing/hardhat.ts";
import { pieceRoot } from "../../../p2p/protocols/audit/index.ts";
import type { HeldShard } from "../../../p2p/protocols/common/held-shard.ts";

export const HELD_DEAL_DURATION = 30n * 24n * 3600n;

/** A one-piece shard as a host holds it, under a deal the client proposed and (unless `accept: false`) accepted. */
export async function heldDeal(
  chain: TestChain,
  parameters: {
    client: TabulaClient<Account>;
    host: LocalAccount;
    /** The key that signs σ for the host. */
    operator: LocalAccount;
    piece: Uint8Array;
    shardIndex?: number;
    accept?: boolean;
  },
): Promise<{ dealId: bigint; held: HeldShard; terms: DealTerms }> {
  const { client, host, operator, piece } = parameters;
  const t = (await getBlock(chain.client())).timestamp;
  const root = await pieceRoot(piece, 0);
  const pieceCid = CID.createV1(raw.code, await sha256.digest(piece));
  const shardSizeBytes = BigInt(piece.byteLength);
  const terms: DealTerms = {
    host: host.address,
    manifestCid: bytesToHex(pieceCid.bytes),
    shardIndex: parameters.shardIndex ?? 0,
    shardSizeBytes,
    shardRoot: bytesToHex(root),
    durationSeconds: HELD_DEAL_DURATION,
    price: await quote(chain.client(), { host: host.address, shardSizeBytes, durationSeconds: HELD_DEAL_DURATION }),
    acceptBy: t + 3600n,
  };
  const { deals } = await proposeDealsSync(client, { terms: [terms], permitDeadline: t + 3600n });
  const dealId = (deals[0] as (typeof deals)[number]).dealId;
  if (parameters.accept ?? true) {
    const signature = await signReceipt(chain.client(operator), { dealId, client: client.account.address, terms });
    await acceptDealsSync(client, { receipts: [{ dealId, signature }] });
  }
  const held: HeldShard = {
    manifest: pieceCid,
    shardIndex: terms.shardIndex,
    root,
    pieces: [pieceCid],
    sizes: [piece.byteLength],
    owner: "client",
    dealId: numberToBytes(dealId, { size: 32 }),
    storedAtMs: Date.now(),
  };
  return { dealId, held, terms };
}
