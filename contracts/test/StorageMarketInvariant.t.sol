// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Token} from "../Token.sol";
import {OperatorRegistry} from "../OperatorRegistry.sol";
import {StorageMarket} from "../StorageMarket.sol";
import {IStorageMarket} from "../interfaces/IStorageMarket.sol";
import {TestBase, Vm} from "./utils/Vm.sol";
import {ShardMerkle} from "./utils/ShardMerkle.sol";

/// @dev Drives StorageMarket with random but valid-looking calls for the invariant test, and keeps an independent
/// model of what the rules give every account: the test compares real balances with it after every call.
contract MarketHandler {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    uint256 public constant HOST_COUNT = 2;
    uint256 public constant CLIENT_COUNT = 3;
    uint256 public constant CHALLENGER_COUNT = 2;
    uint256 public constant INITIAL_BALANCE = 10_000 ether;
    uint256 internal constant BPS = 10_000;

    struct ModelDeal {
        address client;
        address host;
        uint256 price;
        uint256 acceptBy;
        uint256 start;
        uint256 duration;
        uint256 earned;
        uint256 claimed;
        uint256 feeBps;
        uint256 collateral;
        uint256 bond;
        uint256 window;
        uint8 state; // 1 proposed, 2 active, 3 closed
    }

    struct ModelAudit {
        address challenger;
        uint256 deadline; // 0 while the seed is not fixed
    }

    struct ModelHost {
        uint256 stake;
        uint256 locked;
        uint256 unbonding;
        uint256 readyAt;
        uint256 active;
    }

    Token public immutable token;
    OperatorRegistry public immutable operators;
    StorageMarket public immutable market;
    address public immutable treasury;
    IStorageMarket.Parameters internal params;

    uint256[HOST_COUNT] internal hostKeys;
    address[HOST_COUNT] public hosts;
    address[CLIENT_COUNT] public clients;
    address[CHALLENGER_COUNT] public challengers;
    address[] internal accounts;

    bytes[] internal chunks;
    bytes32[] internal leaves;
    bytes32 internal root;
    uint256 internal shardSize;

    mapping(uint256 => ModelDeal) internal deals;
    mapping(uint256 => ModelAudit) internal audits;
    mapping(address => ModelHost) internal modelHosts;
    mapping(address => uint256) public expectedBalance;
    uint256 public dealCount;

    // Flows through the market, for the conservation identity.
    uint256 public escrowIn;
    uint256 public paidToHostsGross;
    uint256 public refunded;
    uint256 public stakeIn;
    uint256 public stakeOut;
    uint256 public slashed;
    uint256 public bondsIn;
    uint256 public bondsOut;
    uint256 public calls;
    /// @dev How often each kind of call went through, to show the runs reach every state.
    mapping(bytes4 => uint256) public succeeded;

    constructor(IStorageMarket.Parameters memory parameters, address treasury_) {
        params = parameters;
        treasury = treasury_;
        token = new Token(address(this), 0, true);
        operators = new OperatorRegistry();
        market = new StorageMarket(IERC20(address(token)), operators, address(this), treasury_, parameters);
        for (uint256 i = 0; i < HOST_COUNT; i++) {
            hostKeys[i] = 0x1000 + i;
            hosts[i] = vm.addr(hostKeys[i]);
            _fund(hosts[i]);
            vm.prank(hosts[i]);
            market.registerHost(hex"00240801", 1 << 40, 30 ether, true, parameters.minStake * 2, _noPermit());
            expectedBalance[hosts[i]] -= parameters.minStake * 2;
            modelHosts[hosts[i]].stake = parameters.minStake * 2;
            stakeIn += parameters.minStake * 2;
        }
        for (uint256 i = 0; i < CLIENT_COUNT; i++) {
            clients[i] = address(uint160(0xC0000 + i));
            _fund(clients[i]);
        }
        for (uint256 i = 0; i < CHALLENGER_COUNT; i++) {
            challengers[i] = address(uint160(0xAA00 + i));
            _fund(challengers[i]);
        }
        accounts.push(treasury_);
        bytes memory shard = new bytes(3 * 256 + 17);
        for (uint256 i = 0; i < shard.length; i++) {
            shard[i] = bytes1(uint8(uint256(keccak256(abi.encode(i)))));
        }
        shardSize = shard.length;
        bytes[] memory c = ShardMerkle.chunks(shard, 256);
        bytes32[] memory l = ShardMerkle.leafHashes(c);
        for (uint256 i = 0; i < c.length; i++) {
            chunks.push(c[i]);
            leaves.push(l[i]);
        }
        root = ShardMerkle.root(l);
    }

    // ------------------------------------------------------------------ actions

    /// @dev Proposes one to three deals (a file's shards) in one call, to alternating hosts.
    function propose(uint256 clientSeed, uint256 hostSeed, uint256 durationSeed, uint256 extra) external {
        calls++;
        address c = clients[clientSeed % CLIENT_COUNT];
        uint256 count = 1 + extra % 3;
        uint256 duration = 1 hours + durationSeed % 20 days;
        IStorageMarket.DealTerms[] memory terms = new IStorageMarket.DealTerms[](count);
        uint256 total;
        for (uint256 i = 0; i < count; i++) {
            address h = hosts[(hostSeed + i) % HOST_COUNT];
            uint256 price = market.quote(h, shardSize, duration) + (extra >> (8 * i)) % 50 ether;
            terms[i] = IStorageMarket.DealTerms({
                host: h,
                manifestCid: hex"0171",
                shardIndex: uint32(i),
                shardSizeBytes: uint64(shardSize),
                shardRoot: root,
                durationSeconds: uint64(duration),
                price: price,
                acceptBy: uint64(block.timestamp + 1 days)
            });
            total += price;
        }
        if (total > expectedBalance[c]) return;
        vm.prank(c);
        uint256 first = market.proposeDeals(terms, _noPermit());
        succeeded[this.propose.selector]++;
        for (uint256 i = 0; i < count; i++) {
            deals[first + i] = ModelDeal({
                client: c,
                host: terms[i].host,
                price: terms[i].price,
                acceptBy: terms[i].acceptBy,
                start: 0,
                duration: duration,
                earned: 0,
                claimed: 0,
                feeBps: 0,
                collateral: 0,
                bond: 0,
                window: 0,
                state: 1
            });
        }
        dealCount = first + count - 1;
        _move(c, address(market), total);
        escrowIn += total;
    }

    function cancel(uint256 dealSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        if (d.state != 1) return;
        vm.prank(d.client);
        market.cancelProposals(_ids(id));
        d.state = 3;
        succeeded[this.cancel.selector]++;
        _move(address(market), d.client, d.price);
        refunded += d.price;
    }

    function accept(uint256 dealSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        ModelHost storage h = modelHosts[d.host];
        uint256 collateral = d.price * params.collateralBps / BPS;
        if (d.state != 1 || block.timestamp > d.acceptBy) return;
        if (h.stake < params.minStake || h.stake - h.locked < collateral) return;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_keyOf(d.host), market.receiptDigest(id));
        bytes[] memory sigmas = new bytes[](1);
        sigmas[0] = abi.encodePacked(r, s, v);
        market.acceptDeals(_ids(id), sigmas);
        d.state = 2;
        succeeded[this.accept.selector]++;
        d.start = block.timestamp;
        d.feeBps = params.protocolFeeBps;
        d.collateral = collateral;
        d.bond = params.challengeBond;
        d.window = params.auditWindowSeconds;
        h.active++;
        h.locked += collateral;
    }

    function challenge(uint256 dealSeed, uint256 challengerSeed, bytes32 seed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        if (d.state != 2 || block.timestamp >= d.start + d.duration) return;
        if (audits[id].challenger != address(0)) return;
        address challenger = challengers[challengerSeed % CHALLENGER_COUNT];
        vm.prank(challenger);
        market.challenge(_ids(id), challenger);
        succeeded[this.challenge.selector]++;
        audits[id].challenger = challenger;
        _move(challenger, address(market), d.bond);
        bondsIn += d.bond;
        // The next block's hash is the seed; the fuzzer plays the block producer.
        uint256 seedBlock = block.number + 1;
        vm.roll(seedBlock + 1);
        vm.setBlockhash(seedBlock, seed);
    }

    function fixSeed(uint256 dealSeed) external {
        calls++;
        (uint256 id,) = _pick(dealSeed);
        ModelAudit storage a = audits[id];
        if (a.challenger == address(0) || a.deadline != 0 || !_seedReadable(id)) return;
        market.fixAuditSeeds(_ids(id));
        succeeded[this.fixSeed.selector]++;
        a.deadline = block.timestamp + deals[id].window;
    }

    /// @dev Nobody fixed the seed: its block hash is forgotten and the challenge lapses in the host's favour.
    function lapse(uint256 dealSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        ModelAudit storage a = audits[id];
        if (a.challenger == address(0) || a.deadline != 0) return;
        uint256 seedBlock = market.auditInfo(id).seedBlock;
        vm.setBlockhash(seedBlock, 0);
        if (block.number <= seedBlock + 256) vm.roll(seedBlock + 257);
        market.lapseChallenge(id);
        succeeded[this.lapse.selector]++;
        delete audits[id];
        _move(address(market), d.host, d.bond);
        bondsOut += d.bond;
    }

    function answer(uint256 dealSeed, bool honest) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        ModelAudit storage a = audits[id];
        if (d.state != 2 || a.challenger == address(0)) return;
        if (a.deadline == 0 ? !_seedReadable(id) : block.timestamp > a.deadline) return;
        uint256 index = market.auditLeafIndex(id);
        bytes memory chunk = honest ? chunks[index] : chunks[(index + 1) % chunks.length];
        bytes32[] memory proof = ShardMerkle.proof(leaves, index);
        vm.prank(d.host);
        if (!honest) {
            // A wrong chunk must be refused with exactly this error; the audit stays open.
            try market.answerAudit(id, chunk, proof) {
                revert("wrong chunk accepted");
            } catch (bytes memory reason) {
                bytes memory expected =
                    abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidProof.selector, id, index);
                require(keccak256(reason) == keccak256(expected), "unexpected error for a wrong chunk");
            }
            return;
        }
        market.answerAudit(id, chunk, proof);
        succeeded[this.answer.selector]++;
        d.earned = _earned(d, block.timestamp);
        delete audits[id];
        _move(address(market), d.host, d.bond);
        bondsOut += d.bond;
    }

    function finalize(uint256 dealSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        ModelAudit memory a = audits[id];
        if (d.state != 2 || a.deadline == 0 || block.timestamp <= a.deadline) return;
        market.finalizeMissedAudit(id);
        succeeded[this.finalize.selector]++;
        ModelHost storage h = modelHosts[d.host];
        h.stake -= d.collateral;
        slashed += d.collateral;
        _move(address(market), d.client, d.collateral);
        _move(address(market), a.challenger, d.bond);
        bondsOut += d.bond;
        _close(id, d, d.earned);
    }

    /// @dev Ends a deal early, with or without an open audit.
    function end(uint256 dealSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        if (d.state != 2 || block.timestamp >= d.start + d.duration) return;
        vm.prank(d.client);
        market.endDeals(_ids(id));
        succeeded[this.end.selector]++;
        ModelAudit memory a = audits[id];
        bool missed = a.deadline != 0 && block.timestamp > a.deadline;
        if (a.challenger != address(0)) {
            // The audit ends with the deal; its bond goes back to its challenger.
            _move(address(market), a.challenger, d.bond);
            bondsOut += d.bond;
            succeeded[bytes4(keccak256("endWithAuditOpen"))]++;
        }
        // Only an audit the host missed limits its pay to what it proved.
        _close(id, d, missed ? d.earned : _earned(d, block.timestamp));
    }

    function complete(uint256 dealSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        if (d.state != 2 || block.timestamp < d.start + d.duration) return;
        if (audits[id].challenger != address(0)) return;
        market.completeDeal(id);
        succeeded[this.complete.selector]++;
        _close(id, d, d.price);
    }

    /// @dev Claims the earnings of one or two deals in one call.
    function claim(uint256 dealSeed, uint256 otherSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        (uint256 other, ModelDeal storage o) = _pick(otherSeed);
        if (d.state != 2 || d.earned == d.claimed) return;
        bool both = o.state == 2 && other != id;
        uint256[] memory ids = new uint256[](both ? 2 : 1);
        ids[0] = id;
        if (both) ids[1] = other;
        market.claimEarnings(ids);
        succeeded[this.claim.selector]++;
        _payHost(d, d.earned - d.claimed);
        d.claimed = d.earned;
        if (both) {
            _payHost(o, o.earned - o.claimed);
            o.claimed = o.earned;
        }
    }

    function addStake(uint256 hostSeed, uint256 amount) external {
        calls++;
        address h = hosts[hostSeed % HOST_COUNT];
        amount = 1 + amount % 100 ether;
        if (amount > expectedBalance[h]) return;
        vm.prank(h);
        market.addStake(amount, _noPermit());
        modelHosts[h].stake += amount;
        stakeIn += amount;
        _move(h, address(market), amount);
    }

    /// @dev Unbonds part of the free stake, while deals may run.
    function unbond(uint256 hostSeed, uint256 amount) external {
        calls++;
        address h = hosts[hostSeed % HOST_COUNT];
        ModelHost storage m = modelHosts[h];
        uint256 free = m.stake - m.locked;
        if (free == 0) return;
        amount = 1 + amount % free;
        vm.prank(h);
        market.beginUnbonding(amount);
        succeeded[this.unbond.selector]++;
        m.stake -= amount;
        m.unbonding += amount;
        m.readyAt = block.timestamp + params.unbondingDelaySeconds;
    }

    function withdraw(uint256 hostSeed) external {
        calls++;
        address h = hosts[hostSeed % HOST_COUNT];
        ModelHost storage m = modelHosts[h];
        if (m.unbonding == 0 || block.timestamp < m.readyAt) return;
        vm.prank(h);
        market.withdrawStake();
        succeeded[this.withdraw.selector]++;
        stakeOut += m.unbonding;
        _move(address(market), h, m.unbonding);
        m.unbonding = 0;
    }

    function warp(uint256 seconds_) external {
        calls++;
        vm.warp(block.timestamp + seconds_ % 3 days);
        vm.roll(block.number + 1);
    }

    // ------------------------------------------------------------------ model views for the invariants

    function accountCount() external view returns (uint256) {
        return accounts.length;
    }

    function accountAt(uint256 i) external view returns (address) {
        return accounts[i];
    }

    /// @dev Escrow the market still holds by the model: unpaid parts of proposed and active deals.
    function escrowHeld() public view returns (uint256 held) {
        for (uint256 id = 1; id <= dealCount; id++) {
            ModelDeal storage d = deals[id];
            if (d.state == 1 || d.state == 2) held += d.price - d.claimed;
        }
    }

    function stakeHeld() public view returns (uint256 held) {
        for (uint256 i = 0; i < HOST_COUNT; i++) {
            held += modelHosts[hosts[i]].stake + modelHosts[hosts[i]].unbonding;
        }
    }

    /// @dev Bonds of open audits.
    function bondsHeld() public view returns (uint256 held) {
        for (uint256 id = 1; id <= dealCount; id++) {
            if (audits[id].challenger != address(0)) held += deals[id].bond;
        }
    }

    /// @dev Collateral of a host's active deals, summed deal by deal.
    function collateralOfActiveDeals(address h) external view returns (uint256 sum) {
        for (uint256 id = 1; id <= dealCount; id++) {
            if (deals[id].state == 2 && deals[id].host == h) sum += deals[id].collateral;
        }
    }

    function modelHost(address h) external view returns (ModelHost memory) {
        return modelHosts[h];
    }

    function modelDeal(uint256 id) external view returns (ModelDeal memory) {
        return deals[id];
    }

    function modelAudit(uint256 id) external view returns (ModelAudit memory) {
        return audits[id];
    }

    // ------------------------------------------------------------------ internals

    function _seedReadable(uint256 id) private view returns (bool) {
        uint256 seedBlock = market.auditInfo(id).seedBlock;
        return block.number > seedBlock && blockhash(seedBlock) != 0;
    }

    function _earned(ModelDeal storage d, uint256 t) private view returns (uint256) {
        uint256 elapsed = t - d.start;
        if (elapsed > d.duration) elapsed = d.duration;
        return d.price * elapsed / d.duration;
    }

    function _close(uint256 id, ModelDeal storage d, uint256 earned) private {
        uint256 refund = d.price - earned;
        _move(address(market), d.client, refund);
        refunded += refund;
        _payHost(d, earned - d.claimed);
        d.earned = earned;
        d.claimed = earned;
        d.state = 3;
        ModelHost storage h = modelHosts[d.host];
        h.active--;
        h.locked -= d.collateral;
        delete audits[id];
    }

    function _payHost(ModelDeal storage d, uint256 amount) private {
        uint256 fee = amount * d.feeBps / BPS;
        _move(address(market), d.host, amount - fee);
        _move(address(market), treasury, fee);
        paidToHostsGross += amount;
    }

    function _move(address from, address to, uint256 amount) private {
        expectedBalance[from] -= amount;
        expectedBalance[to] += amount;
    }

    function _pick(uint256 seed) private view returns (uint256 id, ModelDeal storage d) {
        id = dealCount == 0 ? 0 : 1 + seed % dealCount;
        d = deals[id];
    }

    function _ids(uint256 id) private pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = id;
    }

    function _keyOf(address h) private view returns (uint256) {
        return h == hosts[0] ? hostKeys[0] : hostKeys[1];
    }

    function _fund(address account) private {
        token.faucet(account, INITIAL_BALANCE);
        expectedBalance[account] = INITIAL_BALANCE;
        accounts.push(account);
        vm.prank(account);
        token.approve(address(market), type(uint256).max);
    }

    function _noPermit() private pure returns (IStorageMarket.PermitSignature memory p) {}
}

