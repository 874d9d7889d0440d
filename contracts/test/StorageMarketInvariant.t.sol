// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Token} from "../Token.sol";
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
    uint256 public constant INITIAL_BALANCE = 10_000 ether;
    uint256 internal constant BPS = 10_000;

    struct ModelDeal {
        address client;
        address host;
        uint256 price;
        uint256 start;
        uint256 duration;
        uint256 earned;
        uint256 claimed;
        uint256 feeBps;
        uint8 state; // 1 proposed, 2 active, 3 closed
    }

    struct ModelHost {
        uint256 stake;
        uint256 unbonding;
        uint256 readyAt;
        uint256 active;
    }

    Token public immutable token;
    StorageMarket public immutable market;
    address public immutable treasury;
    IStorageMarket.Parameters internal params;

    uint256[HOST_COUNT] internal hostKeys;
    address[HOST_COUNT] public hosts;
    address[CLIENT_COUNT] public clients;
    address[] internal accounts;

    bytes[] internal chunks;
    bytes32[] internal leaves;
    bytes32 internal root;
    uint256 internal shardSize;

    mapping(uint256 => ModelDeal) internal deals;
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
    uint256 public calls;
    /// @dev How often each kind of call went through, to show the runs reach every state.
    mapping(bytes4 => uint256) public succeeded;

    constructor(IStorageMarket.Parameters memory parameters, address treasury_) {
        params = parameters;
        treasury = treasury_;
        token = new Token(address(this), 0, true);
        market = new StorageMarket(IERC20(address(token)), address(this), treasury_, parameters);
        for (uint256 i = 0; i < HOST_COUNT; i++) {
            hostKeys[i] = 0x1000 + i;
            hosts[i] = vm.addr(hostKeys[i]);
            _fund(hosts[i]);
            vm.prank(hosts[i]);
            market.registerHost(hex"00240801", 1 << 40, 1 ether, true, parameters.minStake * 2, _noPermit());
            expectedBalance[hosts[i]] -= parameters.minStake * 2;
            modelHosts[hosts[i]].stake = parameters.minStake * 2;
            stakeIn += parameters.minStake * 2;
        }
        for (uint256 i = 0; i < CLIENT_COUNT; i++) {
            clients[i] = address(uint160(0xC0000 + i));
            _fund(clients[i]);
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

    function propose(uint256 clientSeed, uint256 hostSeed, uint256 durationSeed, uint256 extra) external {
        calls++;
        address c = clients[clientSeed % CLIENT_COUNT];
        address h = hosts[hostSeed % HOST_COUNT];
        uint256 duration = 1 hours + durationSeed % 20 days;
        uint256 price = market.quote(h, shardSize, duration) + extra % 50 ether;
        if (price > expectedBalance[c]) return;
        IStorageMarket.DealTerms memory terms = IStorageMarket.DealTerms({
            host: h,
            manifestCid: hex"0171",
            shardIndex: 0,
            shardSizeBytes: uint64(shardSize),
            shardRoot: root,
            durationSeconds: uint64(duration),
            price: price
        });
        vm.prank(c);
        uint256 id = market.proposeDeal(terms, _noPermit());
        dealCount = id;
        succeeded[this.propose.selector]++;
        deals[id] = ModelDeal(c, h, price, 0, duration, 0, 0, 0, 1);
        _move(c, address(market), price);
        escrowIn += price;
    }

    function cancel(uint256 dealSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        if (d.state != 1) return;
        vm.prank(d.client);
        market.cancelProposal(id);
        d.state = 3;
        succeeded[this.cancel.selector]++;
        _move(address(market), d.client, d.price);
        refunded += d.price;
    }

    function accept(uint256 dealSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        if (d.state != 1 || modelHosts[d.host].stake < params.minStake) return;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(_keyOf(d.host), market.receiptDigest(id));
        market.acceptDeal(id, abi.encodePacked(r, s, v));
        d.state = 2;
        succeeded[this.accept.selector]++;
        d.start = block.timestamp;
        d.feeBps = params.protocolFeeBps;
        modelHosts[d.host].active++;
    }

    function challenge(uint256 dealSeed, uint256 challengerSeed, bytes32 seed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        if (d.state != 2 || block.timestamp >= d.start + d.duration) return;
        if (market.auditInfo(id).challenger != address(0)) return;
        vm.prank(address(uint160(0xAA00 + challengerSeed % 4)));
        market.challenge(id);
        succeeded[this.challenge.selector]++;
        // The next block's hash is the seed; the fuzzer plays the block producer.
        uint256 seedBlock = block.number + 1;
        vm.roll(seedBlock + 1);
        vm.setBlockhash(seedBlock, seed);
    }

    function answer(uint256 dealSeed, bool honest) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        if (d.state != 2) return;
        IStorageMarket.AuditInfo memory a = market.auditInfo(id);
        if (a.challenger == address(0) || block.timestamp > a.deadline) return;
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
    }

    function finalize(uint256 dealSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        if (d.state != 2) return;
        IStorageMarket.AuditInfo memory a = market.auditInfo(id);
        if (a.challenger == address(0) || block.timestamp <= a.deadline) return;
        market.finalizeMissedAudit(id);
        succeeded[this.finalize.selector]++;
        ModelHost storage h = modelHosts[d.host];
        uint256 cut = h.stake * params.slashShareBps / BPS;
        h.stake -= cut;
        slashed += cut;
        _move(address(market), d.client, cut);
        _close(d, d.earned);
    }

    function end(uint256 dealSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        if (d.state != 2 || block.timestamp >= d.start + d.duration) return;
        if (market.auditInfo(id).challenger != address(0)) return;
        vm.prank(d.client);
        market.endDeal(id);
        succeeded[this.end.selector]++;
        _close(d, _earned(d, block.timestamp));
    }

    function complete(uint256 dealSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        if (d.state != 2 || block.timestamp < d.start + d.duration) return;
        if (market.auditInfo(id).challenger != address(0)) return;
        market.completeDeal(id);
        succeeded[this.complete.selector]++;
        _close(d, d.price);
    }

    function claim(uint256 dealSeed) external {
        calls++;
        (uint256 id, ModelDeal storage d) = _pick(dealSeed);
        if (d.state != 2 || d.earned == d.claimed) return;
        market.claimEarnings(id);
        succeeded[this.claim.selector]++;
        _payHost(d, d.earned - d.claimed);
        d.claimed = d.earned;
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

    function unbond(uint256 hostSeed, uint256 amount) external {
        calls++;
        address h = hosts[hostSeed % HOST_COUNT];
        ModelHost storage m = modelHosts[h];
        if (m.active != 0 || m.stake == 0) return;
        amount = 1 + amount % m.stake;
        vm.prank(h);
        market.beginUnbonding(amount);
        m.stake -= amount;
        m.unbonding += amount;
        m.readyAt = block.timestamp + params.unbondingDelaySeconds;
    }

    function withdraw(uint256 hostSeed) external {
        calls++;
        address h = hosts[hostSeed % HOST_COUNT];
        ModelHost storage m = modelHosts[h];
        if (m.unbonding == 0 || block.timestamp < m.readyAt || m.active != 0) return;
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

    function modelHost(address h) external view returns (ModelHost memory) {
        return modelHosts[h];
    }

    function modelDeal(uint256 id) external view returns (ModelDeal memory) {
        return deals[id];
    }

    // ------------------------------------------------------------------ internals

    function _earned(ModelDeal storage d, uint256 t) private view returns (uint256) {
        uint256 elapsed = t - d.start;
        if (elapsed > d.duration) elapsed = d.duration;
        return d.price * elapsed / d.duration;
    }

    function _close(ModelDeal storage d, uint256 earned) private {
        uint256 refund = d.price - earned;
        _move(address(market), d.client, refund);
        refunded += refund;
        _payHost(d, earned - d.claimed);
        d.earned = earned;
        d.claimed = earned;
        d.state = 3;
        modelHosts[d.host].active--;
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
                slashShareBps: 3_000,
                protocolFeeBps: 250,
                auditWindowSeconds: 1 hours,
                unbondingDelaySeconds: 1 days
            }),
            address(0x7EA5)
        );
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](13);
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
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), selectors);
    }

    /// all escrow = paid out + refunded + still held; all stake = withdrawn + slashed + still held; and the
    /// market's balance is exactly what it still holds.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 60
    function invariant_tokensAreConserved() public view {
        uint256 escrowHeld = handler.escrowHeld();
        uint256 stakeHeld = handler.stakeHeld();
        vm.assertEq(handler.escrowIn(), handler.paidToHostsGross() + handler.refunded() + escrowHeld, "escrow");
        vm.assertEq(handler.stakeIn(), handler.stakeOut() + handler.slashed() + stakeHeld, "stake");
        vm.assertEq(handler.token().balanceOf(address(handler.market())), escrowHeld + stakeHeld, "market balance");
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
        }
        for (uint256 id = 1; id <= handler.dealCount(); id++) {
            IStorageMarket.DealInfo memory d = handler.market().dealInfo(id);
            vm.assertLe(d.claimed, d.earned);
            vm.assertLe(d.earned, d.price);
            vm.assertEq(d.earned, handler.modelDeal(id).earned, "earned");
        }
    }

    /// @dev The handler is able to reach every state: a scripted pseudo-random walk makes each kind of call
    /// succeed at least once, and both invariants hold at the end of it.
    function testHandlerReachesEveryState() public {
        for (uint256 i = 0; i < 400; i++) {
            uint256 r = uint256(keccak256(abi.encode(i)));
            uint256 action = r % 13;
            uint256 a = r >> 8;
            uint256 b = r >> 64;
            if (action == 0) handler.propose(a, b, r >> 128, r >> 160);
            else if (action == 1 && i % 4 == 0) handler.cancel(a);
            else if (action == 2 || action == 1) handler.accept(a);
            else if (action == 3) handler.challenge(a, b, bytes32(r));
            else if (action == 4) handler.answer(a, i % 5 != 0);
            else if (action == 5) handler.finalize(a);
            else if (action == 6 && i % 3 == 0) handler.end(a);
            else if (action == 7) handler.complete(a);
            else if (action == 8) handler.claim(a);
            else if (action == 9) handler.addStake(a, b);
            else if (action == 10) handler.unbond(a, b);
            else if (action == 11) handler.withdraw(a);
            else handler.warp(b % 2 == 0 ? 30 minutes : 2 days);
            invariant_tokensAreConserved();
            invariant_everyAccountGetsWhatTheRulesGive();
        }
        bytes4[11] memory kinds = [
            MarketHandler.propose.selector,
            MarketHandler.cancel.selector,
            MarketHandler.accept.selector,
            MarketHandler.challenge.selector,
            MarketHandler.answer.selector,
            MarketHandler.finalize.selector,
            MarketHandler.end.selector,
            MarketHandler.complete.selector,
            MarketHandler.claim.selector,
            MarketHandler.withdraw.selector,
            MarketHandler.challenge.selector
        ];
        for (uint256 i = 0; i < kinds.length; i++) {
            vm.assertGt(handler.succeeded(kinds[i]), 0, "a kind of call never succeeded");
        }
    }
}
