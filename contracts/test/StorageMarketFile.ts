/**
 * One file of 4 + 2 shards through the storage market as the app drives it: the client proposes all six deals
 * with one permit that also sets its audit budget, the six hosts' operator keys sign σ and the client submits them
 * in one call, audits are opened on that budget, fixed and answered with real shard Merkle proofs (web/src/lib/merkle), and one call pays every host. Every token
 * is accounted for, and the gas per file and per shard is printed.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { network } from "hardhat";
import { type Abi, type Address, bytesToHex, type Hex, parseEther } from "viem";
import { type HDAccount, mnemonicToAccount } from "viem/accounts";
import { type DealTerms, storageReceipt } from "../../web/src/chain/market/storage-receipt.ts";
import { PERMIT_TYPES } from "../../web/src/chain/token/sign-permit.ts";
import { leafHash, proofOf, rootOf } from "../../web/src/lib/merkle/tree.ts";

const MNEMONIC = "test test test test test test test test test test test junk";
const account = (i: number) => mnemonicToAccount(MNEMONIC, { addressIndex: i });
const deployer = account(0);
const client = account(1);
const hosts = [2, 3, 4, 5, 6, 7].map(account);
const operators = [8, 9, 10, 11, 12, 13].map(account);
const treasury = account(14);

const LEAF = 256;
const SHARD_BYTES = 64 * 1024;
const DURATION = 30n * 24n * 3600n;
const PRICE_PER_GIB_MONTH = parseEther("2");
const MIN_STAKE = parseEther("100");
const COLLATERAL_BPS = 20_000;
const FEE_BPS = 100;
const BOND = parseEther("0.01");
const ROLE_HOST = 1;

const { viem, networkHelpers } = await network.create();
const publicClient = await viem.getPublicClient();
const chainId = await publicClient.getChainId();

interface Deployed {
  address: Address;
  abi: Abi;
}

async function deploy(name: string, args: readonly unknown[]): Promise<Deployed> {
  const contract = await viem.deployContract(name, args as never);
  return { address: contract.address, abi: contract.abi as Abi };
}

async function mined(hash: Promise<Hex>): Promise<bigint> {
  const receipt = await publicClient.waitForTransactionReceipt({ hash: await hash });
  assert.equal(receipt.status, "success");
  return receipt.gasUsed;
}

async function send(c: Deployed, functionName: string, args: readonly unknown[], from: HDAccount): Promise<Hex> {
  const wallet = await viem.getWalletClient(from.address);
  return wallet.writeContract({
    address: c.address,
    abi: c.abi,
    functionName,
    args,
    account: from.address,
    chain: wallet.chain,
  });
}

async function call<T>(c: Deployed, functionName: string, args: readonly unknown[] = []): Promise<T> {
  return (await publicClient.readContract({ address: c.address, abi: c.abi, functionName, args })) as T;
}

async function now(): Promise<bigint> {
  return (await publicClient.getBlock()).timestamp;
}

/** A shard of pseudo-random bytes (as encrypted data looks), its leaf hashes and root. */
function shard(seed: number) {
  const bytes = new Uint8Array(SHARD_BYTES);
  let x = seed * 2654435761;
  for (let i = 0; i < bytes.length; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = (x >>> 16) | 1;
  }
  const leaves = Array.from({ length: SHARD_BYTES / LEAF }, (_, i) =>
    leafHash(i, bytes.subarray(i * LEAF, (i + 1) * LEAF)),
  );
  return { bytes, leaves, root: bytesToHex(rootOf(leaves)) };
}