/// @dev Random sequences of market calls (through {MarketHandler}); after every call tokens are conserved and
/// every account holds exactly what the rules give it.
contract StorageMarketInvariantTest is TestBase {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    MarketHandler private handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(1_000);
        handler = new MarketHandler(
            IStorageMarket.Parameters({
                minStake: 100 ether,
                collateralBps: 15_000,
                protocolFeeBps: 250,
                auditWindowSeconds: 1 hours,
                unbondingDelaySeconds: 1 days,
                challengeBond: 0.5 ether
            }),
            address(0x7EA5)
        );
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](15);
        selectors[0] = MarketHandler.propose.selector;
        selectors[1] = MarketHandler.cancel.selector;
        selectors[2] = MarketHandler.accept.selector;
        selectors[3] = MarketHandler.challenge.selector;
        selectors[4] = MarketHandler.answer.selector;
        selectors[5] = MarketHandler.finalize.selector;
        selectors[6] = MarketHandler.end.selector;
        selectors[7] = MarketHandler.complete.selector;
        selectors[8] = MarketHandler.claim.selector;
        selectors[9] = MarketHandler.addStake.selector;
        selectors[10] = MarketHandler.unbond.selector;
        selectors[11] = MarketHandler.withdraw.selector;
        selectors[12] = MarketHandler.warp.selector;
        selectors[13] = MarketHandler.fixSeed.selector;
        selectors[14] = MarketHandler.lapse.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), selectors);
    }

    /// all escrow = paid out + refunded + still held; all stake = withdrawn + slashed + still held; all bonds =
    /// paid out + still held; and the market's balance is exactly what it still holds.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 60
    function invariant_tokensAreConserved() public view {
        uint256 escrowHeld = handler.escrowHeld();
        uint256 stakeHeld = handler.stakeHeld();
        vm.assertEq(handler.escrowIn(), handler.paidToHostsGross() + handler.refunded() + escrowHeld, "escrow");
        uint256 bondsHeld = handler.bondsHeld();
        vm.assertEq(handler.stakeIn(), handler.stakeOut() + handler.slashed() + stakeHeld, "stake");
        vm.assertEq(handler.bondsIn(), handler.bondsOut() + bondsHeld, "bonds");
        vm.assertEq(
            handler.token().balanceOf(address(handler.market())), escrowHeld + stakeHeld + bondsHeld, "market balance"
        );
        uint256 total = handler.token().balanceOf(address(handler.market()));
        for (uint256 i = 0; i < handler.accountCount(); i++) {
            total += handler.token().balanceOf(handler.accountAt(i));
        }
        vm.assertEq(total, handler.token().totalSupply(), "supply");
    }

    /// No account ends with more (or less) than the rules give it: every balance equals the model's.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 60
    function invariant_everyAccountGetsWhatTheRulesGive() public view {
        for (uint256 i = 0; i < handler.accountCount(); i++) {
            address account = handler.accountAt(i);
            vm.assertEq(handler.token().balanceOf(account), handler.expectedBalance(account), "account balance");
        }
        for (uint256 i = 0; i < handler.HOST_COUNT(); i++) {
            address h = handler.hosts(i);
            IStorageMarket.HostInfo memory info = handler.market().hostInfo(h);
            MarketHandler.ModelHost memory m = handler.modelHost(h);
            vm.assertEq(info.stake, m.stake, "stake");
            vm.assertEq(info.unbonding, m.unbonding, "unbonding");
            vm.assertEq(info.activeDeals, m.active, "active deals");
            vm.assertEq(info.lockedCollateral, m.locked, "locked collateral");
            vm.assertEq(info.lockedCollateral, handler.collateralOfActiveDeals(h), "collateral of active deals");
            vm.assertLe(info.lockedCollateral, info.stake);
        }
        for (uint256 id = 1; id <= handler.dealCount(); id++) {
            IStorageMarket.DealInfo memory d = handler.market().dealInfo(id);
            vm.assertLe(d.claimed, d.earned);
            vm.assertLe(d.earned, d.price);
            vm.assertEq(d.earned, handler.modelDeal(id).earned, "earned");
            vm.assertEq(d.claimed, handler.modelDeal(id).claimed, "claimed");
            IStorageMarket.AuditInfo memory a = handler.market().auditInfo(id);
            vm.assertEq(a.challenger, handler.modelAudit(id).challenger, "challenger");
            vm.assertEq(a.deadline, handler.modelAudit(id).deadline, "deadline");
        }
    }

    /// @dev The handler is able to reach every state: a scripted pseudo-random walk makes each kind of call
    /// succeed at least once, and both invariants hold along it.
    function testHandlerReachesEveryState() public {
        for (uint256 i = 0; i < 500; i++) {
            uint256 r = uint256(keccak256(abi.encode(i)));
            uint256 action = r % 15;
            uint256 a = r >> 8;
            uint256 b = r >> 64;
            if (action == 0) {
                handler.propose(a, b, r >> 128, r >> 160);
                if (handler.dealCount() != 0) handler.accept(handler.dealCount() - 1); // the last one proposed
            } else if (action == 1 && i % 4 == 0) handler.cancel(a);
            else if (action == 2 || action == 1) handler.accept(a);
            else if (action == 3 || action == 13) {
                // Each audit opened goes one of the ways an audit goes: its seed fixed and left to the walk, fixed
                // and the deal ended with the audit open, lapsed unfixed, answered at once (the answer fixes the
                // seed), or fixed and missed.
                uint256 opened = handler.succeeded(MarketHandler.challenge.selector);
                handler.challenge(a, b, bytes32(r));
                if (handler.succeeded(MarketHandler.challenge.selector) > opened) {
                    uint256 way = opened % 5;
                    if (way == 0 || way == 1 || way == 4) handler.fixSeed(a);
                    if (way == 1) handler.end(a);
                    if (way == 2) handler.lapse(a);
                    if (way == 3) {
                        handler.warp(30 minutes);
                        handler.answer(a, true);
                        handler.claim(a, b);
                    }
                    if (way == 4) {
                        handler.warp(2 hours);
                        handler.finalize(a);
                    }
                }
            } else if (action == 4) handler.answer(a, i % 5 != 0);
            else if (action == 5) handler.finalize(a);
            else if (action == 6 && i % 3 == 0) handler.end(a);
            else if (action == 7) handler.complete(a);
            else if (action == 8) handler.claim(a, b);
            else if (action == 9) handler.addStake(a, b);
            else if (action == 10) handler.unbond(a, b);
            else if (action == 11) handler.withdraw(a);
            else if (action == 12) handler.fixSeed(a);
            else handler.warp(b % 2 == 0 ? 30 minutes : 2 days);
            // Checked every 20 calls: the checks walk every deal, and one test keeps the trace of all its calls.
            if (i % 20 == 19) {
                invariant_tokensAreConserved();
                invariant_everyAccountGetsWhatTheRulesGive();
            }
        }
        bytes4[15] memory kinds = [
            MarketHandler.propose.selector,
            MarketHandler.cancel.selector,
            MarketHandler.accept.selector,
            MarketHandler.challenge.selector,
            MarketHandler.fixSeed.selector,
            MarketHandler.lapse.selector,
            MarketHandler.answer.selector,
            MarketHandler.finalize.selector,
            MarketHandler.end.selector,
            bytes4(keccak256("endWithAuditOpen")),
            MarketHandler.complete.selector,
            MarketHandler.claim.selector,
            MarketHandler.unbond.selector,
            MarketHandler.withdraw.selector,
            MarketHandler.challenge.selector
        ];
        string[15] memory names = [
            "propose",
            "cancel",
            "accept",
            "challenge",
            "fixSeed",
            "lapse",
            "answer",
            "finalize",
            "end",
            "end with an audit open",
            "complete",
            "claim",
            "unbond",
            "withdraw",
            "challenge"
        ];
        for (uint256 i = 0; i < kinds.length; i++) {
            vm.assertGt(handler.succeeded(kinds[i]), 0, string.concat("never succeeded: ", names[i]));
        }
    }
}
