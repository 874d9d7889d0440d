/**
 * The proof that a route's upstream leg is presented by its payer: the channel's payer key signs (EIP-191) the
 * chain, the contract and the channel. The route is public on the chain, so without it anyone could present
 * another's route to its proxy first and have the proxy's leg opened to a payee of its choosing.
 */
import { type Address, type Hex, isAddressEqual, type LocalAccount, recoverMessageAddress } from "viem";

function routeStatement(parts: { chainId: number; contract: Address; channelId: bigint }): string {
  return `Tabula route ${parts.chainId} ${parts.contract.toLowerCase()} ${parts.channelId}`;
}

/** The payer key's proof for route `channelId`. */
export async function signRoute(
  key: LocalAccount,
  parts: { chainId: number; contract: Address; channelId: bigint },
): Promise<Hex> {
  return await key.signMessage({ message: routeStatement(parts) });
}

/** Whether `proof` is `payerSigner`'s proof for route `channelId`. */
export async function isRouteProof(
  proof: Hex,
  payerSigner: Address,
  parts: { chainId: number; contract: Address; channelId: bigint },
): Promise<boolean> {
  try {
    return isAddressEqual(
      await recoverMessageAddress({ message: routeStatement(parts), signature: proof }),
      payerSigner,
    );
  } catch {
    return false;
  }
}
