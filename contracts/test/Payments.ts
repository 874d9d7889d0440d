/**
 * The four payment schemes run as two parties would: the app's off-chain modules (web/src/lib/payments) sign,
 * verify and track state; the contracts on Hardhat's in-process chain settle. Prints the economic tables (bandwidth
 * dispute rule, proxy route, lottery) and the gas figures. The bandwidth flow runs with the owners' own keys and,
 * as the tab does, with operator keys on both sides (OperatorRegistry).
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { network } from "hardhat";
import { type Abi, type Address, type Hex, parseEther, toHex, zeroHash } from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";
import {
  type AgreedUsage,
  BandwidthMeter,
  BYTES_PER_MB,
  boundSigner,
  claimableBytes,
  settleUsage,
  type Usage,
  usageDigest,
} from "../../web/src/lib/payments/bandwidth.ts";
import { BANDWIDTH_DOMAIN_NAME, paymentDomain, USAGE_TYPES } from "../../web/src/lib/payments/eip712.ts";
import { HashChain, HashChainReceiver, hashChainChannelId } from "../../web/src/lib/payments/hashchain.ts";
import {
  type LotState,
  LotStatus,
  lotCommitment,
  lotDeposit,
  newLotSecret,
  TicketBook,
  TicketIssuer,
  winningIndex,
} from "../../web/src/lib/payments/lottery.ts";
import { MerkleTokenPurse, MerkleTokenSet, merkleChannelId } from "../../web/src/lib/payments/merkle.ts";

const MNEMONIC = "test test test test test test test test test test test junk";
const [deployer, payer, payee, proxy, other, payerOperator, payeeOperator] = [0, 1, 2, 3, 4, 5, 6].map((i) =>
  mnemonicToAccount(MNEMONIC, { addressIndex: i }),
) as [HDAccount, HDAccount, HDAccount, HDAccount, HDAccount, HDAccount, HDAccount];

const { viem, networkHelpers } = await network.create();
const publicClient = await viem.getPublicClient();
const chainId = await publicClient.getChainId();

const gas: Record<string, bigint> = {};
const PAYMENTS = 1000;

async function mined(hash: Promise<Hex>): Promise<bigint> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash });
  assert.equal(receipt.status, "success");
  return receipt.gasUsed;
}

async function chainNow(): Promise<bigint> {
  return (await publicClient.getBlock()).timestamp;
}

/** A deployed contract: the generated artifact types are not part of the TypeScript project, so calls go by name. */
interface Deployed {
  address: Address;
  abi: Abi;
}

async function deploy(name: string, args: readonly unknown[]): Promise<Deployed> {
  const contract = await viem.deployContract(name, args as never);
  return { address: contract.address, abi: contract.abi as Abi };
}

/** Sends `functionName(args)` from `account` and returns the transaction hash. */
async function send(c: Deployed, functionName: string, args: readonly unknown[], account: Address = deployer.address) {
  const wallet = await viem.getWalletClient(account);
  return wallet.writeContract({ address: c.address, abi: c.abi, functionName, args, account, chain: wallet.chain });
}

async function call<T>(c: Deployed, functionName: string, args: readonly unknown[] = []): Promise<T> {
  return (await publicClient.readContract({ address: c.address, abi: c.abi, functionName, args })) as T;
}

async function approve(spender: Deployed, account: Address): Promise<void> {
  await mined(send(token, "approve", [spender.address, 2n ** 256n - 1n], account));
}

async function balance(token: Deployed, who: Address): Promise<bigint> {
  return call<bigint>(token, "balanceOf", [who]);
}

const token = await deploy("Token", [deployer.address, parseEther("100000000"), true]);
for (const account of [payer, payee, proxy, other]) {
  await mined(send(token, "transfer", [account.address, parseEther("1000000")]));
}

/** The tabs' keys: the payer's for ROLE_PAYER (4), the payee's for ROLE_PAYEE (8), for a year. */
const operators = await deploy("OperatorRegistry", []);
const ROLE_PAYER = 4;
const ROLE_PAYEE = 8;
{
  const expiresAt = (await publicClient.getBlock()).timestamp + 365n * 86400n;
  await mined(send(operators, "setOperator", [payerOperator.address, ROLE_PAYER, expiresAt], payer.address));
  await mined(send(operators, "setOperator", [payeeOperator.address, ROLE_PAYEE, expiresAt], payee.address));
}
const BANDWIDTH_WINDOWS = [3600n, 86400n] as const;

/** The payer's EIP-2612 permit for `spender` to take `value`, valid for an hour, as the contracts take it. */
async function signPermit(spender: Deployed, value: bigint) {
  const nonce = await call<bigint>(token, "nonces", [payer.address]);
  const deadline = (await chainNow()) + 3600n;
  const permit = await payer.signTypedData({
    domain: { name: "Tabula", version: "1", chainId, verifyingContract: token.address },
    types: {
      Permit: [
        { name: "owner", type: "address" },
        { name: "spender", type: "address" },
        { name: "value", type: "uint256" },
        { name: "nonce", type: "uint256" },
        { name: "deadline", type: "uint256" },
      ],
    },
    primaryType: "Permit",
    message: { owner: payer.address, spender: spender.address, value, nonce, deadline },
  });
  const r: Hex = `0x${permit.slice(2, 66)}`;
  const s: Hex = `0x${permit.slice(66, 130)}`;
  return { value, deadline, v: Number.parseInt(permit.slice(130, 132), 16), r, s };
}

