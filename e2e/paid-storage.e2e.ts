import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { type Address, createPublicClient, http, isAddressEqual, zeroAddress } from "viem";
import type { ProgressSignal } from "../scripts/lib/progress-watch.ts";
import type { Stack } from "../scripts/lib/stack.ts";
import { storageMarketAbi, tokenAbi } from "../web/src/chain/abi.ts";
import {
  attributes,
  type Browser,
  damageHeldShard,
  downloadedBytes,
  launchBrowser,
  markup,
  openFiles,
  peerIdOf,
  startTestStack,
  tabWork,
  untilStalled,
} from "./harness.ts";
import { FAUCET_TOKEN_WEI, STAKE, startPaidHost } from "./paid-hosts.ts";

const FILE_BYTES = 4 * 1024 * 1024;
/** Six hosts take the file's 4 + 2 shards; a seventh, dearer one is the repair's spare. */
const HOSTS = 7;
const SHARDS = 6;
/** A step fails once what its page shows (transactions, pushes, activity) has not changed for this long. */
const STALL_MS = 120_000;
/** The local market's audit window (contracts/deploy/market.ts), and a margin past it. */
const AUDIT_WINDOW_SECONDS = 120;
const DEAL_ACTIVE = 2;
const DEAL_ENDED = 4;
const DEAL_SLASHED = 5;
/** How long before their end the deals are renewed: inside the tab's renewal window of 7 days. */
const RENEW_BEFORE_END_S = 6 * 24 * 3600;

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** What a page shows in `selector`: each transaction, push and state change changes it. */
function shows(page: Page, selector: string, name: string): ProgressSignal {
  return markup(page, selector, name);
}

