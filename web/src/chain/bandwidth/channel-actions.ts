import type { Account, Address, Hash } from "viem";
import type { AgreedUsage } from "../../lib/payments/bandwidth.ts";
import type { TabulaClient } from "../client.ts";
import { writeTabula } from "../write.ts";
import { bandwidthErrors } from "./errors.ts";

/** The payee (its Payee operator) accepts channel `channelId` and binds `payeeSigner` to sign its units. */
export async function confirmChannel(
  client: TabulaClient,
  parameters: { channelId: bigint; payeeSigner: Address; account?: Account | Address },
): Promise<Hash> {
  return await writeTabula(client, {
    contract: "BandwidthChannel",
    functionName: "confirm",
    args: [parameters.channelId, parameters.payeeSigner],
    account: parameters.account,
    errors: bandwidthErrors,
  });
}

/** Either side starts closing with the last unit both signed; the challenge window then runs. */
export async function closeChannel(
  client: TabulaClient,
  parameters: { agreed: AgreedUsage; account?: Account | Address },
): Promise<Hash> {
  const { usage, payerSignature, payeeSignature } = parameters.agreed;
  return await writeTabula(client, {
    contract: "BandwidthChannel",
    functionName: "close",
    args: [usage.channelId, usage, payerSignature, payeeSignature],
    account: parameters.account,
    errors: bandwidthErrors,
  });
}

/** Anyone replaces a closing channel's agreed unit with a later one both sides signed. */
export async function challengeChannel(
  client: TabulaClient,
  parameters: { agreed: AgreedUsage; account?: Account | Address },
): Promise<Hash> {
  const { usage, payerSignature, payeeSignature } = parameters.agreed;
  return await writeTabula(client, {
    contract: "BandwidthChannel",
    functionName: "challenge",
    args: [usage.channelId, usage, payerSignature, payeeSignature],
    account: parameters.account,
    errors: bandwidthErrors,
  });
}

/** After the challenge window, pays the payee, refunds the payer and burns any disputed difference. */
export async function settleChannel(
  client: TabulaClient,
  parameters: { channelId: bigint; account?: Account | Address },
): Promise<Hash> {
  return await writeTabula(client, {
    contract: "BandwidthChannel",
    functionName: "settle",
    args: [parameters.channelId],
    account: parameters.account,
    errors: bandwidthErrors,
  });
}

/** The payer takes back the deposit of a channel the payee did not confirm in time. */
export async function reclaimChannel(
  client: TabulaClient,
  parameters: { channelId: bigint; account?: Account | Address },
): Promise<Hash> {
  return await writeTabula(client, {
    contract: "BandwidthChannel",
    functionName: "reclaim",
    args: [parameters.channelId],
    account: parameters.account,
    errors: bandwidthErrors,
  });
}