describe("storage market: one file of 4 + 2 shards", () => {
  it("proposes, accepts, audits, pays and ends all six deals in one transaction each; every token accounted for", async () => {
    const token = await deploy("Token", [deployer.address, parseEther("100000000"), true]);
    const registry = await deploy("OperatorRegistry", []);
    const market = await deploy("StorageMarket", [
      token.address,
      registry.address,
      deployer.address,
      treasury.address,
      {
        minStake: MIN_STAKE,
        collateralBps: COLLATERAL_BPS,
        protocolFeeBps: FEE_BPS,
        auditWindowSeconds: 3 * 24 * 3600,
        unbondingDelaySeconds: 7 * 24 * 3600,
        challengeBond: BOND,
      },
    ]);
    for (const who of [client, ...hosts]) {
      await mined(send(token, "transfer", [who.address, parseEther("1000")], deployer));
      await mined(send(token, "approve", [market.address, 2n ** 256n - 1n], who));
    }
    const farFuture = Number((await now()) + 365n * 24n * 3600n);
    for (const [i, host] of hosts.entries()) {
      await mined(
        send(
          market,
          "registerHost",
          [
            `0x0024${i}`.padEnd(10, "0") as Hex,
            1n << 40n,
            PRICE_PER_GIB_MONTH,
            true,
            MIN_STAKE,
            { value: 0n, deadline: 0n, v: 0, r: `0x${"0".repeat(64)}`, s: `0x${"0".repeat(64)}` },
          ],
          host,
        ),
      );
      await mined(send(registry, "setOperator", [operators[i]?.address, ROLE_HOST, farFuture], host));
    }

    // The client quotes and proposes all six deals with one permit signature, which also grants the market the
    // client's audit budget: one challenge bond per deal.
    const shards = [0, 1, 2, 3, 4, 5].map(shard);
    const manifestCid: Hex = "0x01711220a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";
    const acceptBy = (await now()) + 3600n;
    const terms: DealTerms[] = [];
    for (const [i, host] of hosts.entries()) {
      const price = await call<bigint>(market, "quote", [host.address, BigInt(SHARD_BYTES), DURATION]);
      terms.push({
        host: host.address,
        manifestCid,
        shardIndex: i,
        shardSizeBytes: BigInt(SHARD_BYTES),
        shardRoot: shards[i]?.root as Hex,
        durationSeconds: DURATION,
        price,
        acceptBy,
      });
    }
    const escrow = terms.reduce((sum, t) => sum + t.price, 0n);
    const auditBudget = 6n * BOND;
    const value = escrow + auditBudget;
    const nonce = await call<bigint>(token, "nonces", [client.address]);
    const permitSig = await client.signTypedData({
      domain: { name: "Tabula", version: "1", chainId, verifyingContract: token.address },
      types: PERMIT_TYPES,
      primaryType: "Permit",
      message: { owner: client.address, spender: market.address, value, nonce, deadline: acceptBy },
    });
    await mined(send(token, "approve", [market.address, 0n], client)); // the permit alone must carry the escrow
    const permit = {
      value,
      deadline: acceptBy,
      v: Number.parseInt(permitSig.slice(130, 132), 16),
      r: `0x${permitSig.slice(2, 66)}` as Hex,
      s: `0x${permitSig.slice(66, 130)}` as Hex,
    };
    const gas: Record<string, bigint> = {};
    const firstId = await call<bigint>(market, "nextDealId");
    gas.proposeAll = await mined(send(market, "proposeDeals", [terms, permit], client));
    assert.equal(await call<bigint>(token, "allowance", [client.address, market.address]), auditBudget);
    const dealIds = terms.map((_, i) => firstId + BigInt(i));

    // Each host's operator key signs σ over exactly the proposed terms; the client submits all six at once.
    const sigmas: Hex[] = [];
    for (const [i, t] of terms.entries()) {
      const dealId = dealIds[i] as bigint;
      const sigma = await (operators[i] as HDAccount).signTypedData(
        storageReceipt(chainId, market.address, dealId, client.address, t),
      );
      assert.equal(await call<boolean>(market, "isValidReceipt", [dealId, sigma]), true);
      sigmas.push(sigma);
    }
    gas.acceptAll = await mined(send(market, "acceptDeals", [dealIds, sigmas], client));

    // Halfway through, the client audits the whole file: one challenge, one seed fix, six answers.
    await networkHelpers.time.increase(DURATION / 2n);
    // The client's audit budget is the allowance the permit left: bonds are pulled from it, never more.
    gas.challengeAll = await mined(send(market, "challenge", [dealIds, client.address], client));
    assert.equal(await call<bigint>(token, "allowance", [client.address, market.address]), 0n);
    await networkHelpers.mine(1);
    gas.fixAll = await mined(send(market, "fixAuditSeeds", [dealIds], client));
    let answers = 0n;
    for (const [i, dealId] of dealIds.entries()) {
      const leafIndex = Number(await call<bigint>(market, "auditLeafIndex", [dealId]));
      const s = shards[i] as ReturnType<typeof shard>;
      const chunk = bytesToHex(s.bytes.subarray(leafIndex * LEAF, (leafIndex + 1) * LEAF));
      const proof = proofOf(s.leaves, leafIndex).map((p) => bytesToHex(p));
      answers += await mined(send(market, "answerAudit", [dealId, chunk, proof], operators[i] as HDAccount));
    }
    gas.answerOne = answers / 6n;

    // One call pays all six hosts what the audits proved.
    const hostBefore = await Promise.all(hosts.map((h) => call<bigint>(token, "balanceOf", [h.address])));
    const treasuryBefore = await call<bigint>(token, "balanceOf", [treasury.address]);
    gas.claimAll = await mined(send(market, "claimEarnings", [dealIds], client));

    let paidOut = 0n;
    let fees = 0n;
    for (const [i, dealId] of dealIds.entries()) {
      const info = await call<{
        earned: bigint;
        claimed: bigint;
        startedAt: bigint;
        provenUntil: bigint;
        price: bigint;
        collateral: bigint;
      }>(market, "dealInfo", [dealId]);
      const earned = (info.price * (info.provenUntil - info.startedAt)) / DURATION;
      assert.equal(info.earned, earned);
      assert.equal(info.claimed, earned);
      assert.equal(info.collateral, (info.price * BigInt(COLLATERAL_BPS)) / 10_000n);
      const fee = (earned * BigInt(FEE_BPS)) / 10_000n;
      const after = await call<bigint>(token, "balanceOf", [hosts[i]?.address]);
      // The host got its earnings less the fee; the bond of its answered audit came earlier.
      assert.equal(after - (hostBefore[i] as bigint), earned - fee);
      assert.equal(await call<bigint>(token, "balanceOf", [operators[i]?.address]), 0n);
      paidOut += earned;
      fees += fee;
    }
    assert.equal((await call<bigint>(token, "balanceOf", [treasury.address])) - treasuryBefore, fees);
    // The market holds exactly the unpaid escrow and the six stakes; every bond has gone to a host.
    assert.equal(await call<bigint>(token, "balanceOf", [market.address]), escrow - paidOut + 6n * MIN_STAKE);
    assert.equal(await call<bigint>(token, "balanceOf", [client.address]), parseEther("1000") - escrow - 6n * BOND);

    // The client ends the file early: one call refunds the unproven rest of all six escrows.
    const clientBeforeEnd = await call<bigint>(token, "balanceOf", [client.address]);
    gas.endAll = await mined(send(market, "endDeals", [dealIds], client));
    // Each host keeps the price up to the end (a few seconds after its last proof), the client gets the rest back.
    let kept = 0n;
    for (const dealId of dealIds) {
      const info = await call<{
        status: number;
        claimed: bigint;
        startedAt: bigint;
        provenUntil: bigint;
        price: bigint;
      }>(market, "dealInfo", [dealId]);
      assert.equal(info.status, 4); // Ended
      assert.equal(info.claimed, (info.price * (info.provenUntil - info.startedAt)) / DURATION);
      kept += info.claimed;
    }
    assert.ok(kept >= paidOut);
    assert.equal((await call<bigint>(token, "balanceOf", [client.address])) - clientBeforeEnd, escrow - kept);
    assert.equal(await call<bigint>(token, "balanceOf", [market.address]), 6n * MIN_STAKE);

    const perFile = gas.proposeAll + gas.acceptAll + gas.challengeAll + gas.fixAll + 6n * gas.answerOne + gas.claimAll;
    // (endAll is printed beside it: a file ends early or runs to its end, not both.)
    console.log("\n  StorageMarket gas for one file of 4 + 2 shards of 64 KiB (256 leaves each):");
    for (const [step, used] of Object.entries(gas)) {
      const file = step === "answerOne" ? used * 6n : used;
      console.log(
        `    ${step.padEnd(13)} ${file.toLocaleString("en").padStart(9)} per file  ${(file / 6n).toLocaleString("en").padStart(8)} per shard`,
      );
    }
    console.log(
      `    ${"total".padEnd(13)} ${perFile.toLocaleString("en").padStart(9)} per file  ${(perFile / 6n).toLocaleString("en").padStart(8)} per shard`,
    );
  });
});
