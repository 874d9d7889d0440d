/**
 * The proxy's side of one route payer → this tab → payee (Tachyon's proxy hop). The payer opened the upstream leg
 * to this owner, locking 110 % of what the payee is owed at 110 % of the payee's price. The proxy admits that leg
 * as any payee would (confirmed with the tab's key, its units countersigned), opens the downstream leg to the payee
 * with the route's amount, and then pays the payee, as any payer would, for the bytes it received from it. It
 * carries a byte to the payer only as the payer's units allow (what it paid plus the credit), so the 10 % it keeps
 * is its fee and the most it can lose is the credit.
 */
import type { Account, Address, Hash, LocalAccount } from "viem";
import { getBlock } from "viem/actions";
import { getChannel } from "../../chain/bandwidth/channel.ts";
import { getRoute, openedLegId, openRouteLeg, type RouteInfo, routeLock } from "../../chain/bandwidth/route.ts";
import { deployedContract } from "../../chain/chain.ts";
import { createTabulaClient, type TabulaClient } from "../../chain/client.ts";
import { waitForSuccess } from "../../chain/receipt.ts";
import { BYTES_PER_MB } from "../../lib/payments/bandwidth.ts";
import { PaymentRefusedError } from "../../p2p/protocols/common/errors.ts";
import { decodeBandwidthMessage, type PaymentTerms } from "../../p2p/protocols/pay/index.ts";
import type { PayeeGate, Payment } from "../../p2p/protocols/transfer/index.ts";
import { BandwidthPayee, type PayeeChannel } from "./bandwidth-payee.ts";
import { BandwidthPayer, type PayerChannel } from "./bandwidth-payer.ts";
import { OPEN_PERMIT_SECONDS } from "./cost.ts";
import { paymentMessage } from "./payment-message.ts";
import { isRouteProof } from "./route-proof.ts";

export interface RouteProxyParts {
  reader: TabulaClient;
  /** The proxy's owner: the upstream leg pays it, and its tokens fund the downstream leg. */
  owner: TabulaClient<Account>;
  /** The tab's key, authorized for the Payee and Payer roles: it confirms upstream and signs units on both legs. */
  operator: LocalAccount;
  /** Whether this tab may take payments on upstream leg `id` (no other transfer of it was paid on it). */
  claim?: (id: bigint) => boolean;
  timeoutMs?: number;
  onUpstream?: (channel: PayeeChannel) => void;
  onDownstream?: (channel: PayerChannel) => void;
}

/** Whom the payer asked the proxy to reach: the link's payee and price, checked against the route on the chain. */
export interface RouteTarget {
  payee: Address;
  pricePerMB: bigint;
}

export class RouteProxy {
  readonly upstreamId: bigint;
  readonly route: RouteInfo;
  /** Bytes the route pays for at most. */
  readonly totalBytes: bigint;
  /** The payer's leg: bytes go to the payer only as it allows. */
  readonly upstream: PayeeGate;
  readonly upstreamPayee: BandwidthPayee;
  /** This tab's leg to the payee: it pays for the bytes received from the payee. */
  readonly downstream: BandwidthPayer;
  readonly legTx: Hash;

  private constructor(fields: {
    upstreamId: bigint;
    route: RouteInfo;
    totalBytes: bigint;
    upstream: PayeeGate;
    upstreamPayee: BandwidthPayee;
    downstream: BandwidthPayer;
    legTx: Hash;
  }) {
    this.upstreamId = fields.upstreamId;
    this.route = fields.route;
    this.totalBytes = fields.totalBytes;
    this.upstream = fields.upstream;
    this.upstreamPayee = fields.upstreamPayee;
    this.downstream = fields.downstream;
    this.legTx = fields.legTx;
  }

  /**
   * Admits the payer's `opening` (the upstream leg of a route to `target` through this owner) and opens the
   * downstream leg: the confirmation, then the leg funded by a permit (two transactions in all).
   * {@link PaymentRefusedError}, and nothing sent, for a channel that is no such route.
   */
  static async open(
    parts: RouteProxyParts,
    opening: Payment,
    target: RouteTarget,
    session: { receiver: string; signal: AbortSignal },
  ): Promise<RouteProxy> {
    const { reader, owner, operator } = parts;
    const { channelId: upstreamId, proof } = paymentMessage(opening, "bandwidth", decodeBandwidthMessage, "open");
    const refuse = (reason: string) => new PaymentRefusedError(`route ${upstreamId} ${reason}`);
    const route = await getRoute(reader, { upstreamId });
    if (route.amount === 0n) throw refuse("is not a route");
    if (route.downstreamId !== 0n) throw refuse("has its downstream leg already");
    // The route is public on the chain: only its payer's key may present it.
    const { payerSigner } = await getChannel(reader, { channelId: upstreamId });
    const contract = deployedContract(reader.chain, "BandwidthChannel").address;
    const where = { chainId: reader.chain.id, contract, channelId: upstreamId };
    if (!proof || !(await isRouteProof(proof, payerSigner, where))) throw refuse("was not presented by its payer");
    if (route.pricePerMB !== target.pricePerMB) {
      throw refuse(`pays ${route.pricePerMB} per MB downstream, not the payee's ${target.pricePerMB}`);
    }
    const totalBytes = (route.amount * BYTES_PER_MB) / route.pricePerMB;
    const chainId = reader.chain.id;
    const upstreamTerms: PaymentTerms = {
      chainId,
      payee: owner.account.address,
      pricePerMB: routeLock(route.pricePerMB),
      schemes: ["bandwidth"],
    };
    const upstreamPayee = new BandwidthPayee({
      reader,
      operator: createTabulaClient({ chain: reader.chain, account: operator }),
      owner: owner.account.address,
      terms: upstreamTerms,
      claim: parts.claim ?? (() => true),
      ...(parts.timeoutMs ? { timeoutMs: parts.timeoutMs } : {}),
      ...(parts.onUpstream ? { onChange: parts.onUpstream } : {}),
    });
    const upstream = await upstreamPayee.admit(opening, {
      receiver: session.receiver,
      totalBytes: Number(totalBytes),
      position: 0,
      signal: session.signal,
    });
    // The leg opens even if the receiver's session ended meanwhile (a slow chain): the route waits for its resume.
    const legTx = await openRouteLeg(owner, {
      upstreamId,
      payee: target.payee,
      payerSigner: operator.address,
      amount: route.amount,
      deadline: (await getBlock(reader)).timestamp + OPEN_PERMIT_SECONDS,
    });
    const receipt = await waitForSuccess(reader, { hash: legTx, what: "Opening the route's leg to the payee" });
    const downstream = BandwidthPayer.of(
      {
        reader,
        owner,
        operator,
        terms: { chainId, payee: target.payee, pricePerMB: route.pricePerMB, schemes: ["bandwidth"] },
        totalBytes,
        ...(parts.onDownstream ? { onChange: parts.onDownstream } : {}),
      },
      { channelId: openedLegId(reader, receipt), openTx: legTx, deposit: route.amount },
    );
    return new RouteProxy({ upstreamId, route, totalBytes, upstream, upstreamPayee, downstream, legTx });
  }
}
