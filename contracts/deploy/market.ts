import { type Address, keccak256, parseEther, toHex, zeroAddress, zeroHash } from "viem";
import { type DeployContext, deployContract, readArtifact, send } from "./context.ts";

/** StorageMarket parameters, as the contract's `Parameters` struct takes them. */
export interface MarketParameters {
  minStake: bigint;
  /** Collateral a deal locks from its host's stake, as a share of its price (basis points). */
  collateralBps: number;
  protocolFeeBps: number;
  /** How long a host has to answer an audit once its seed is fixed. */
  auditWindowSeconds: number;
  unbondingDelaySeconds: number;
  /** What a challenger puts up per audit; it pays the host's answer. */
  challengeBond: bigint;
}

export interface GovernanceSettings {
  timelockDelaySeconds: bigint;
  votingDelaySeconds: number;
  votingPeriodSeconds: number;
  proposalThreshold: bigint;
  quorumPercent: bigint;
}

/** Same code everywhere; local chains get periods short enough to demo an audit, a slash or a vote in minutes. */
export const LOCAL_MARKET_PARAMETERS: MarketParameters = {
  minStake: parseEther("100"),
  collateralBps: 20_000,
  protocolFeeBps: 100,
  auditWindowSeconds: 120,
  unbondingDelaySeconds: 300,
  challengeBond: parseEther("0.01"),
};

/**
 * A host is a browser tab, offline most of the time: three days to answer an audit lets a laptop closed over a long
 * weekend come back and answer before it loses the deal's collateral.
 */
export const PUBLIC_MARKET_PARAMETERS: MarketParameters = {
  minStake: parseEther("1000"),
  collateralBps: 20_000,
  protocolFeeBps: 100,
  auditWindowSeconds: 3 * 24 * 3600,
  unbondingDelaySeconds: 7 * 24 * 3600,
  challengeBond: parseEther("0.01"),
};

export const LOCAL_GOVERNANCE: GovernanceSettings = {
  timelockDelaySeconds: 60n,
  votingDelaySeconds: 1,
  votingPeriodSeconds: 300,
  proposalThreshold: 0n,
  quorumPercent: 4n,
};

export const PUBLIC_GOVERNANCE: GovernanceSettings = {
  timelockDelaySeconds: 2n * 24n * 3600n,
  votingDelaySeconds: 24 * 3600,
  votingPeriodSeconds: 7 * 24 * 3600,
  proposalThreshold: parseEther("10000"),
  quorumPercent: 4n,
};

const PROPOSER_ROLE = keccak256(toHex("PROPOSER_ROLE"));
const CANCELLER_ROLE = keccak256(toHex("CANCELLER_ROLE"));
const DEFAULT_ADMIN_ROLE = zeroHash;

/**
 * Deploys TabulaTimelock, TabulaGovernor and StorageMarket (needs `Token`). The timelock owns the market's
 * parameters and is its treasury; the governor is the timelock's only proposer and canceller, anyone may execute,
 * and the deployer gives up the timelock's admin role, so after this step only a passed vote changes anything.
 */
export async function deployMarket(ctx: DeployContext): Promise<void> {
  const token = ctx.deployed.Token;
  if (!token) throw new Error("deployMarket: the Token must be deployed first");
  const deployer = ctx.walletClient.account.address;
  const governance = ctx.local ? LOCAL_GOVERNANCE : PUBLIC_GOVERNANCE;
  const parameters = ctx.local ? LOCAL_MARKET_PARAMETERS : PUBLIC_MARKET_PARAMETERS;

  const timelock: Address = await deployContract(
    ctx,
    "TabulaTimelock",
    [governance.timelockDelaySeconds, [], [zeroAddress], deployer],
    { sourceFile: "governance/TabulaTimelock.sol" },
  );
  const governor: Address = await deployContract(
    ctx,
    "TabulaGovernor",
    [
      token,
      timelock,
      governance.votingDelaySeconds,
      governance.votingPeriodSeconds,
      governance.proposalThreshold,
      governance.quorumPercent,
    ],
    { sourceFile: "governance/TabulaGovernor.sol" },
  );
  const operators = ctx.deployed.OperatorRegistry;
  if (!operators) throw new Error("deployMarket: the OperatorRegistry must be deployed first");
  await deployContract(ctx, "StorageMarket", [token, operators, timelock, timelock, parameters]);

  const { abi } = await readArtifact("TabulaTimelock", "governance/TabulaTimelock.sol");
  await send(ctx, timelock, abi, "grantRole", [PROPOSER_ROLE, governor]);
  await send(ctx, timelock, abi, "grantRole", [CANCELLER_ROLE, governor]);
  await send(ctx, timelock, abi, "renounceRole", [DEFAULT_ADMIN_ROLE, deployer]);
  ctx.log(`governance: timelock ${timelock} owns StorageMarket, governor ${governor} proposes`);
}