describe("payments, two parties against the chain", () => {
  before(async () => {
    // One ERC-20 transfer between holders that both hold tokens: the yardstick for the per-payment target.
    gas["ERC-20 transfer"] = await mined(send(token, "transfer", [payee.address, 1n], payer.address));
  });

  // The per-transaction gas does not depend on the number of units: operator keys run at 1000 only.
  for (const keys of ["owner", "operator"] as const) {
    for (const payments of keys === "owner" ? [PAYMENTS, 10 * PAYMENTS] : [PAYMENTS]) {
      it(`bandwidth, ${keys} keys: ${payments} usage units both signed, close with an old unit, a watchtower answers, settle`, async () => {
        // With operator keys the owners open (their money moves) and bind the tabs' keys, which do the rest.
        const tab = keys === "owner" ? { payer, payee } : { payer: payerOperator, payee: payeeOperator };
        const suffix = keys === "owner" ? "" : ", operator keys";
        const channels = await deploy("BandwidthChannel", [token.address, operators.address, ...BANDWIDTH_WINDOWS]);
        const contract = { chainId, address: channels.address };
        const deposit = parseEther("100");
        const price = parseEther("0.001"); // per MB
        const permit = await signPermit(channels, deposit);
        const openGas = await mined(
          send(
            channels,
            "openWithPermit",
            [payee.address, tab.payer.address, deposit, price, 1_000_000n, permit],
            payer.address,
          ),
        );
        const id = 1n;
        const confirmGas = await mined(send(channels, "confirm", [id, tab.payee.address], tab.payee.address));
        const bound = await call<{ payerSigner: Address; payeeSigner: Address }>(channels, "getChannel", [id]);
        assert.deepEqual([bound.payerSigner, bound.payeeSigner], [tab.payer.address, tab.payee.address]);

        const now = await chainNow();
        const common = { contract, channelId: id, lossToleranceBytes: 1_000_000n, now: () => now };
        const a = new BandwidthMeter({
          ...common,
          role: "payer",
          self: tab.payer,
          counterpartySigner: boundSigner(bound, "payee"),
        });
        const b = new BandwidthMeter({
          ...common,
          role: "payee",
          self: tab.payee,
          counterpartySigner: boundSigner(bound, "payer"),
        });
        const CHUNK_BYTES = 8 * 1024;
        let old: AgreedUsage | undefined;
        let linked = 0;
        for (let unit = 1; unit <= payments; unit++) {
          assert.ok(b.canServe(CHUNK_BYTES));
          b.record(CHUNK_BYTES);
          a.record(CHUNK_BYTES - (unit % 7 === 0 ? 100 : 0)); // the payer loses a few packets
          const agreed = await b.countersign(await a.propose());
          await a.acceptCountersignature(agreed);
          if (agreed.usage.link !== `0x${"00".repeat(32)}`) linked++;
          if (unit === payments / 2) old = agreed;
        }
        const last = a.agreed;
        assert.equal(last.usage.sequence, BigInt(payments));
        assert.ok(linked >= Math.floor((payments * CHUNK_BYTES) / 5_000_000), "a link every 5 MB");

        // The payer closes with an old unit while the payee is offline; a watchtower holding the last unit answers.
        const oldUnit = old as AgreedUsage;
        const closeGas = await mined(
          send(
            channels,
            "close",
            [id, oldUnit.usage, oldUnit.payerSignature, oldUnit.payeeSignature],
            tab.payer.address,
          ),
        );
        gas[`challenge by a watchtower${suffix}`] = await mined(
          send(channels, "challenge", [id, last.usage, last.payerSignature, last.payeeSignature], other.address),
        );
        await networkHelpers.time.increase(86401);
        const before = await balance(token, payee.address);
        const payerBefore = await balance(token, payer.address);
        const tabBalances = [await balance(token, tab.payer.address), await balance(token, tab.payee.address)];
        const settleGas = await mined(send(channels, "settle", [id]));
        const expected = settleUsage(
          { deposit, pricePerMB: price, lossToleranceBytes: 1_000_000n },
          {
            agreedBytes: last.usage.totalBytes,
            payerClaimBytes: last.usage.totalBytes,
            payeeClaimBytes: last.usage.totalBytes,
          },
        );
        assert.equal((await balance(token, payee.address)) - before, expected.paid);
        assert.equal(expected.paid, (last.usage.totalBytes * price) / BYTES_PER_MB);
        if (keys === "operator") {
          assert.equal((await balance(token, payer.address)) - payerBefore, expected.refunded, "refund to the owner");
          assert.deepEqual(
            [await balance(token, tab.payer.address), await balance(token, tab.payee.address)],
            tabBalances,
            "the operator keys receive nothing",
          );
          // The next channel opened from a set allowance, as the tab opens its next ones (after a settled one, as
          // in the dispute table's opens).
          await approve(channels, payer.address);
          gas["open (allowance already set), operator keys"] = await mined(
            send(channels, "open", [payee.address, tab.payer.address, deposit, price, 1_000_000n], payer.address),
          );
        }
        Object.assign(gas, {
          [`open with permit${suffix}`]: openGas,
          [`confirm${suffix}`]: confirmGas,
          [`close${suffix}`]: closeGas,
          [`settle${suffix}`]: settleGas,
        });
        gas[`bandwidth per payment, permit open${suffix} (${payments})`] =
          (openGas + confirmGas + closeGas + settleGas) / BigInt(payments);
      });
    }
  }

  it("bandwidth dispute rule: a liar is never better off, and never burns an honest side's tokens", async () => {
    const MB = BYTES_PER_MB;
    const TOLERANCE = MB;
    const price = parseEther("1");
    const deposit = parseEther("100");
    // Both signed 19.5 MB; then the payee served 0.5 MB more and the payer signed its proposal of 20 MB, which the
    // payee had not countersigned when the channel closed. True usage: 20 MB.
    const AGREED = 19n * MB + MB / 2n;
    const TRUE_BYTES = 20n * MB;
    type Strategy = "honest" | "small lie" | "big lie";
    const strategies: Strategy[] = ["honest", "small lie", "big lie"];
    // A lying payer under-reports (the big lie below what both signed), a lying payee over-reports (the big lie
    // beyond the tolerance above the payer's proposal). A refused claim is replaced by the most the contract takes.
    const payerClaim: Record<Strategy, bigint> = { honest: TRUE_BYTES, "small lie": AGREED, "big lie": 12n * MB };
    const payeeClaim: Record<Strategy, bigint> = {
      honest: TRUE_BYTES,
      "small lie": TRUE_BYTES + MB / 2n,
      "big lie": TRUE_BYTES + 4n * MB,
    };
    const channels = await deploy("BandwidthChannel", [token.address, operators.address, ...BANDWIDTH_WINDOWS]);
    await approve(channels, payer.address);
    const contract = { chainId, address: channels.address };
    const sign = (who: HDAccount, usage: Usage) =>
      who.signTypedData({
        domain: paymentDomain(BANDWIDTH_DOMAIN_NAME, contract),
        types: USAGE_TYPES,
        primaryType: "Usage",
        message: usage,
      });

    const rows: {
      payer: Strategy;
      payee: Strategy;
      payerCost: bigint;
      payeeRevenue: bigint;
      burned: bigint;
      disputed: boolean;
      refused: string;
    }[] = [];
    let id = 0n;
    for (const ps of strategies) {
      for (const es of strategies) {
        id++;
        const payerBefore = await balance(token, payer.address);
        const payeeBefore = await balance(token, payee.address);
        const supplyBefore = await call<bigint>(token, "totalSupply");
        gas["open (allowance already set)"] = await mined(
          send(channels, "open", [payee.address, payer.address, deposit, price, TOLERANCE], payer.address),
        );
        await mined(send(channels, "confirm", [id, payee.address], payee.address));
        const now = await chainNow();
        const common = { contract, channelId: id, lossToleranceBytes: TOLERANCE, now: () => now };
        const a = new BandwidthMeter({ ...common, role: "payer", self: payer, counterpartySigner: payee.address });
        const b = new BandwidthMeter({ ...common, role: "payee", self: payee, counterpartySigner: payer.address });
        for (let i = 0; i < 30; i++) {
          a.record(AGREED / 30n);
          b.record(AGREED / 30n);
          await a.acceptCountersignature(await b.countersign(await a.propose()));
        }
        a.record(TRUE_BYTES - AGREED);
        b.record(TRUE_BYTES - AGREED);
        const proposal = await a.propose();
        const agreed = a.agreed;
        assert.equal(agreed.usage.totalBytes, AGREED);
        await mined(
          send(channels, "close", [id, agreed.usage, agreed.payerSignature, agreed.payeeSignature], payee.address),
        );
        // The payer links to the unit both signed; the payee to the payer's proposal.
        const claimed = { payer: AGREED, payee: AGREED };
        const refused: string[] = [];
        for (const [side, strategy, wanted, who] of [
          ["payer", ps, payerClaim[ps], payer],
          ["payee", es, payeeClaim[es], payee],
        ] as const) {
          const [linked, linkedSignature] =
            side === "payer" ? [agreed.usage, agreed.payeeSignature] : [proposal.usage, proposal.signature];
          const ceiling = claimableBytes(wanted, AGREED, linked.totalBytes, TOLERANCE);
          for (const totalBytes of wanted === ceiling ? [wanted] : [wanted, ceiling]) {
            const usage: Usage = {
              channelId: id,
              sequence: linked.sequence + 1n,
              totalBytes,
              time: now,
              link: usageDigest(contract, linked),
            };
            const signature = await sign(who, usage);
            try {
              await mined(send(channels, "submitClaim", [id, usage, signature, linked, linkedSignature], who.address));
              claimed[side] = totalBytes;
              break;
            } catch {
              refused.push(`${side} ${strategy}`);
            }
          }
        }
        await networkHelpers.time.increase(86401);
        await mined(send(channels, "settle", [id]));
        const payerCost = payerBefore - (await balance(token, payer.address));
        const payeeRevenue = (await balance(token, payee.address)) - payeeBefore;
        const burned = supplyBefore - (await call<bigint>(token, "totalSupply"));
        const expected = settleUsage(
          { deposit, pricePerMB: price, lossToleranceBytes: TOLERANCE },
          { agreedBytes: AGREED, payerClaimBytes: claimed.payer, payeeClaimBytes: claimed.payee },
        );
        assert.equal(payeeRevenue, expected.paid, "contract and app agree on the payout");
        assert.equal(payerCost, deposit - expected.refunded);
        assert.equal(burned, payerCost - payeeRevenue, "the total supply falls by exactly what was burned");
        rows.push({
          payer: ps,
          payee: es,
          payerCost,
          payeeRevenue,
          burned,
          disputed: expected.disputed,
          refused: refused.join(", "),
        });
      }
    }
    const fmt = (x: bigint) => (Number(x) / 1e18).toFixed(2).padStart(7);
    console.log(
      `\nDispute rule, both signed ${Number(AGREED) / 1e6} MB, true usage ${TRUE_BYTES / MB} MB at 1 TAB/MB, tolerance ${TOLERANCE / MB} MB`,
    );
    console.log("payer       payee      | payer pays | payee gets | burned | dispute | refused on-chain");
    for (const row of rows) {
      console.log(
        `${row.payer.padEnd(11)} ${row.payee.padEnd(10)} | ${fmt(row.payerCost)}    | ${fmt(row.payeeRevenue)}    | ${fmt(row.burned)}| ${String(row.disputed).padEnd(7)} | ${row.refused}`,
      );
    }
    const at = (p: Strategy, e: Strategy) => rows.find((r) => r.payer === p && r.payee === e) as (typeof rows)[number];
    for (const s of strategies) {
      for (const lie of ["small lie", "big lie"] as const) {
        // Whatever the payee does, a lying payer pays at least what an honest one pays.
        assert.ok(at(lie, s).payerCost >= at("honest", s).payerCost, `payer ${lie} vs payee ${s}`);
        // Whatever the payer does, a lying payee gets at most what an honest one gets.
        assert.ok(at(s, lie).payeeRevenue <= at(s, "honest").payeeRevenue, `payee ${lie} vs payer ${s}`);
        // A liar facing an honest side burns nothing of it.
        assert.equal(at(lie, "honest").burned, 0n, `payer ${lie} burns nothing of an honest payee`);
        assert.equal(at("honest", lie).burned, 0n, `payee ${lie} burns nothing of an honest payer`);
      }
    }
    assert.equal(at("honest", "honest").payeeRevenue, parseEther("19.5"));
    assert.equal(at("big lie", "big lie").burned, parseEther("1.5"), "two liars burn the difference of their claims");
  });

  it("bandwidth route: colluding ends never leave an honest proxy below its lock plus its 10 % fee", async () => {
    const MB = BYTES_PER_MB;
    const channels = await deploy("BandwidthChannel", [token.address, operators.address, ...BANDWIDTH_WINDOWS]);
    await approve(channels, payer.address);
    await approve(channels, proxy.address);
    const contract = { chainId, address: channels.address };
    const price = parseEther("1");
    const amount = parseEther("100");
    const FORWARDED = 50n * MB;
    const sign = (who: HDAccount, usage: Usage) =>
      who.signTypedData({
        domain: paymentDomain(BANDWIDTH_DOMAIN_NAME, contract),
        types: USAGE_TYPES,
        primaryType: "Usage",
        message: usage,
      });
    console.log("\nProxy route, 50 MB forwarded at 1 TAB/MB (upstream 1.1 TAB/MB), tolerance 1 MB");
    console.log("ends        | proxy net | payee gets | payer pays | refused on-chain");
    let next = 0n;
    for (const ends of ["honest", "colluding"] as const) {
      const proxyBefore = await balance(token, proxy.address);
      const payerBefore = await balance(token, payer.address);
      const payeeBefore = await balance(token, payee.address);
      await mined(send(channels, "openRoute", [proxy.address, payer.address, amount, price, MB], payer.address));
      const up = ++next;
      await mined(send(channels, "confirm", [up, proxy.address], proxy.address));
      await mined(send(channels, "openRouteLeg", [up, payee.address, proxy.address], proxy.address));
      const down = ++next;
      await mined(send(channels, "confirm", [down, payee.address], payee.address));
      const now = await chainNow();
      // The proxy signs on each leg exactly the 50 MB it forwarded.
      const legs = [
        { id: up, from: payer, to: proxy },
        { id: down, from: proxy, to: payee },
      ];
      for (const leg of legs) {
        const usage: Usage = { channelId: leg.id, sequence: 10n, totalBytes: FORWARDED, time: now, link: zeroHash };
        const [x, y] = [await sign(leg.from, usage), await sign(leg.to, usage)];
        await mined(send(channels, "close", [leg.id, usage, x, y], leg.to.address));
      }
      const refused: string[] = [];
      if (ends === "colluding") {
        // The payer claims 0 upstream; the payee claims 5 MB more than the proxy signed downstream.
        const attempts = [
          { id: up, who: payer, totalBytes: 0n, name: "payer claims 0" },
          { id: down, who: payee, totalBytes: FORWARDED + 5n * MB, name: "payee claims +5 MB" },
          { id: down, who: payee, totalBytes: FORWARDED + MB, name: "payee claims +1 MB" },
        ];
        for (const t of attempts) {
          const usage: Usage = { channelId: t.id, sequence: 11n, totalBytes: t.totalBytes, time: now, link: zeroHash };
          try {
            await mined(
              send(channels, "submitClaim", [t.id, usage, await sign(t.who, usage), usage, "0x"], t.who.address),
            );
          } catch {
            refused.push(t.name);
          }
        }
      }
      await networkHelpers.time.increase(86401);
      await mined(send(channels, "settle", [up]));
      await mined(send(channels, "settle", [down]));
      const proxyNet = (await balance(token, proxy.address)) - proxyBefore;
      const payeeGets = (await balance(token, payee.address)) - payeeBefore;
      const payerPays = payerBefore - (await balance(token, payer.address));
      const fmt = (x: bigint) => (Number(x) / 1e18).toFixed(2).padStart(8);
      console.log(
        `${ends.padEnd(11)} | ${fmt(proxyNet)}  | ${fmt(payeeGets)}   | ${fmt(payerPays)}   | ${refused.join(", ")}`,
      );
      assert.equal(proxyNet, payeeGets / 10n, "the proxy keeps exactly its 10 % fee");
      assert.equal(payeeGets, parseEther("50"));
    }
  });

  it("hash chain: tokens streamed and redeemed once; gas at depth 1, 100, 1000 and 10000", async () => {
    const registry = await deploy("OperatorRegistry", []);
    const channels = await deploy("HashChainChannel", [token.address, registry.address]);
    await approve(channels, payer.address);
    const contract = { chainId, address: channels.address };
    const unitValue = parseEther("0.001");
    for (const depth of [1, 100, PAYMENTS, 10 * PAYMENTS]) {
      const units = Math.max(depth, PAYMENTS);
      const salt = toHex(depth, { size: 32 });
      const id = hashChainChannelId(contract, payer.address, payee.address, salt);
      const { chain } = HashChain.generate(id, units);
      const expiry = (await chainNow()) + 86400n;
      const openGas = await mined(
        send(channels, "open", [payee.address, salt, toHex(chain.anchor), units, unitValue, expiry], payer.address),
      );
      gas["hash chain open"] = openGas;
      const receiver = new HashChainReceiver(id, chain.anchor, units);
      for (let j = 0; j < depth; j++) receiver.accept(chain.next().token);
      const { preimage, depth: proven } = receiver.redemption();
      const before = await balance(token, payee.address);
      const redeemGas = await mined(
        send(channels, "redeem", [toHex(id), toHex(preimage), BigInt(proven)], payee.address),
      );
      gas[`hash chain redeem depth ${depth}`] = redeemGas;
      assert.equal((await balance(token, payee.address)) - before, BigInt(depth) * unitValue);
      if (depth >= PAYMENTS) gas[`hash chain per payment (${depth})`] = (openGas + redeemGas) / BigInt(depth);
    }
    // The payee's tab redeems with its operator key; the tokens go to the payee.
    await mined(
      send(registry, "setOperator", [payeeOperator.address, ROLE_PAYEE, (await chainNow()) + 86400n], payee.address),
    );
    const salt = toHex("operator", { size: 32 });
    const id = hashChainChannelId(contract, payer.address, payee.address, salt);
    const { chain } = HashChain.generate(id, PAYMENTS);
    const expiry = (await chainNow()) + 86400n;
    const openGas = await mined(
      send(channels, "open", [payee.address, salt, toHex(chain.anchor), PAYMENTS, unitValue, expiry], payer.address),
    );
    const receiver = new HashChainReceiver(id, chain.anchor, PAYMENTS);
    for (let j = 0; j < PAYMENTS; j++) receiver.accept(chain.next().token);
    const { preimage, depth } = receiver.redemption();
    const [payeeBefore, tabBefore] = [await balance(token, payee.address), await balance(token, payeeOperator.address)];
    const redeemGas = await mined(
      send(channels, "redeem", [toHex(id), toHex(preimage), BigInt(depth)], payeeOperator.address),
    );
    gas[`hash chain redeem depth ${PAYMENTS} by the payee's operator`] = redeemGas;
    assert.equal((await balance(token, payee.address)) - payeeBefore, BigInt(PAYMENTS) * unitValue);
    assert.equal(await balance(token, payeeOperator.address), tabBefore, "nothing to the operator");
    gas[`hash chain per payment, payee's operator redeems (${PAYMENTS})`] = (openGas + redeemGas) / BigInt(PAYMENTS);
  });

  it("merkle: tokens handed out one by one, redeemed in multi-proof batches of 1, 32, 256 and the rest", async () => {
    const registry = await deploy("OperatorRegistry", []);
    const channels = await deploy("MerkleChannel", [token.address, registry.address]);
    await approve(channels, payer.address);
    const contract = { chainId, address: channels.address };
    const salt = toHex(1, { size: 32 });
    const channelId = merkleChannelId(contract, payer.address, salt);
    const value = parseEther("0.001");
    // 1100 tokens: the last 100 pay another payee, whose tokens the payee never sees.
    const set = MerkleTokenSet.create(
      channelId,
      Array.from({ length: 1100 }, (_, i) => ({ payee: i >= 1000 ? other.address : payee.address, value })),
    );
    const allocations = set.allocations();
    assert.deepEqual(
      allocations.map((a) => a.amount),
      [1000n * value, 100n * value],
    );
    const openGas = await mined(
      send(channels, "open", [salt, set.root, allocations, (await chainNow()) + 86400n], payer.address),
    );
    gas["merkle open (2 payees)"] = openGas;
    // The payee checks, before it serves, what only its tokens can draw on.
    const allocation = await call<bigint>(channels, "allocationOf", [channelId, payee.address]);
    const purse = new MerkleTokenPurse({ channelId, root: set.root, payee: payee.address, allocation });
    for (let i = 0n; i < 1100n; i++) {
      const t = set.token(i);
      if (t.payee === payee.address) purse.accept(t);
    }
    assert.equal(purse.size, 1000);
    let redeemGas = 0n;
    const before = await balance(token, payee.address);
    // The last batch is sent by the payee's tab with its operator key; the tokens go to the payee.
    await mined(
      send(registry, "setOperator", [payeeOperator.address, ROLE_PAYEE, (await chainNow()) + 86400n], payee.address),
    );
    for (const batch of [1, 32, 256, 711]) {
      const r = purse.redemption(batch);
      const sender = batch === 711 ? payeeOperator.address : payee.address;
      const used = await mined(send(channels, "redeem", [channelId, r.payee, r.tokens, r.proof, r.proofFlags], sender));
      gas[`merkle redeem batch ${batch}${batch === 711 ? " by the payee's operator" : ""}`] = used;
      redeemGas += used;
      purse.markRedeemed(r.tokens.map((t) => t.index));
      assert.equal(purse.allocation, await call<bigint>(channels, "allocationOf", [channelId, payee.address]));
    }
    assert.equal(purse.size, 0);
    assert.equal((await balance(token, payee.address)) - before, 1000n * value);
    assert.equal(await balance(token, payeeOperator.address), 0n, "nothing to the operator");
    gas["merkle per payment (1000)"] = (openGas + redeemGas) / 1000n;
  });

  describe("lottery", () => {
    const REVEAL_WINDOW_SECONDS = 3600n;
    const CLAIM_WINDOW_SECONDS = 86400n;
    const SHARE_WINDOW_SECONDS = 86400n;
    const ticketValue = parseEther("0.001");
    const covered = [payee.address, other.address];
    let lottery: Deployed;
    let contract: { chainId: number; address: Address };
    let lastLotId = 0n;

    let registry: Deployed;
    const readLot = async (lotId: bigint): Promise<LotState> => ({
      ...(await call<Omit<LotState, "signer">>(lottery, "getLot", [lotId])),
      signer: await call<Address>(lottery, "signerOf", [lotId]),
    });
    const isCovered = (lotId: bigint, who: Address) => call<boolean>(lottery, "isCovered", [lotId, who]);

    async function fund(
      lotSize: number,
      secret: Hex,
      signer: Address = payer.address,
    ): Promise<{ lotId: bigint; gasUsed: bigint }> {
      const closeBy = (await chainNow()) + 86400n;
      const args = [lotSize, ticketValue, lotCommitment(payer.address, secret), closeBy, covered, signer];
      const gasUsed = await mined(send(lottery, "createLot", args, payer.address));
      lastLotId += 1n;
      return { lotId: lastLotId, gasUsed };
    }

    /** Closes the lot, mines the seed block and reveals; returns the lot as revealed. */
    async function closeAndReveal(
      issuer: TicketIssuer,
      closer: Address = payer.address,
    ): Promise<{ lot: LotState; close: bigint; reveal: bigint }> {
      issuer.close();
      const close = await mined(send(lottery, "closeLot", [issuer.lotId], closer));
      await networkHelpers.mine(1);
      const reveal = await mined(send(lottery, "reveal", issuer.revealArgs(), payer.address));
      return { lot: await readLot(issuer.lotId), close, reveal };
    }

    before(async () => {
      registry = await deploy("OperatorRegistry", []);
      lottery = await deploy("Lottery", [
        token.address,
        registry.address,
        REVEAL_WINDOW_SECONDS,
        CLAIM_WINDOW_SECONDS,
        SHARE_WINDOW_SECONDS,
      ]);
      contract = { chainId, address: lottery.address };
    });

    it("1000 tickets off-chain, then fund + close + reveal + one redemption pay the whole lot", async () => {
      const lotSize = PAYMENTS;
      const lotValue = BigInt(lotSize) * ticketValue;
      const secret = newLotSecret();

      // Funding with a permit: one signature approves the lot, the fine and the two payees' covers.
      const deposit = lotDeposit(lotSize, ticketValue, covered.length);
      const permit = await signPermit(lottery, deposit);
      const payerBefore = await balance(token, payer.address);
      gas["lottery fund with permit (2 covers)"] = await mined(
        send(
          lottery,
          "createLotWithPermit",
          [
            lotSize,
            ticketValue,
            lotCommitment(payer.address, secret),
            (await chainNow()) + 86400n,
            covered,
            payer.address,
            permit,
          ],
          payer.address,
        ),
      );
      lastLotId += 1n;
      const lotId = lastLotId;
      assert.equal(payerBefore - (await balance(token, payer.address)), deposit, "lot, fine and two covers");

      // Payments: each a ticket the payee checks against the lot's state and its cover; nothing goes on-chain.
      const issuer = new TicketIssuer({ contract, lotId, lotSize, signer: payer, secret });
      const books = new Map<Address, TicketBook>(
        [payee.address, other.address].map((p) => [p, new TicketBook({ contract, lotId, payee: p })]),
      );
      const cover = new Map<Address, boolean>();
      for (const p of books.keys()) cover.set(p, await isCovered(lotId, p));
      let lot = await readLot(lotId);
      const now = await chainNow();
      for (let i = 0; i < lotSize; i++) {
        if (i % 100 === 0) lot = await readLot(lotId);
        const to = i % 4 === 3 ? other.address : payee.address;
        await (books.get(to) as TicketBook).accept(await issuer.issue(to), lot, cover.get(to) === true, now);
      }
      assert.equal(issuer.remaining, 0);
      // A payee the lot does not cover refuses its tickets.
      const stranger = new TicketBook({ contract, lotId, payee: proxy.address });
      const spare = await new TicketIssuer({ contract, lotId, lotSize, signer: payer, secret }).issue(proxy.address);
      await assert.rejects(stranger.accept(spare, lot, await isCovered(lotId, proxy.address), now), /no cover/);

      const drawn = await closeAndReveal(issuer);
      gas["lottery close"] = drawn.close;
      gas["lottery reveal"] = drawn.reveal;
      lot = drawn.lot;
      // A ticket signed after the close is refused on the lot's state alone.
      const late = await new TicketIssuer({ contract, lotId, lotSize, signer: payer, secret }).issue(payee.address);
      await assert.rejects(
        (books.get(payee.address) as TicketBook).accept(late, lot, true, now),
        /closed/,
        "no ticket is accepted once the lot is closed",
      );
      const seed = (await publicClient.getBlock({ blockNumber: BigInt(lot.seedBlock) })).hash;
      assert.equal(lot.status, LotStatus.Revealed);
      assert.equal(lot.winningIndex, winningIndex(secret, seed, lotId, lotSize), "the app predicts the winning index");

      // Exactly one payee holds the winning index; it redeems and is paid the whole lot.
      const winners = [...books.values()].filter((b) => b.redemption(lot) !== undefined);
      assert.equal(winners.length, 1);
      const winner = winners[0] as TicketBook;
      const winnerBefore = await balance(token, winner.payee);
      gas["lottery redeem (winner)"] = await mined(
        send(lottery, "redeem", winner.redemption(lot) as readonly unknown[], winner.payee),
      );
      assert.equal((await balance(token, winner.payee)) - winnerBefore, lotValue);
      const coveredNow = await isCovered(lotId, winner.payee);
      assert.equal(winner.redemption(await readLot(lotId), coveredNow), undefined, "nothing more to redeem");

      // After the claim window the payer takes back its fine and the covers: the lot cost it the lot value.
      await networkHelpers.time.increase(REVEAL_WINDOW_SECONDS + CLAIM_WINDOW_SECONDS + 1n);
      gas["lottery finish (fine and covers back)"] = await mined(send(lottery, "finish", [lotId], payer.address));
      assert.equal(payerBefore - (await balance(token, payer.address)), lotValue);

      // (fund + close + reveal + one winning redemption) / 1000; returning the fine and covers is a fifth.
      const perLot = gas["lottery close"] + gas["lottery reveal"] + gas["lottery redeem (winner)"];
      const fundGas = gas["lottery fund with permit (2 covers)"] as bigint;
      gas["lottery per payment (1000)"] = (fundGas + perLot) / BigInt(lotSize);
      gas["lottery per payment + finish (1000)"] =
        (fundGas + perLot + gas["lottery finish (fine and covers back)"]) / BigInt(lotSize);
    });

    it("a lot of 10000: the same five transactions, a tenth of the gas per payment", async () => {
      // On-chain cost does not depend on how many tickets were handed out; only the winner's ticket is signed.
      await approve(lottery, payer.address);
      const lotSize = 10 * PAYMENTS;
      const secret = newLotSecret();
      const { lotId, gasUsed } = await fund(lotSize, secret);
      const issuer = new TicketIssuer({ contract, lotId, lotSize, signer: payer, secret });
      const { lot, close, reveal } = await closeAndReveal(issuer);
      const ticket = await new TicketIssuer({
        contract,
        lotId,
        lotSize,
        signer: payer,
        secret,
        issued: lot.winningIndex,
      }).issue(payee.address);
      const redeem = await mined(
        send(lottery, "redeem", [lotId, payee.address, ticket.index, ticket.nonce, ticket.signature], payee.address),
      );
      await networkHelpers.time.increase(REVEAL_WINDOW_SECONDS + CLAIM_WINDOW_SECONDS + 1n);
      const finish = await mined(send(lottery, "finish", [lotId], payer.address));
      gas["lottery per payment (10000)"] = (gasUsed + close + reveal + redeem) / BigInt(lotSize);
      gas["lottery per payment + finish (10000)"] = (gasUsed + close + reveal + redeem + finish) / BigInt(lotSize);
    });

    it("operator keys: the payer's tab signs the tickets and closes, the payee's tab redeems; revoking voids nothing", async () => {
      // A Lottery of its own, so that its first lot is measured as the first lot above is.
      const main = { lottery, contract };
      lottery = await deploy("Lottery", [
        token.address,
        registry.address,
        REVEAL_WINDOW_SECONDS,
        CLAIM_WINDOW_SECONDS,
        SHARE_WINDOW_SECONDS,
      ]);
      contract = { chainId, address: lottery.address };
      const lotIdBefore = lastLotId;
      lastLotId = 0n;
      try {
        const lotSize = PAYMENTS;
        const lotValue = BigInt(lotSize) * ticketValue;
        const expiry = (await chainNow()) + 7n * 86400n;
        await mined(send(registry, "setOperator", [payerOperator.address, ROLE_PAYER, expiry], payer.address));
        await mined(send(registry, "setOperator", [payeeOperator.address, ROLE_PAYEE, expiry], payee.address));
        const permitFund = async (secret: Hex, signer: Address) => {
          const permit = await signPermit(lottery, lotDeposit(lotSize, ticketValue, covered.length));
          const closeBy = (await chainNow()) + 86400n;
          const commitment = lotCommitment(payer.address, secret);
          const args = [lotSize, ticketValue, commitment, closeBy, covered, signer, permit];
          const gasUsed = await mined(send(lottery, "createLotWithPermit", args, payer.address));
          lastLotId += 1n;
          return { lotId: lastLotId, gasUsed };
        };
        /** Closes and reveals, then redeems the winning index (signed after the draw: the gas does not depend on
         * when) for the payee from `redeemer`. */
        const settle = async (lotId: bigint, secret: Hex, signer: HDAccount, closer: Address, redeemer: Address) => {
          const issuer = new TicketIssuer({ contract, lotId, lotSize, signer, secret });
          const { lot, close, reveal } = await closeAndReveal(issuer, closer);
          const ticket = await new TicketIssuer({
            contract,
            lotId,
            lotSize,
            signer,
            secret,
            issued: lot.winningIndex,
          }).issue(payee.address);
          const args = [lotId, payee.address, ticket.index, ticket.nonce, ticket.signature];
          const redeem = await mined(send(lottery, "redeem", args, redeemer));
          return { close, reveal, redeem };
        };

        const windows = REVEAL_WINDOW_SECONDS + CLAIM_WINDOW_SECONDS + 1n;
        // Every lot below is funded while the contract holds no tokens, as the lots above are.
        const finishAll = async (...lotIds: bigint[]) => {
          await networkHelpers.time.increase(windows);
          const used: bigint[] = [];
          for (const id of lotIds) used.push(await mined(send(lottery, "finish", [id], payer.address)));
          return used;
        };

        // The contract's first lot, bound to a key the payer never bound before: the key is stored once.
        const firstSecret = newLotSecret();
        const first = await permitFund(firstSecret, payerOperator.address);
        gas["lottery fund with permit, new operator key (2 covers)"] = first.gasUsed;
        const byTabs = await settle(
          first.lotId,
          firstSecret,
          payerOperator,
          payerOperator.address,
          payeeOperator.address,
        );
        gas["lottery close by the payer's operator"] = byTabs.close;
        gas["lottery redeem by the payee's operator (winner)"] = byTabs.redeem;
        await finishAll(first.lotId);

        // A later lot signed by the payer itself, for comparison with the operator key's later lots.
        const ownSecret = newLotSecret();
        const own = await permitFund(ownSecret, payer.address);
        gas["lottery fund with permit, later lot (2 covers)"] = own.gasUsed;
        const byOwners = await settle(own.lotId, ownSecret, payer, payer.address, payee.address);
        const [ownFinish] = (await finishAll(own.lotId)) as [bigint];

        // A later lot bound to the same key: the lot keeps only the key's id, next to the ticket value.
        const secret = newLotSecret();
        const { lotId, gasUsed } = await permitFund(secret, payerOperator.address);
        gas["lottery fund with permit, operator key (2 covers)"] = gasUsed;
        const open = await readLot(lotId);
        assert.equal(open.signer, payerOperator.address);
        assert.equal(open.signerKey, Number(first.lotId), "the key is stored under the first lot that bound it");
        const issuer = new TicketIssuer({ contract, lotId, lotSize, signer: payerOperator, secret });
        const book = new TicketBook({ contract, lotId, payee: payee.address });
        const now = await chainNow();
        for (let i = 0; i < 8; i++) await book.accept(await issuer.issue(payee.address), open, true, now);
        // The payer's own wallet signature is not this lot's ticket.
        const wallet = new TicketIssuer({ contract, lotId, lotSize, signer: payer, secret, issued: 8 });
        await assert.rejects(book.accept(await wallet.issue(payee.address), open, true, now));
        const drawn = await closeAndReveal(issuer, payerOperator.address);
        // Both owners revoke their tabs: the lot's tickets still pay, and the revoked tab can send nothing more.
        await mined(send(registry, "setOperator", [payerOperator.address, 0, 0n], payer.address));
        await mined(send(registry, "setOperator", [payeeOperator.address, 0, 0n], payee.address));
        const ticket = await new TicketIssuer({
          contract,
          lotId,
          lotSize,
          signer: payerOperator,
          secret,
          issued: drawn.lot.winningIndex,
        }).issue(payee.address);
        const redeemArgs = [lotId, payee.address, ticket.index, ticket.nonce, ticket.signature];
        await assert.rejects(mined(send(lottery, "redeem", redeemArgs, payeeOperator.address)));
        await mined(send(registry, "setOperator", [payeeOperator.address, ROLE_PAYEE, expiry], payee.address));
        const [payeeBefore, tabBefore] = [
          await balance(token, payee.address),
          await balance(token, payeeOperator.address),
        ];
        const redeem = await mined(send(lottery, "redeem", redeemArgs, payeeOperator.address));
        assert.equal((await balance(token, payee.address)) - payeeBefore, lotValue, "the whole lot to the payee");
        assert.equal(await balance(token, payeeOperator.address), tabBefore, "nothing to the operator");
        const [finish] = (await finishAll(lotId)) as [bigint];
        gas["lottery finish, operator-signed lot"] = finish;

        // Funded from a set allowance by a payer that authorized its tab again: the same stored key.
        await mined(send(registry, "setOperator", [payerOperator.address, ROLE_PAYER, expiry], payer.address));
        await approve(lottery, payer.address);
        const allowance = await fund(lotSize, newLotSecret(), payerOperator.address);
        gas["lottery fund, operator key (allowance set, 2 covers)"] = allowance.gasUsed;

        const tabs = drawn.close + drawn.reveal + redeem;
        const perPayment = (sum: bigint) => sum / BigInt(lotSize);
        gas["lottery per payment, new operator key (1000)"] = perPayment(
          first.gasUsed + byTabs.close + byTabs.reveal + byTabs.redeem,
        );
        gas["lottery per payment, later lot (1000)"] = perPayment(
          own.gasUsed + byOwners.close + byOwners.reveal + byOwners.redeem,
        );
        gas["lottery per payment + finish, later lot (1000)"] = perPayment(
          own.gasUsed + byOwners.close + byOwners.reveal + byOwners.redeem + ownFinish,
        );
        gas["lottery per payment, operator key (1000)"] = perPayment(gasUsed + tabs);
        gas["lottery per payment + finish, operator key (1000)"] = perPayment(gasUsed + tabs + finish);
        gas["lottery per payment + finish, allowance fund, operator key (1000)"] = perPayment(
          allowance.gasUsed + tabs + finish,
        );
      } finally {
        ({ lottery, contract } = main);
        lastLotId = lotIdBefore;
      }
    });

    it("withheld reveal: the holders register their tickets and share the lot; the payer is worse off", async () => {
      const lotSize = 8;
      const lotValue = BigInt(lotSize) * ticketValue;
      const secret = newLotSecret();
      const payerBefore = await balance(token, payer.address);
      const { lotId, gasUsed } = await fund(lotSize, secret);
      gas["lottery fund (allowance set, 2 covers)"] = gasUsed;
      const issuer = new TicketIssuer({ contract, lotId, lotSize, signer: payer, secret });
      const books = [payee.address, other.address].map((p) => new TicketBook({ contract, lotId, payee: p }));
      const lot = await readLot(lotId);
      const now = await chainNow();
      for (let i = 0; i < 6; i++) {
        const book = books[i % 2] as TicketBook;
        await book.accept(await issuer.issue(book.payee), lot, true, now); // 6 of 8 issued
      }
      issuer.close();
      await mined(send(lottery, "closeLot", [lotId], payer.address));
      await networkHelpers.time.increase(REVEAL_WINDOW_SECONDS + 1n);
      await assert.rejects(mined(send(lottery, "reveal", issuer.revealArgs(), payer.address)));
      for (const book of books) {
        gas["lottery register 3 tickets"] = await mined(
          send(lottery, "registerTickets", book.registration(), book.payee),
        );
      }
      await networkHelpers.time.increase(SHARE_WINDOW_SECONDS + 1n);
      for (const book of books) {
        const before = await balance(token, book.payee);
        gas["lottery withdraw share"] = await mined(send(lottery, "withdrawShare", [lotId, book.payee], book.payee));
        assert.equal((await balance(token, book.payee)) - before, 3n * (lotValue / 6n), "lot / registered per ticket");
      }
      const supplyBefore = await call<bigint>(token, "totalSupply");
      gas["lottery finish (withheld: fine burned)"] = await mined(send(lottery, "finish", [lotId]));
      const cost = payerBefore - (await balance(token, payer.address));
      assert.equal(cost, 2n * lotValue, "the whole lot to the holders and the fine burned; the covers come back");
      assert.equal(
        supplyBefore - (await call<bigint>(token, "totalSupply")),
        lotValue + (lotValue % 6n),
        "the total supply falls by the fine and what the shares leave over",
      );
    });

    it("robbed winner: the payer signs the winning index for its own address and redeems first; the cover pays", async () => {
      const lotSize = 8;
      const lotValue = BigInt(lotSize) * ticketValue;
      const secret = newLotSecret();
      const { lotId } = await fund(lotSize, secret);
      const issuer = new TicketIssuer({ contract, lotId, lotSize, signer: payer, secret });
      const book = new TicketBook({ contract, lotId, payee: payee.address });
      const now = await chainNow();
      const open = await readLot(lotId);
      for (let i = 0; i < lotSize; i++) await book.accept(await issuer.issue(payee.address), open, true, now);
      const { lot } = await closeAndReveal(issuer);
      const stolen = await new TicketIssuer({
        contract,
        lotId,
        lotSize,
        signer: payer,
        secret,
        issued: lot.winningIndex,
      }).issue(proxy.address);
      await mined(
        send(lottery, "redeem", [lotId, proxy.address, stolen.index, stolen.nonce, stolen.signature], proxy.address),
      );
      const after = await readLot(lotId);
      const args = book.redemption(after, await isCovered(lotId, payee.address));
      assert.ok(args, "the robbed winner still has a redemption: its cover");
      const before = await balance(token, payee.address);
      gas["lottery redeem from cover (robbed winner)"] = await mined(send(lottery, "redeem", args, payee.address));
      assert.equal((await balance(token, payee.address)) - before, lotValue);
      // Anyone may send a cover claim; it pays the payee named in the ticket, once.
      await assert.rejects(
        mined(send(lottery, "claimCover", book.coverClaim(lot.winningIndex) as never, other.address)),
      );
    });

    it("economic table: whatever the payee does, a cheating payer is never better off; nor is a greedy payee", async () => {
      const lotSize = 4;
      const lotValue = BigInt(lotSize) * ticketValue;
      type PayerStrategy = "honest" | "double issue" | "rob winner" | "withhold";
      type PayeeStrategy = "honest" | "greedy";
      const payerStrategies: PayerStrategy[] = ["honest", "double issue", "rob winner", "withhold"];
      const payeeStrategies: PayeeStrategy[] = ["honest", "greedy"];
      const tryTx = async (hash: Promise<Hex>) => {
        try {
          await mined(hash);
          return true;
        } catch {
          return false;
        }
      };
      const rows: {
        payer: PayerStrategy;
        payee: PayeeStrategy;
        served: bigint;
        payerCost: bigint;
        payeeRevenue: bigint;
        otherRevenue: bigint;
        burned: bigint;
      }[] = [];
      for (const ps of payerStrategies) {
        for (const es of payeeStrategies) {
          const before = {
            payer: (await balance(token, payer.address)) + (await balance(token, proxy.address)),
            payee: await balance(token, payee.address),
            other: await balance(token, other.address),
            supply: await call<bigint>(token, "totalSupply"),
          };
          const secret = newLotSecret();
          const { lotId } = await fund(lotSize, secret);
          const issuer = new TicketIssuer({ contract, lotId, lotSize, signer: payer, secret });
          const mine = new TicketBook({ contract, lotId, payee: payee.address });
          const theirs = new TicketBook({ contract, lotId, payee: other.address });
          const open = await readLot(lotId);
          const now = await chainNow();
          for (let i = 0; i < lotSize; i++) await mine.accept(await issuer.issue(payee.address), open, true, now);
          if (ps === "double issue") {
            // Every index a second time, to the other covered payee, for a second lot's worth of service.
            const again = new TicketIssuer({ contract, lotId, lotSize, signer: payer, secret });
            for (let i = 0; i < lotSize; i++) await theirs.accept(await again.issue(other.address), open, true, now);
          }
          const served = BigInt(mine.size + theirs.size);
          if (ps === "withhold") {
            issuer.close();
            await mined(send(lottery, "closeLot", [lotId], payer.address));
            await networkHelpers.time.increase(REVEAL_WINDOW_SECONDS + 1n);
            await mined(send(lottery, "registerTickets", mine.registration(), payee.address));
            if (es === "greedy") {
              assert.equal(await tryTx(send(lottery, "registerTickets", mine.registration(), payee.address)), false);
              assert.equal(await tryTx(send(lottery, "claimCover", mine.coverClaim(0) as never, payee.address)), false);
            }
            await networkHelpers.time.increase(SHARE_WINDOW_SECONDS + 1n);
            await mined(send(lottery, "withdrawShare", [lotId, payee.address], payee.address));
          } else {
            const { lot } = await closeAndReveal(issuer);
            if (ps === "rob winner") {
              const stolen = await new TicketIssuer({
                contract,
                lotId,
                lotSize,
                signer: payer,
                secret,
                issued: lot.winningIndex,
              }).issue(proxy.address);
              const args = [lotId, proxy.address, stolen.index, stolen.nonce, stolen.signature];
              await mined(send(lottery, "redeem", args, proxy.address));
            }
            for (const book of [mine, theirs]) {
              const args = book.redemption(await readLot(lotId), await isCovered(lotId, book.payee));
              if (args) await mined(send(lottery, "redeem", args, book.payee));
            }
            if (es === "greedy") {
              const w = lot.winningIndex;
              const loser = (w + 1) % lotSize;
              assert.equal(
                await tryTx(send(lottery, "redeem", mine.redemption(lot, true) as never, payee.address)),
                false,
              );
              assert.equal(await tryTx(send(lottery, "claimCover", mine.coverClaim(w) as never, payee.address)), false);
              assert.equal(
                await tryTx(send(lottery, "claimCover", mine.coverClaim(loser) as never, payee.address)),
                false,
              );
            }
            await networkHelpers.time.increase(REVEAL_WINDOW_SECONDS + CLAIM_WINDOW_SECONDS + 1n);
          }
          await mined(send(lottery, "finish", [lotId]));
          const after = {
            payer: (await balance(token, payer.address)) + (await balance(token, proxy.address)),
            payee: await balance(token, payee.address),
            other: await balance(token, other.address),
            supply: await call<bigint>(token, "totalSupply"),
          };
          rows.push({
            payer: ps,
            payee: es,
            served,
            payerCost: before.payer - after.payer,
            payeeRevenue: after.payee - before.payee,
            otherRevenue: after.other - before.other,
            burned: before.supply - after.supply,
          });
        }
      }
      const fmt = (x: bigint) => (Number(x) / 1e18).toFixed(4).padStart(8);
      // A payer's gain: what it was served (ticketValue per ticket a covered payee accepted) less what it paid.
      const gain = (r: (typeof rows)[number]) => r.served * ticketValue - r.payerCost;
      console.log(`\nLottery, a lot of ${lotSize} tickets of ${fmt(ticketValue)} TAB, both payees covered`);
      console.log("payer         payee  | served | payer pays | payer gain | payee gets | other gets | burned");
      for (const r of rows) {
        console.log(
          `${r.payer.padEnd(13)} ${r.payee.padEnd(6)} | ${r.served.toString().padStart(6)} | ${fmt(r.payerCost)}   | ${fmt(gain(r))}   | ${fmt(r.payeeRevenue)}   | ${fmt(r.otherRevenue)}   | ${fmt(r.burned)}`,
        );
      }
      const at = (p: PayerStrategy, e: PayeeStrategy) =>
        rows.find((r) => r.payer === p && r.payee === e) as (typeof rows)[number];
      for (const e of payeeStrategies) {
        for (const p of payerStrategies) assert.ok(gain(at(p, e)) <= gain(at("honest", e)), `payer ${p}, payee ${e}`);
        // The payee was served for lotValue's worth of tickets: a covered payee holding the drawn index is paid
        // the lot whatever the payer does.
        assert.equal(at("rob winner", e).payeeRevenue, lotValue, "the robbed winner is paid");
        assert.equal(at("double issue", e).otherRevenue, lotValue, "both holders of the drawn index are paid");
      }
      for (const p of payerStrategies) {
        assert.ok(at(p, "greedy").payeeRevenue <= at(p, "honest").payeeRevenue, `greedy payee vs payer ${p}`);
        for (const e of payeeStrategies) {
          const r = at(p, e);
          assert.equal(r.burned, p === "withhold" ? lotValue : 0n, `burned: payer ${p}, payee ${e}`);
          assert.equal(r.payerCost, r.payeeRevenue + r.otherRevenue + r.burned, "paid, or gone from the supply");
        }
      }
      assert.equal(gain(at("honest", "honest")), 0n);
    });
  });

  it("prints gas; channels settling 1000 payments in O(1) transactions cost <= 1% of a transfer per payment", () => {
    const transfer = gas["ERC-20 transfer"] as bigint;
    // With the allowance set once (the app approves the contract for many channels), the channel's four
    // transactions per 1000 payments; a permit open adds the approval to the first channel.
    for (const payments of [PAYMENTS, 10 * PAYMENTS]) {
      gas[`bandwidth per payment, allowance open (${payments})`] =
        ((gas["open (allowance already set)"] as bigint) +
          (gas.confirm as bigint) +
          (gas.close as bigint) +
          (gas.settle as bigint)) /
        BigInt(payments);
      // The tab: the owner opens binding its operator key, the payee's operator confirms, the payer's closes.
      gas[`bandwidth per payment, allowance open, operator keys (${payments})`] =
        ((gas["open (allowance already set), operator keys"] as bigint) +
          (gas["confirm, operator keys"] as bigint) +
          (gas["close, operator keys"] as bigint) +
          (gas["settle, operator keys"] as bigint)) /
        BigInt(payments);
    }
    // Likewise for the lot: funded from a set allowance (the fund transaction does not depend on the lot size).
    gas["lottery per payment + finish, allowance fund (1000)"] =
      ((gas["lottery fund (allowance set, 2 covers)"] as bigint) +
        (gas["lottery close"] as bigint) +
        (gas["lottery reveal"] as bigint) +
        (gas["lottery redeem (winner)"] as bigint) +
        (gas["lottery finish (fine and covers back)"] as bigint)) /
      1000n;
    console.log("\nGas used (transactions on Hardhat's in-process chain)");
    for (const [name, used] of Object.entries(gas)) {
      const share = name.includes("per payment")
        ? `  (${((Number(used) / Number(transfer)) * 100).toFixed(2)}% of a transfer)`
        : "";
      console.log(`${name.padEnd(60)} ${used.toString().padStart(10)}${share}`);
    }
    const onePercent = transfer / 100n;
    // Every scheme here settles N payments in O(1) transactions except Merkle, which pays per token on-chain:
    // each redeemed token is a leaf hashed twice, about a proof node of calldata, one hash of the multi-proof and
    // a bit of its payee's spent set, so its cost per payment does not fall with N. It is printed, not held to
    // the target.
    for (const scheme of [
      "bandwidth per payment, allowance open (1000)",
      "bandwidth per payment, allowance open (10000)",
      "bandwidth per payment, permit open (10000)",
      "bandwidth per payment, allowance open, operator keys (1000)",
      "bandwidth per payment, allowance open, operator keys (10000)",
      "hash chain per payment (1000)",
      "hash chain per payment (10000)",
      "lottery per payment (1000)",
      "lottery per payment + finish, allowance fund (1000)",
      "lottery per payment (10000)",
      "lottery per payment + finish (10000)",
      // Operator keys: the payee's tab redeems a hash chain; the payer's tab signs a lot's tickets (a key the
      // lottery stored before) and closes it, the payee's tab redeems. A lot bound to a key for the first time, and
      // the lot plus its finish, are printed above and not held to the target (see contracts/README.md).
      "hash chain per payment, payee's operator redeems (1000)",
      "lottery per payment, operator key (1000)",
    ]) {
      assert.ok((gas[scheme] as bigint) <= onePercent, `${scheme}: ${gas[scheme]} > 1% of ${transfer}`);
    }
  });
});
