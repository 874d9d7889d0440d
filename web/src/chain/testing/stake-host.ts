import { type Account, type LocalAccount, parseEther, toHex } from "viem";
import { getBlock } from "viem/actions";
import { registerHost } from "../market/register-host.ts";
import { authorizeOperator } from "../operators/authorize-operator.ts";
import { OperatorRole } from "../operators/roles.ts";
import { waitForSuccess } from "../receipt.ts";
import type { TestChain } from "./hardhat.ts";

export interface StakeHostParameters {
  owner: LocalAccount;
  /** The tab's key, authorized for hosting; none when left out. */
  operator?: LocalAccount;
  /** Registered libp2p peer id (its text; any string in tests that do not dial it). */
  peer?: string;
  pricePerGiBMonth?: bigint;
  stake?: bigint;
  capacityBytes?: bigint;
}

/** Registers and stakes a funded host owner with one permit, and authorizes its operator key for hosting. */
export async function stakeHost(chain: TestChain, parameters: StakeHostParameters): Promise<void> {
  const wallet = chain.client(parameters.owner) as ReturnType<TestChain["client"]> & { account: Account };
  const now = (await getBlock(chain.client())).timestamp;
  const mined = (hash: `0x${string}`) => waitForSuccess(chain.client(), { hash, what: "staking a test host" });
  await mined(
    await registerHost(wallet, {
      peerId: toHex(new TextEncoder().encode(parameters.peer ?? "host")),
      capacityBytes: parameters.capacityBytes ?? 1n << 30n,
      pricePerGiBMonth: parameters.pricePerGiBMonth ?? parseEther("2"),
      openRegistration: true,
      stake: parameters.stake ?? parseEther("100"),
      permitDeadline: now + 3600n,
    }),
  );
  if (parameters.operator) {
    await mined(
      await authorizeOperator(wallet, {
        operator: parameters.operator.address,
        roles: OperatorRole.Host,
        expiresAt: now + 365n * 86_400n,
      }),
    );
  }
}