describe("paid storage: staked host tabs, an owner who pays, audits, a penalty, every token accounted for", () => {
  let stack: Stack;
  let hostsBrowser: Browser;
  let ownerBrowser: Browser;
  let freshBrowser: Browser;
  let dir: string;

  before(async () => {
    stack = await startTestStack();
    [hostsBrowser, ownerBrowser, freshBrowser] = await Promise.all([launchBrowser(), launchBrowser(), launchBrowser()]);
    await freshBrowser.context.addInitScript({ content: "delete window.showSaveFilePicker;" });
    dir = await mkdtemp(join(tmpdir(), "tabula-paid-e2e-"));
  });

  after(async () => {
    await Promise.all([hostsBrowser?.close(), ownerBrowser?.close(), freshBrowser?.close()]);
    await stack?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("pays hosts for a file: escrow, σ, audits answered and claimed, a missed window penalized and repaired, the link alone downloads it, an early end refunds", async () => {
    const chain = createPublicClient({ transport: http(stack.chain.rpcUrl) });
    const market = stack.contracts.StorageMarket as Address;
    const token = stack.contracts.Token as Address;
    const treasury = await chain.readContract({ address: market, abi: storageMarketAbi, functionName: "treasury" });
    const balance = (address: Address) =>
      chain.readContract({ address: token, abi: tokenAbi, functionName: "balanceOf", args: [address] });
    const deal = (id: bigint) =>
      chain.readContract({ address: market, abi: storageMarketAbi, functionName: "dealInfo", args: [id] });
    const openAudits = async (ids: readonly bigint[]) => {
      let open = 0;
      for (const id of ids) {
        const audit = await chain.readContract({
          address: market,
          abi: storageMarketAbi,
          functionName: "auditInfo",
          args: [id],
        });
        if (audit.challenger !== zeroAddress) open++;
      }
      return open;
    };
    /** Waits until every audit of `ids` is answered: a jump of the chain's clock must not pass a window still open. */
    const untilAnswered = (what: string, ids: readonly bigint[]) =>
      untilStalled(
        what,
        (async () => {
          while ((await openAudits(ids)) > 0) await new Promise((resolve) => setTimeout(resolve, 500));
        })(),
        { progress: [{ name: "audits still open", read: () => openAudits(ids) }], stallMs: STALL_MS },
      );
    const rpc = (method: string, params: unknown[]) =>
      chain.request({ method: method as never, params: params as never });

    // Seven staked hosts, each its own burner wallet; the last asks ten times as much, a premium no measured latency
    // outweighs, so the quote leaves it spare.
    const hosts: { page: Page; owner: Address; peer: string }[] = [];
    for (let i = 0; i < HOSTS; i++) {
      const host = await startPaidHost(hostsBrowser, stack.appUrl, i === HOSTS - 1 ? "20" : "2");
      hosts.push({ ...host, peer: await peerIdOf(host.page) });
    }
    const spare = hosts[HOSTS - 1] as (typeof hosts)[number];
    for (const h of hosts) assert.equal(await balance(h.owner), FAUCET_TOKEN_WEI - STAKE);

    const owner = await ownerBrowser.open(stack.appUrl);
    await owner.locator('[data-testid="wallet"][data-status="connected"]').waitFor({ timeout: STALL_MS });
    await owner.locator(`[data-testid="token-balance"][data-wei="${FAUCET_TOKEN_WEI}"]`).waitFor({ timeout: STALL_MS });
    const payer = ((await owner.getByTestId("wallet-address").textContent())?.trim() ?? "") as Address;
    await openFiles(owner, stack.appUrl);

    // Every party's balance, and what the market's events say each should have gained since the last phase.
    const parties = () => [payer, treasury, market, ...hosts.map((h) => h.owner)];
    // Balances are read at the very block the events are read up to: a transaction mined meanwhile counts next phase.
    const balancesAt = (block: bigint) =>
      Promise.all(
        parties().map((address) =>
          chain.readContract({
            address: token,
            abi: tokenAbi,
            functionName: "balanceOf",
            args: [address],
            blockNumber: block,
          }),
        ),
      );
    const start = await chain.getBlockNumber();
    let mark = { block: start, balances: await balancesAt(start) };
    async function accounted(phase: string): Promise<void> {
      const block = await chain.getBlockNumber();
      const read = {
        address: market,
        abi: storageMarketAbi,
        fromBlock: mark.block + 1n,
        toBlock: block,
        strict: true,
      } as const;
      const expected = new Map<string, bigint>(parties().map((p) => [p.toLowerCase(), 0n]));
      const add = (who: Address, amount: bigint) => {
        const key = who.toLowerCase();
        expected.set(key, (expected.get(key) ?? 0n) + amount);
        expected.set(market.toLowerCase(), (expected.get(market.toLowerCase()) ?? 0n) - amount);
      };
      for (const e of await chain.getContractEvents({ ...read, eventName: "DealProposed" }))
        add(e.args.client, -e.args.terms.price);
      for (const e of await chain.getContractEvents({ ...read, eventName: "DealCancelled" }))
        add((await deal(e.args.dealId)).client, e.args.refund);
      for (const e of await chain.getContractEvents({ ...read, eventName: "AuditChallenged" })) {
        assert.ok(isAddressEqual(e.args.challenger, payer), "only the owner challenges");
        add(e.args.challenger, -e.args.bond);
      }
      for (const e of await chain.getContractEvents({ ...read, eventName: "AuditAnswered" }))
        add((await deal(e.args.dealId)).host, e.args.bondToHost);
      for (const e of await chain.getContractEvents({ ...read, eventName: "ChallengeLapsed" }))
        add((await deal(e.args.dealId)).host, e.args.bondToHost);
      for (const e of await chain.getContractEvents({ ...read, eventName: "AuditMissed" })) {
        add((await deal(e.args.dealId)).client, e.args.refund + e.args.collateral);
        add(e.args.challenger, e.args.bondReturned);
      }
      for (const e of await chain.getContractEvents({ ...read, eventName: "DealEnded" }))
        add((await deal(e.args.dealId)).client, e.args.refund + e.args.bondReturned);
      for (const e of await chain.getContractEvents({ ...read, eventName: "HostPaid" })) {
        add(e.args.host, e.args.amount);
        add(treasury, e.args.fee);
      }
      const balances = await balancesAt(block);
      for (const [i, who] of parties().entries()) {
        const gained = (balances[i] as bigint) - (mark.balances[i] as bigint);
        assert.equal(gained, expected.get(who.toLowerCase()), `${phase}: ${who} gained ${gained}`);
      }
      mark = { block, balances };
    }

    // Free storage is the default; the owner switches paid storage on, and checks by hand in this run.
    await untilStalled(
      "the owner finding the hosts",
      owner.locator(`[data-testid="network-files"][data-hosts="${HOSTS}"]`),
      {
        progress: [attributes(owner, '[data-testid="network-files"]', ["data-hosts"], "hosts the owner knows")],
        stallMs: STALL_MS,
      },
    );
    await owner.getByTestId("auto-repair").uncheck();
    await owner.getByTestId("paid-storage").check();

    // --- Phase 1: the quote, then one escrow and one acceptance for all six deals.
    const original = randomFillSync(new Uint8Array(FILE_BYTES));
    const path = join(dir, "paid.bin");
    await writeFile(path, original);
    await owner.getByTestId("file-input").setInputFiles(path);
    const row = owner.locator('[data-testid="file"][data-name="paid.bin"]');
    await untilStalled("storing paid.bin", row, {
      progress: [markup(owner, '[data-testid="store-progress"]', "store progress"), tabWork(owner)],
      stallMs: STALL_MS,
    });
    const cid = (await row.getAttribute("data-cid")) ?? "";
    const quote = owner.locator(`[data-testid="paid-quote"][data-cid="${cid}"][data-state="ready"]`);
    await untilStalled("quoting the paid upload", quote, {
      progress: [shows(owner, '[data-testid="paid-quote"]', "the quote")],
      stallMs: STALL_MS,
    });
    const chosen = await quote
      .locator('[data-testid="quote-host"][data-chosen="true"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-host")));
    assert.deepEqual(new Set(chosen), new Set(hosts.slice(0, SHARDS).map((h) => h.peer)));
    const total = BigInt((await quote.getAttribute("data-total")) ?? "0");
    assert.equal(await balance(payer), FAUCET_TOKEN_WEI, "nothing moves while the quote waits");

    await quote.getByTestId("confirm-quote").click();
    const netRow = owner.locator(`[data-testid="network-file"][data-cid="${cid}"]`);
    const panel = shows(owner, '[data-testid="network-files"]', "the network files panel");
    await untilStalled(
      "escrowing, pushing and activating six deals",
      owner.locator(`[data-testid="network-file"][data-cid="${cid}"][data-live="${SHARDS}"]`),
      { progress: [panel], stallMs: STALL_MS },
    );
    const upload = owner.locator(`[data-testid="activity"][data-kind="upload"][data-cid="${cid}"][data-done="true"]`);
    await upload.waitFor({ timeout: STALL_MS });
    assert.equal(await upload.getAttribute("data-error"), "", (await upload.textContent()) ?? "");
    const txs = await upload
      .locator('[data-testid="deal-tx"]')
      .evaluateAll((items) => items.map((li) => [li.getAttribute("data-what"), li.getAttribute("data-deals")]));
    assert.deepEqual(
      txs.map(([what]) => what),
      ["propose", "accept"],
      (await upload.textContent()) ?? "",
    );
    assert.equal(txs[1]?.[1], txs[0]?.[1]);
    const dealIds = (txs[0]?.[1] ?? "").split(",").map(BigInt);
    assert.equal(dealIds.length, SHARDS);
    let priced = 0n;
    const dealOf = new Map<string, bigint>();
    for (const id of dealIds) {
      const d = await deal(id);
      assert.equal(d.status, DEAL_ACTIVE);
      assert.ok(isAddressEqual(d.client, payer));
      priced += d.price;
      const host = hosts.find((h) => isAddressEqual(h.owner, d.host));
      assert.ok(host && host !== spare);
      dealOf.set(host.owner, id);
    }
    assert.equal(priced, total);
    assert.equal(await balance(payer), FAUCET_TOKEN_WEI - total);
    await accounted("escrow and acceptance");
    // σ of a shard checks out against the chain from the page.
    await netRow.locator('[data-testid="deal"][data-accepted="true"]').first().getByTestId("verify-deal").click();
    await netRow
      .locator('[data-testid="deal-verified"][data-valid="true"][data-status="Active"]')
      .waitFor({ timeout: STALL_MS });

    // --- Phase 2: an audit budget, a check that challenges every deal, hosts that answer on their own, a claim.
    await owner.getByTestId("audit-budget-amount").fill("1");
    await owner.getByTestId("set-audit-budget").click();
    await owner.locator('[data-testid="audit-budget"][data-wei="1000000000000000000"]').waitFor({ timeout: STALL_MS });
    const check = async (what: string) => {
      const done = owner.locator(`[data-testid="activity"][data-kind="check"][data-cid="${cid}"][data-done="true"]`);
      const before = await done.count();
      await netRow.getByTestId("check").click();
      // Finished activities are listed newest first.
      await untilStalled(
        what,
        (async () => {
          while ((await done.count()) <= before) await new Promise((resolve) => setTimeout(resolve, 250));
        })(),
        {
          progress: [
            shows(owner, '[data-testid="network-activity"], [data-testid="network-files"]', "the owner's activity"),
          ],
          stallMs: STALL_MS,
        },
      );
      return done.first();
    };
    const first = await check("the first audit round");
    assert.equal(await first.getAttribute("data-error"), "", (await first.textContent()) ?? "");
    assert.equal(
      await first.locator('[data-testid="audit"][data-kind="challenged"]').count(),
      SHARDS,
      (await first.textContent()) ?? "",
    );
    // The tab's key sent the round (no wallet prompt at each check); the bonds came from the owner's allowance.
    const challengeTx = (await first
      .locator('[data-testid="deal-tx"][data-what="challenge"]')
      .getAttribute("data-tx")) as `0x${string}`;
    const challengeSender = (await chain.getTransactionReceipt({ hash: challengeTx })).from;
    assert.ok(!isAddressEqual(challengeSender, payer), "the round is sent by the tab's key, not the wallet");
    const holders = hosts.slice(0, SHARDS);
    for (const h of holders) {
      await untilStalled(
        `host ${h.peer.slice(-6)} answering its audit`,
        h.page.locator('[data-testid="audit-answered"]'),
        {
          progress: [shows(h.page, '[data-testid="paid-hosting"]', "the host's paid panel")],
          stallMs: STALL_MS,
        },
      );
    }
    const claimer = holders[0] as (typeof holders)[number];
    const claimable = BigInt(
      (await claimer.page
        .locator('[data-testid="host-earnings"]:not([data-claimable="0"])')
        .getAttribute("data-claimable", { timeout: STALL_MS })) ?? "0",
    );
    const claimedDeal = await deal(dealOf.get(claimer.owner) as bigint);
    assert.equal(claimable, claimedDeal.earned - claimedDeal.claimed);
    await claimer.page.getByTestId("claim-earnings").click();
    await claimer.page.locator('[data-testid="host-earnings"][data-claimable="0"]').waitFor({ timeout: STALL_MS });
    await accounted("audits answered and one host's earnings claimed");

    // --- Phase 3: a host closes its tab; the next round challenges it, the repair moves its shard to the spare under
    // a new deal, and once its window has passed the owner's check sends the penalty.
    const gone = holders[1] as (typeof holders)[number];
    const goneDeal = dealOf.get(gone.owner) as bigint;
    await gone.page.close();
    const second = await check("the round that finds a host gone");
    assert.equal(
      await second.locator('[data-testid="audit"][data-kind="challenged"]').count(),
      SHARDS,
      (await second.textContent()) ?? "",
    );
    await netRow.getByTestId("repair").click();
    await untilStalled(
      "repairing the lost shard onto the spare under a new deal",
      owner.locator(`[data-testid="network-file"][data-cid="${cid}"][data-live="${SHARDS}"]`),
      { progress: [panel], stallMs: STALL_MS },
    );
    const repair = owner.locator(`[data-testid="activity"][data-kind="repair"][data-cid="${cid}"][data-done="true"]`);
    await repair.waitFor({ timeout: STALL_MS });
    assert.equal(await repair.getAttribute("data-error"), "", (await repair.textContent()) ?? "");
    const repairTxs = await repair
      .locator('[data-testid="deal-tx"]')
      .evaluateAll((items) => items.map((li) => [li.getAttribute("data-what"), li.getAttribute("data-deals")]));
    // One new deal is accepted. A push that a busy machine's link dropped leaves its deal proposed and then
    // cancelled: every other deal proposed is cancelled, none left escrowed.
    const repairText = (await repair.textContent()) ?? "";
    const dealsOf = (what: string) =>
      repairTxs.filter(([w]) => w === what).flatMap(([, deals]) => (deals ?? "").split(",").filter(Boolean));
    const accepted = dealsOf("accept");
    assert.equal(accepted.length, 1, repairText);
    assert.equal(repairTxs[0]?.[0], "propose", repairText);
    assert.deepEqual(
      dealsOf("propose")
        .filter((id) => !accepted.includes(id))
        .sort(),
      dealsOf("cancel").sort(),
      repairText,
    );
    // The repair's escrow permit kept the audit budget that was left.
    assert.ok(
      (await chain.readContract({ address: token, abi: tokenAbi, functionName: "allowance", args: [payer, market] })) >
        0n,
    );
    const spareDeal = BigInt(accepted[0] ?? "0");
    assert.ok(isAddressEqual((await deal(spareDeal)).host, spare.owner));
    // The live hosts answer; then the chain's clock passes the gone host's window.
    await untilAnswered(
      "the live hosts answering their second audit",
      holders.filter((h) => h !== gone).map((h) => dealOf.get(h.owner) as bigint),
    );
    await rpc("evm_increaseTime", [AUDIT_WINDOW_SECONDS + 10]);
    await rpc("evm_mine", []);
    const goneBefore = await deal(goneDeal);
    const third = await check("the round that sends the penalty");
    await third.locator(`[data-testid="audit"][data-deal="${goneDeal}"][data-kind="missed"]`).waitFor();
    const slashed = await deal(goneDeal);
    assert.equal(slashed.status, DEAL_SLASHED, "the gone host's deal is slashed");
    const missed = await chain.getContractEvents({
      address: market,
      abi: storageMarketAbi,
      eventName: "AuditMissed",
      args: { dealId: goneDeal },
      fromBlock: 0n,
      strict: true,
    });
    assert.equal(missed.length, 1);
    assert.equal(missed[0]?.args.collateral, goneBefore.collateral, "its whole collateral goes to the owner");
    assert.equal(
      missed[0]?.args.refund,
      goneBefore.price - goneBefore.earned,
      "and every unproven token of the escrow",
    );
    await accounted("a host gone: repaired under a new deal, its missed window penalized");

    // --- Phase 4: a tab with only the share link, hearing no announcement, finds the hosts on the chain.
    await row.getByTestId("share").click();
    const link = (await owner.locator('[data-testid="share-link"] input').inputValue()).trim();
    const fresh = await freshBrowser.open(stack.appUrl);
    await fresh.waitForFunction(() => "tabula" in globalThis, undefined, { timeout: STALL_MS });
    await fresh.evaluate(() => {
      type Known = { directory: { hosts(): { peer: string }[]; remove(peer: string): void } };
      const tabula = (
        globalThis as unknown as {
          tabula: {
            node: { libp2p: { services: { pubsub: { unsubscribe(topic: string): void } } } };
            knownHosts: Known;
          };
        }
      ).tabula;
      tabula.node.libp2p.services.pubsub.unsubscribe("tabula/hosts/1");
      for (const h of tabula.knownHosts.directory.hosts()) tabula.knownHosts.directory.remove(h.peer);
    });
    await fresh.goto(link);
    const download = fresh.waitForEvent("download", { timeout: 0 });
    await fresh.getByTestId("open-shared").click();
    const progress = [shows(fresh, '[data-testid="network-activity"]', "the download"), downloadedBytes(freshBrowser)];
    const started = await untilStalled("downloading with the link alone", download, { progress, stallMs: STALL_MS });
    const saved = await untilStalled("saving the download", started.path(), { progress, stallMs: STALL_MS });
    assert.equal(sha256(new Uint8Array(await readFile(saved))), sha256(original));
    const fetchedFrom = await fresh
      .locator('[data-testid="host-fetch"]')
      .evaluateAll((items) => items.map((li) => li.getAttribute("data-host")));
    const onChain = new Set(hosts.filter((h) => h !== gone).map((h) => h.peer));
    assert.ok(fetchedFrom.length > 0 && fetchedFrom.every((p) => p && onChain.has(p)), `fetched from ${fetchedFrom}`);

    // --- Phase 5: the deals near their end; the owner renews them on the same hosts, nothing uploaded again.
    const running = [...dealIds.filter((id) => id !== goneDeal), spareDeal];
    // Every audit answered first: the clock jumps days ahead, past any window still open.
    await untilAnswered("the hosts answering the last round", running);
    const endsAt = (await deal(running[0] as bigint)).endsAt;
    const jump = Number(endsAt - (await chain.getBlock()).timestamp) - RENEW_BEFORE_END_S;
    await rpc("evm_increaseTime", [jump]);
    await rpc("evm_mine", []);
    const nearEnd = await check("the round that finds the deals near their end");
    const renew = netRow.getByTestId("renew-deals");
    await renew.waitFor({ timeout: STALL_MS }).catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await nearEnd.textContent()}`);
    });
    assert.equal(await renew.getAttribute("data-deals"), String(SHARDS), (await nearEnd.textContent()) ?? "");
    await renew.click();
    const renewal = owner.locator(`[data-testid="paid-quote"][data-cid="${cid}"][data-state="ready"]`);
    await untilStalled("quoting the renewal", renewal, {
      progress: [shows(owner, '[data-testid="paid-quote"]', "the renewal quote")],
      stallMs: STALL_MS,
    });
    const renews = ((await renewal.getByTestId("quote-renews").getAttribute("data-deals")) ?? "")
      .split(",")
      .map(BigInt);
    assert.deepEqual(new Set(renews), new Set(running));
    const holdersNow = new Set(await Promise.all(running.map(async (id) => (await deal(id)).host.toLowerCase())));
    const renewedOn = await renewal
      .locator('[data-testid="quote-host"][data-chosen="true"]')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute("data-host")));
    assert.deepEqual(
      new Set(renewedOn),
      new Set(hosts.filter((h) => holdersNow.has(h.owner.toLowerCase())).map((h) => h.peer)),
      "each shard stays on the host that holds it",
    );
    await renewal.getByTestId("confirm-quote").click();
    const renewed = owner.locator(`[data-testid="activity"][data-kind="renew"][data-cid="${cid}"][data-done="true"]`);
    await untilStalled("renewing the file's deals", renewed, { progress: [panel], stallMs: STALL_MS });
    assert.equal(await renewed.getAttribute("data-error"), "", (await renewed.textContent()) ?? "");
    const renewTxs = await renewed
      .locator('[data-testid="deal-tx"]')
      .evaluateAll((items) => items.map((li) => [li.getAttribute("data-what"), li.getAttribute("data-deals")]));
    assert.deepEqual(
      renewTxs.map(([what]) => what),
      ["propose", "accept", "end"],
      (await renewed.textContent()) ?? "",
    );
    const newDeals = (renewTxs[1]?.[1] ?? "").split(",").map(BigInt);
    assert.deepEqual(new Set((renewTxs[2]?.[1] ?? "").split(",").map(BigInt)), new Set(running));
    for (const id of running) assert.equal((await deal(id)).status, DEAL_ENDED);
    for (const id of newDeals) {
      const d = await deal(id);
      assert.equal(d.status, DEAL_ACTIVE);
      assert.ok(holdersNow.has(d.host.toLowerCase()), "renewed on the host that held the shard");
    }
    // Nothing but offers crossed the links: every push found its pieces at the host.
    const pushed = await renewed
      .locator('[data-testid="host-push"]')
      .evaluateAll((items) => items.map((li) => li.getAttribute("data-sent")));
    assert.ok(pushed.length === SHARDS && pushed.every((b) => b === "0"), `bytes sent: ${pushed}`);
    await accounted("the deals renewed, the old ones ended");

    // --- Phase 6: a host damages the shard it holds; the owner's audit catches it, the chain's audit can't be
    // answered, and the missed window costs that host its deal and its collateral.
    const live = hosts.filter((h) => h !== gone);
    const liar = live[1] as (typeof live)[number];
    const liarDealId = (await Promise.all(newDeals.map(async (id) => ({ id, host: (await deal(id)).host })))).find(
      (d) => isAddressEqual(d.host, liar.owner),
    )?.id as bigint;
    assert.ok(liarDealId !== undefined, "the damaged host holds a renewed deal");
    // Every chunk of every piece: whichever leaf the chain picks, the proof fails.
    await damageHeldShard(liar.page, "shard");
    const caught = await check("the round that catches a damaged shard");
    await caught
      .locator(`[data-testid="host-check"][data-host="${liar.peer}"][data-status="bad"]`)
      .waitFor({ timeout: STALL_MS });
    await caught.locator(`[data-testid="audit"][data-deal="${liarDealId}"][data-kind="challenged"]`).waitFor();
    await untilStalled(
      "the damaged host failing its audit",
      liar.page.locator(`[data-testid="audit-failed"][data-deal="${liarDealId}"]`),
      { progress: [shows(liar.page, '[data-testid="paid-hosting"]', "the host's paid panel")], stallMs: STALL_MS },
    );
    assert.match(
      (await liar.page.locator(`[data-testid="audit-failed"][data-deal="${liarDealId}"]`).textContent()) ?? "",
      /does not match the shard's root/,
    );
    await untilAnswered(
      "the other hosts answering",
      newDeals.filter((id) => id !== liarDealId),
    );
    const liarBefore = await deal(liarDealId);
    await rpc("evm_increaseTime", [AUDIT_WINDOW_SECONDS + 10]);
    await rpc("evm_mine", []);
    const penalty = await check("the round that penalizes the damaged shard");
    await penalty.locator(`[data-testid="audit"][data-deal="${liarDealId}"][data-kind="missed"]`).waitFor();
    assert.equal((await deal(liarDealId)).status, DEAL_SLASHED, "the damaged host's deal is slashed");
    const [liarMissed] = await chain.getContractEvents({
      address: market,
      abi: storageMarketAbi,
      eventName: "AuditMissed",
      args: { dealId: liarDealId },
      fromBlock: 0n,
      strict: true,
    });
    assert.equal(liarMissed?.args.collateral, liarBefore.collateral, "its whole collateral goes to the owner");
    await accounted("a damaged shard caught and penalized");

    // A host that asks to remove what it holds keeps the shard a running deal binds: dropping it forfeits collateral.
    const keeper = live[0] as (typeof live)[number];
    await keeper.page.locator('[data-testid="held-deal"]:not([data-bound-until=""])').waitFor({ timeout: STALL_MS });
    await keeper.page.getByTestId("remove-held").click();
    await keeper.page.getByTestId("confirm-remove").click();
    await keeper.page.locator('[data-testid="kept-held"][data-count="1"]').waitFor({ timeout: STALL_MS });
    assert.equal(await keeper.page.getByTestId("host").getAttribute("data-held"), "1");

    // --- Phase 7: the owner ends the file early; each host is paid to now, the rest comes back in one transaction.
    await netRow.getByTestId("end-deals").click();
    const ended = owner.locator(`[data-testid="activity"][data-kind="deals"][data-cid="${cid}"][data-done="true"]`);
    await untilStalled("ending the file's deals", ended, { progress: [panel], stallMs: STALL_MS });
    assert.equal(await ended.getAttribute("data-error"), "", (await ended.textContent()) ?? "");
    const refund = BigInt((await ended.locator('[data-testid="deals-ended"]').getAttribute("data-refund")) ?? "0");
    assert.ok(refund > 0n);
    const endedDeals = newDeals.filter((id) => id !== liarDealId);
    for (const id of endedDeals) assert.equal((await deal(id)).status, DEAL_ENDED);
    await accounted("the file ended early");
    // Its deals ended, every host drops its shard on its own (the sweep runs twice a minute).
    for (const h of live) {
      await h.page.locator('[data-testid="host"][data-held="0"]').waitFor({ timeout: STALL_MS });
      const line = h.page.locator('[data-testid="shard-dropped"]');
      assert.ok(newDeals.includes(BigInt((await line.getAttribute("data-deal")) ?? "-1")));
    }
  });
});
