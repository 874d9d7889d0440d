// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {BandwidthChannel} from "../BandwidthChannel.sol";
import {HashChainChannel} from "../HashChainChannel.sol";
import {IBandwidthChannel} from "../interfaces/IBandwidthChannel.sol";
import {IHashChainChannel} from "../interfaces/IHashChainChannel.sol";
import {ILottery} from "../interfaces/ILottery.sol";
import {IMerkleChannel} from "../interfaces/IMerkleChannel.sol";
import {Lottery} from "../Lottery.sol";
import {MerkleChannel} from "../MerkleChannel.sol";
import {OperatorRegistry} from "../OperatorRegistry.sol";
import {Token} from "../Token.sol";
import {TestBase} from "./utils/Vm.sol";

/// @dev Drives random sequences of calls on all four payment contracts with a few actors. Arguments are bounded
/// into ranges where calls usually succeed; calls that the rules refuse simply revert and change nothing.
contract PaymentsHandler is TestBase {
    uint256 internal constant MB = 1_000_000;
    uint256 internal constant ACTORS = 4;
    bytes32 internal constant SECRET = keccak256("secret");

    Token public immutable token;
    BandwidthChannel public immutable bandwidth;
    HashChainChannel public immutable hashChain;
    MerkleChannel public immutable merkle;
    Lottery public immutable lottery;

    uint256[ACTORS] internal keys = [uint256(0xA1), 0xB2, 0xC3, 0xD4];
    address[ACTORS] public actors;
    uint256[] public bandwidthIds;
    uint256[] public routeIds;
    bytes32[] public hashChainIds;
    bytes32[] public merkleIds;
    uint256[] public lotIds;
    mapping(bytes32 => bytes32) internal merkleLeafB;
    mapping(bytes32 => bytes32) internal merkleLeafA;
    mapping(bytes32 => uint256) internal merkleValue;
    mapping(bytes32 => address[2]) internal merklePayees;
    mapping(bytes32 => uint256) internal merkleIndexB;
    uint256 internal salt;
    /// @dev Tokens the bandwidth contract burned (ChannelSettled.burned summed) and what finished lots forfeit
    /// (the fine and the sharing remainder of each withheld reveal, from the lot's state before `finish`): the
    /// supply falls by exactly their sum.
    uint256 public bandwidthBurned;
    uint256 public lotteryBurned;

    constructor() {
        token = new Token(address(this), 0, true);
        OperatorRegistry paymentOperators = new OperatorRegistry();
        bandwidth = new BandwidthChannel(IERC20(address(token)), paymentOperators, 1 hours, 1 days);
        hashChain = new HashChainChannel(IERC20(address(token)), paymentOperators);
        merkle = new MerkleChannel(IERC20(address(token)), paymentOperators);
        lottery = new Lottery(IERC20(address(token)), paymentOperators, 1 days, 1 days, 1 days);
        for (uint256 i = 0; i < ACTORS; i++) {
            actors[i] = vm.addr(keys[i]);
            token.faucet(actors[i], 10_000 ether);
            vm.startPrank(actors[i]);
            token.approve(address(bandwidth), type(uint256).max);
            token.approve(address(hashChain), type(uint256).max);
            token.approve(address(merkle), type(uint256).max);
            token.approve(address(lottery), type(uint256).max);
            vm.stopPrank();
        }
    }

    function holders() external view returns (address[] memory list) {
        list = new address[](ACTORS + 4);
        for (uint256 i = 0; i < ACTORS; i++) {
            list[i] = actors[i];
        }
        list[ACTORS] = address(bandwidth);
        list[ACTORS + 1] = address(hashChain);
        list[ACTORS + 2] = address(merkle);
        list[ACTORS + 3] = address(lottery);
    }

    function merklePayeesOf(bytes32 id) external view returns (address, address) {
        return (merklePayees[id][0], merklePayees[id][1]);
    }

    function counts() external view returns (uint256, uint256, uint256, uint256) {
        return (bandwidthIds.length, hashChainIds.length, merkleIds.length, lotIds.length);
    }

    function passTime(uint256 secondsAhead, uint256 blocksAhead) external {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 2 days));
        vm.roll(block.number + bound(blocksAhead, 1, 8));
    }

    // ---------------------------------------------------------------- bandwidth

    function bwOpen(uint256 a, uint256 b, uint256 deposit, uint256 price, uint256 tolerance) external {
        (address payer, address payee) = _pair(a, b);
        vm.prank(payer);
        bandwidthIds.push(
            bandwidth.open(payee, payer, uint96(bound(deposit, 1, 50 ether)), uint96(bound(price, 1, 5 ether)), uint96(bound(tolerance, 0, 3 * MB)))
        );
    }

    /// @dev Two channels from one payer in one transaction, to the two actors after it.
    function bwOpenBatch(uint256 a, uint256 deposit, uint256 price) external {
        address payer = actors[a % ACTORS];
        IBandwidthChannel.Opening[] memory openings = new IBandwidthChannel.Opening[](2);
        for (uint256 k = 0; k < 2; k++) {
            openings[k] = IBandwidthChannel.Opening(
                actors[(a + 1 + k) % ACTORS], payer, uint96(bound(deposit, 1, 30 ether)), uint96(bound(price, 1, 5 ether)), uint96(MB)
            );
        }
        vm.prank(payer);
        uint256 first = bandwidth.openBatch(openings);
        bandwidthIds.push(first);
        bandwidthIds.push(first + 1);
    }

    /// @dev A route a → b, its upstream leg one more bandwidth channel (so every other step reaches it too).
    function bwOpenRoute(uint256 a, uint256 b, uint256 amount, uint256 price, uint256 tolerance) external {
        (address payer, address proxy) = _pair(a, b);
        vm.prank(payer);
        uint256 up = bandwidth.openRoute(
            proxy, payer, uint96(bound(amount, 1, 40 ether)), uint96(bound(price, 1, 5 ether)), uint96(bound(tolerance, 0, 3 * MB))
        );
        bandwidthIds.push(up);
        routeIds.push(up);
    }

    /// @dev The proxy of route i opens its leg to actor c (which may be the route's payer).
    function bwOpenRouteLeg(uint256 i, uint256 c) external {
        if (routeIds.length == 0) return;
        uint256 up = routeIds[i % routeIds.length];
        address proxy = bandwidth.getChannel(up).payee;
        address payee = actors[c % ACTORS];
        vm.prank(proxy);
        bandwidthIds.push(bandwidth.openRouteLeg(up, payee, proxy));
    }

    function routeCount() external view returns (uint256) {
        return routeIds.length;
    }

    function bwConfirm(uint256 i) external {
        if (bandwidthIds.length == 0) return;
        uint256 id = bandwidthIds[i % bandwidthIds.length];
        address payee = bandwidth.getChannel(id).payee;
        vm.prank(payee);
        bandwidth.confirm(id, payee);
    }

    function bwReclaim(uint256 i) external {
        if (bandwidthIds.length == 0) return;
        uint256 id = bandwidthIds[i % bandwidthIds.length];
        vm.prank(bandwidth.getChannel(id).payer);
        bandwidth.reclaim(id);
    }

    function bwClose(uint256 i, uint256 totalBytes, uint64 seq, bool byPayee) external {
        if (bandwidthIds.length == 0) return;
        uint256 id = bandwidthIds[i % bandwidthIds.length];
        IBandwidthChannel.Channel memory c = bandwidth.getChannel(id);
        IBandwidthChannel.Usage memory u = _unit(id, uint64(bound(seq, 1, 20)), bound(totalBytes, 0, 80 * MB));
        (bytes memory a, bytes memory b) = (_sign(c.payer, bandwidth.usageDigest(u)), _sign(c.payee, bandwidth.usageDigest(u)));
        vm.prank(byPayee ? c.payee : c.payer);
        bandwidth.close(id, u, a, b);
    }

    /// @dev A newer unit both signed, submitted by a side or by any other actor (a watchtower).
    function bwChallenge(uint256 i, uint256 totalBytes, uint64 seq, uint256 by) external {
        if (bandwidthIds.length == 0) return;
        uint256 id = bandwidthIds[i % bandwidthIds.length];
        IBandwidthChannel.Channel memory c = bandwidth.getChannel(id);
        IBandwidthChannel.Usage memory u = _unit(id, uint64(bound(seq, 1, 40)), bound(totalBytes, 0, 80 * MB));
        (bytes memory a, bytes memory b) = (_sign(c.payer, bandwidth.usageDigest(u)), _sign(c.payee, bandwidth.usageDigest(u)));
        vm.prank(actors[by % ACTORS]);
        bandwidth.challenge(id, u, a, b);
    }

    /// @dev A one-sided claim near the agreed unit: sometimes linked to a unit of the other side (a proposal a
    /// little above the agreed count), sometimes below the agreed count or a long way ahead (refused).
    function bwClaim(uint256 i, uint256 totalBytes, uint64 seq, bool byPayee, uint256 linkedBytes, bool linked)
        external
    {
        if (bandwidthIds.length == 0) return;
        uint256 id = bandwidthIds[i % bandwidthIds.length];
        IBandwidthChannel.Channel memory c = bandwidth.getChannel(id);
        address signer = byPayee ? c.payee : c.payer;
        IBandwidthChannel.Usage memory other =
            _unit(id, c.agreedSequence + 1, uint256(c.agreedBytes) + bound(linkedBytes, 0, 3 * MB));
        IBandwidthChannel.Usage memory u = _unit(
            id,
            c.agreedSequence + uint64(bound(seq, 0, 4)),
            uint256(c.agreedBytes) + bound(totalBytes, 0, 8 * MB) - (totalBytes % 5 == 0 && c.agreedBytes > 0 ? 1 : 0)
        );
        bytes memory otherSig;
        if (linked) {
            u.link = bandwidth.usageDigest(other);
            otherSig = _sign(byPayee ? c.payer : c.payee, bandwidth.usageDigest(other));
        }
        bytes memory sig = _sign(signer, bandwidth.usageDigest(u));
        vm.prank(signer);
        bandwidth.submitClaim(id, u, sig, other, otherSig);
    }

    function bwSettle(uint256 i) external {
        if (bandwidthIds.length == 0) return;
        uint256 id = bandwidthIds[i % bandwidthIds.length];
        IBandwidthChannel.Settlement memory s = bandwidth.previewSettlement(id);
        bandwidth.settle(id);
        bandwidthBurned += s.burned;
    }

    function bwBlacklist(uint256 i, bool byPayee) external {
        if (bandwidthIds.length == 0) return;
        uint256 id = bandwidthIds[i % bandwidthIds.length];
        IBandwidthChannel.Channel memory c = bandwidth.getChannel(id);
        vm.prank(byPayee ? c.payee : c.payer);
        bandwidth.blacklist(id);
    }

    // ---------------------------------------------------------------- hash chain

    function hcOpen(uint256 a, uint256 b, uint256 units, uint256 value) external {
        (address payer, address payee) = _pair(a, b);
        uint32 n = uint32(bound(units, 1, 64));
        bytes32 s = bytes32(++salt);
        bytes32 id = hashChain.channelIdOf(payer, payee, s);
        vm.prank(payer);
        hashChain.open(payee, s, _walk(id, SECRET, n), n, uint128(bound(value, 1, 1 ether)), uint64(block.timestamp + 1 days));
        hashChainIds.push(id);
    }

    function hcRedeem(uint256 i, uint256 depth) external {
        if (hashChainIds.length == 0) return;
        bytes32 id = hashChainIds[i % hashChainIds.length];
        IHashChainChannel.Channel memory c = hashChain.getChannel(id);
        uint256 d = bound(depth, 1, c.units);
        vm.prank(c.payee);
        hashChain.redeem(id, _walk(id, SECRET, c.units - d), d);
    }

    function hcReclaim(uint256 i) external {
        if (hashChainIds.length == 0) return;
        bytes32 id = hashChainIds[i % hashChainIds.length];
        vm.prank(hashChain.getChannel(id).payer);
        hashChain.reclaim(id);
    }

    // ---------------------------------------------------------------- merkle

    function mkOpen(uint256 a, uint256 b, uint256 value, uint256 funds) external {
        (address payer, address payee) = _pair(a, b);
        address second = actors[(b + 2) % ACTORS];
        bytes32 s = bytes32(++salt);
        bytes32 id = merkle.channelIdOf(payer, s);
        uint256 v = bound(value, 1, 5 ether);
        // Both leaves use index 0 when `value` is odd: one index for two payees, each paid from its allocation.
        uint256 indexB = value % 2;
        bytes32 leafA = keccak256(bytes.concat(keccak256(abi.encode(id, uint256(0), payee, v))));
        bytes32 leafB = keccak256(bytes.concat(keccak256(abi.encode(id, indexB, second, v))));
        bytes32 root = leafA < leafB ? keccak256(abi.encode(leafA, leafB)) : keccak256(abi.encode(leafB, leafA));
        IMerkleChannel.Allocation[] memory allocations = new IMerkleChannel.Allocation[](second == payee ? 1 : 2);
        allocations[0] = IMerkleChannel.Allocation(payee, uint128(bound(funds, 1, 10 ether)));
        if (second != payee) allocations[1] = IMerkleChannel.Allocation(second, uint128(bound(funds >> 128, 1, 10 ether)));
        vm.prank(payer);
        merkle.open(s, root, allocations, uint64(block.timestamp + 1 days));
        merkleIndexB[id] = indexB;
        merkleIds.push(id);
        merkleLeafA[id] = leafA;
        merkleLeafB[id] = leafB;
        merkleValue[id] = v;
        merklePayees[id] = [payee, second];
    }

    function mkRedeem(uint256 i, bool second) external {
        if (merkleIds.length == 0) return;
        bytes32 id = merkleIds[i % merkleIds.length];
        IMerkleChannel.Token[] memory t = new IMerkleChannel.Token[](1);
        t[0] = IMerkleChannel.Token(second ? merkleIndexB[id] : 0, merkleValue[id]);
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = second ? merkleLeafA[id] : merkleLeafB[id];
        address payee = merklePayees[id][second ? 1 : 0];
        vm.prank(payee);
        merkle.redeem(id, payee, t, proof, new bool[](1));
    }

    function mkReclaim(uint256 i) external {
        if (merkleIds.length == 0) return;
        bytes32 id = merkleIds[i % merkleIds.length];
        vm.prank(merkle.getChannel(id).payer);
        merkle.reclaim(id);
    }

    // ---------------------------------------------------------------- lottery

    /// @dev Covers a random subset of the other actors (bits of `covers`).
    function ltCreate(uint256 a, uint256 size, uint256 value, uint256 covers) external {
        address payer = actors[a % ACTORS];
        vm.prank(payer);
        lotIds.push(
            lottery.createLot(
                uint32(bound(size, 1, 6)),
                uint128(bound(value, 1, 1 ether)),
                keccak256(abi.encode(payer, SECRET)),
                uint40(block.timestamp + 1 days),
                _subset(covers),
                payer
            )
        );
    }

    function ltCover(uint256 i, uint256 covers) external {
        if (lotIds.length == 0) return;
        uint256 lotId = _lotIn(i, ILottery.Phase.Issuing);
        vm.prank(lottery.getLot(lotId).payer);
        lottery.coverPayees(lotId, _subset(covers));
    }

    function ltClose(uint256 i, uint256 b, bool byPayer) external {
        if (lotIds.length == 0) return;
        uint256 lotId = _lotIn(i, ILottery.Phase.Issuing);
        vm.prank(byPayer ? lottery.getLot(lotId).payer : actors[b % ACTORS]);
        lottery.closeLot(lotId);
    }

    function ltPin(uint256 i) external {
        if (lotIds.length == 0) return;
        uint256 lotId = _lotIn(i, ILottery.Phase.Drawing);
        _setSeedBlockHash(lotId);
        lottery.pinSeed(lotId);
    }

    /// @dev Any lot, not only one in its reveal window, so that payers often withhold and lots get shared.
    function ltReveal(uint256 i) external {
        if (lotIds.length == 0) return;
        uint256 lotId = lotIds[i % lotIds.length];
        _setSeedBlockHash(lotId);
        vm.prank(lottery.getLot(lotId).payer);
        lottery.reveal(lotId, SECRET);
    }

    /// @dev Redeems a ticket the payer issued to actor `b`: usually for the winning index, sometimes another.
    function ltRedeem(uint256 i, uint256 b, uint256 index, bool winning) external {
        if (lotIds.length == 0) return;
        uint256 lotId = _lotIn(i, ILottery.Phase.Claiming);
        ILottery.Lot memory lot = lottery.getLot(lotId);
        address payee = actors[b % ACTORS];
        uint32 n = winning ? lot.winningIndex : uint32(bound(index, 0, lot.lotSize));
        bytes memory sig = _sign(lot.payer, lottery.ticketDigest(lotId, n, payee, b));
        vm.prank(payee);
        lottery.redeem(lotId, payee, n, b, sig);
    }

    function ltRegister(uint256 i, uint256 b, uint256 first, uint256 count) external {
        if (lotIds.length == 0) return;
        uint256 lotId = _lotIn(i, ILottery.Phase.Sharing);
        ILottery.Lot memory lot = lottery.getLot(lotId);
        address payee = actors[b % ACTORS];
        uint32 n = uint32(bound(count, 1, 3));
        uint32 start = uint32(bound(first, 0, lot.lotSize - 1));
        ILottery.TicketClaim[] memory claims = new ILottery.TicketClaim[](n);
        for (uint32 k = 0; k < n; k++) {
            uint32 index = start + k;
            claims[k] = ILottery.TicketClaim(index, k, _sign(lot.payer, lottery.ticketDigest(lotId, index, payee, k)));
        }
        vm.prank(payee);
        lottery.registerTickets(lotId, payee, claims);
    }

    /// @dev Withdraws for an actor holding a share, searching lots from `i` and actors from `b` (else lot `i`, `b`).
    function ltWithdraw(uint256 i, uint256 b) external {
        if (lotIds.length == 0) return;
        uint256 lotId = lotIds[i % lotIds.length];
        address payee = actors[b % ACTORS];
        for (uint256 l = 0; l < lotIds.length; l++) {
            for (uint256 k = 0; k < ACTORS; k++) {
                uint256 candidate = lotIds[(i + l) % lotIds.length];
                if (lottery.registeredBy(candidate, actors[(b + k) % ACTORS]) != 0) {
                    (lotId, payee) = (candidate, actors[(b + k) % ACTORS]);
                    l = lotIds.length;
                    break;
                }
            }
        }
        vm.prank(payee);
        lottery.withdrawShare(lotId, payee);
    }

    /// @dev The payer's ticket for an index (usually the winning one) given to actor `b` is claimed against the
    /// cover by anyone: paid when another payee redeemed or registered that index, refused otherwise.
    function ltClaimCover(uint256 i, uint256 index, uint256 b, uint256 sender, bool winning) external {
        if (lotIds.length == 0) return;
        uint256 lotId = lotIds[i % lotIds.length];
        ILottery.Lot memory lot = lottery.getLot(lotId);
        uint32 n = winning && lot.revealed ? lot.winningIndex : uint32(bound(index, 0, lot.lotSize - 1));
        ILottery.Ticket memory t = ILottery.Ticket(n, actors[b % ACTORS], 100 + b);
        bytes memory sig = _sign(lot.payer, lottery.ticketDigest(lotId, n, t.payee, t.nonce));
        vm.prank(actors[sender % ACTORS]);
        lottery.claimCover(lotId, t, sig);
    }

    function ltFinish(uint256 i) external {
        if (lotIds.length == 0) return;
        uint256 lotId = _lotIn(i, ILottery.Phase.Settling);
        ILottery.Lot memory lot = lottery.getLot(lotId);
        lottery.finish(lotId);
        if (lot.status != ILottery.Status.Closed) return;
        // A withheld reveal: the fine, and what the equal shares leave over.
        uint256 lotValue = uint256(lot.lotSize) * lot.ticketValue;
        lotteryBurned += lottery.FINE_LOTS() * lotValue;
        if (lot.registered != 0) lotteryBurned += lotValue % lot.registered;
    }

    /// @dev Time passes to just after lot `i`'s reveal deadline, or its last (claim or sharing) deadline.
    function ltSkip(uint256 i, bool toEnd) external {
        if (lotIds.length == 0) return;
        uint256 lotId = lotIds[i % lotIds.length];
        (uint256 revealDeadline, uint256 claimDeadline, uint256 shareDeadline) = lottery.deadlines(lotId);
        uint256 target = toEnd ? (lottery.getLot(lotId).revealed ? claimDeadline : shareDeadline) : revealDeadline;
        if (target < block.timestamp) return;
        vm.warp(target + 1);
        vm.roll(block.number + 1);
    }

    /// @dev The first lot from `i` on that is in `wanted`, or lot `i` when none is (so that refusals run too).
    function _lotIn(uint256 i, ILottery.Phase wanted) private view returns (uint256) {
        uint256 n = lotIds.length;
        for (uint256 k = 0; k < n; k++) {
            uint256 lotId = lotIds[(i + k) % n];
            if (lottery.phase(lotId) == wanted) return lotId;
        }
        return lotIds[i % n];
    }

    /// @dev The test chain keeps no hashes for rolled blocks: give the seed block one while BLOCKHASH reads it.
    function _setSeedBlockHash(uint256 lotId) private {
        uint256 seedBlock = lottery.getLot(lotId).seedBlock;
        if (seedBlock != 0 && block.number > seedBlock && block.number - seedBlock <= 256) {
            vm.setBlockhash(seedBlock, keccak256(abi.encode(seedBlock)));
        }
    }

    // ---------------------------------------------------------------- helpers

    function _pair(uint256 a, uint256 b) private view returns (address, address) {
        uint256 i = a % ACTORS;
        uint256 j = (i + 1 + (b % (ACTORS - 1))) % ACTORS;
        return (actors[i], actors[j]);
    }

    function _subset(uint256 bits) private view returns (address[] memory list) {
        uint256 count;
        for (uint256 k = 0; k < ACTORS; k++) {
            if ((bits >> k) & 1 == 1) count++;
        }
        list = new address[](count);
        count = 0;
        for (uint256 k = 0; k < ACTORS; k++) {
            if ((bits >> k) & 1 == 1) list[count++] = actors[k];
        }
    }

    function _unit(uint256 id, uint64 seq, uint256 totalBytes) private view returns (IBandwidthChannel.Usage memory) {
        return IBandwidthChannel.Usage(id, seq, uint128(totalBytes), uint64(block.timestamp), bytes32(0));
    }

    function _sign(address signer, bytes32 digest) private view returns (bytes memory) {
        uint256 key;
        for (uint256 i = 0; i < ACTORS; i++) {
            if (actors[i] == signer) key = keys[i];
        }
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _walk(bytes32 id, bytes32 value, uint256 times) private pure returns (bytes32) {
        for (uint256 i = 0; i < times; i++) {
            value = keccak256(abi.encodePacked(id, value));
        }
        return value;
    }
}

/// @dev Token conservation across all four payment contracts for any sequence of calls: nothing is minted or
/// lost, and each contract holds exactly what it still owes.
contract PaymentsInvariantTest is TestBase {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    PaymentsHandler private handler;
    uint256 private supply;

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(1_000);
        handler = new PaymentsHandler();
        supply = handler.token().totalSupply();
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory s = new bytes4[](34);
        s[0] = PaymentsHandler.passTime.selector;
        s[1] = PaymentsHandler.bwOpen.selector;
        s[2] = PaymentsHandler.bwConfirm.selector;
        s[3] = PaymentsHandler.bwReclaim.selector;
        s[4] = PaymentsHandler.bwClose.selector;
        s[5] = PaymentsHandler.bwChallenge.selector;
        s[6] = PaymentsHandler.bwClaim.selector;
        s[7] = PaymentsHandler.bwSettle.selector;
        s[8] = PaymentsHandler.hcOpen.selector;
        s[9] = PaymentsHandler.hcRedeem.selector;
        s[10] = PaymentsHandler.hcReclaim.selector;
        s[11] = PaymentsHandler.mkOpen.selector;
        s[12] = PaymentsHandler.mkRedeem.selector;
        s[13] = PaymentsHandler.mkReclaim.selector;
        s[14] = PaymentsHandler.ltCreate.selector;
        s[15] = PaymentsHandler.ltClose.selector;
        s[16] = PaymentsHandler.ltPin.selector;
        s[17] = PaymentsHandler.ltReveal.selector;
        s[18] = PaymentsHandler.ltRedeem.selector;
        s[19] = PaymentsHandler.ltRegister.selector;
        s[20] = PaymentsHandler.ltWithdraw.selector;
        s[21] = PaymentsHandler.ltClaimCover.selector;
        s[22] = PaymentsHandler.ltFinish.selector;
        s[23] = PaymentsHandler.ltCreate.selector;
        s[24] = PaymentsHandler.bwOpen.selector;
        s[25] = PaymentsHandler.passTime.selector;
        s[26] = PaymentsHandler.ltSkip.selector;
        s[27] = PaymentsHandler.bwBlacklist.selector;
        s[28] = PaymentsHandler.bwClaim.selector;
        s[29] = PaymentsHandler.ltCover.selector;
        s[30] = PaymentsHandler.ltClaimCover.selector;
        s[31] = PaymentsHandler.bwOpenRoute.selector;
        s[32] = PaymentsHandler.bwOpenRouteLeg.selector;
        s[33] = PaymentsHandler.bwOpenBatch.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), s);
    }

    /// Every token is held by an actor or a contract, and the supply falls by exactly what the bandwidth channel
    /// and the lottery burned.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 80
    function invariantTokensAreConserved() public view {
        Token token = handler.token();
        address[] memory holders = handler.holders();
        uint256 sum;
        for (uint256 i = 0; i < holders.length; i++) {
            sum += token.balanceOf(holders[i]);
        }
        vm.assertEq(
            token.totalSupply(),
            supply - handler.bandwidthBurned() - handler.lotteryBurned(),
            "supply changed by other than the burns"
        );
        vm.assertEq(sum, token.totalSupply(), "tokens left the known holders");
    }

    /// A payee's channel count is its confirmed, unsettled channels, never above 5, whatever the order of close,
    /// challenge and settle.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 80
    function invariantPayeesEarnOnAtMostFiveChannels() public view {
        BandwidthChannel bandwidth = handler.bandwidth();
        (uint256 nb,,,) = handler.counts();
        for (uint256 a = 0; a < 4; a++) {
            address payee = handler.actors(a);
            uint256 earning;
            for (uint256 i = 0; i < nb; i++) {
                IBandwidthChannel.Channel memory c = bandwidth.getChannel(handler.bandwidthIds(i));
                if (c.payee != payee) continue;
                if (c.status == IBandwidthChannel.Status.Active || c.status == IBandwidthChannel.Status.Closing) {
                    earning++;
                }
            }
            vm.assertEq(bandwidth.openChannelsOf(payee), earning, "open channel count");
            vm.assertLe(earning, bandwidth.MAX_OPEN_CHANNELS_PER_PAYEE(), "more than 5 earning channels");
        }
    }

    /// A route's upstream leg locks and charges 110 % of what its downstream leg locks and charges, and a route has
    /// at most one downstream leg, opened by the proxy from its own tokens.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 80
    function invariantRoutesLockTheirFee() public view {
        BandwidthChannel bandwidth = handler.bandwidth();
        for (uint256 i = 0; i < handler.routeCount(); i++) {
            uint256 up = handler.routeIds(i);
            IBandwidthChannel.Route memory route = bandwidth.getRoute(up);
            IBandwidthChannel.Channel memory upstream = bandwidth.getChannel(up);
            vm.assertEq(upstream.deposit, uint256(route.amount) * 110 / 100, "upstream lock");
            vm.assertEq(upstream.pricePerMB, uint256(route.pricePerMB) * 110 / 100, "upstream price");
            if (route.downstreamId == 0) continue;
            IBandwidthChannel.Channel memory downstream = bandwidth.getChannel(route.downstreamId);
            vm.assertEq(downstream.payer, upstream.payee, "the proxy pays the downstream leg");
            vm.assertEq(downstream.deposit, route.amount, "downstream lock");
            vm.assertEq(downstream.pricePerMB, route.pricePerMB, "downstream price");
            vm.assertEq(bandwidth.getRoute(route.downstreamId).amount, 0, "a leg is no route");
        }
    }

    /// Each contract's balance is exactly what it still owes on its open channels and lots.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 80
    function invariantEachContractHoldsExactlyWhatItOwes() public view {
        Token token = handler.token();
        (uint256 nb, uint256 nh, uint256 nm, uint256 nl) = handler.counts();
        uint256 owed;
        for (uint256 i = 0; i < nb; i++) {
            IBandwidthChannel.Channel memory c = handler.bandwidth().getChannel(handler.bandwidthIds(i));
            if (c.status == IBandwidthChannel.Status.Opened || c.status == IBandwidthChannel.Status.Active || c.status == IBandwidthChannel.Status.Closing) {
                owed += c.deposit;
            }
        }
        vm.assertEq(token.balanceOf(address(handler.bandwidth())), owed, "bandwidth");
        owed = 0;
        for (uint256 i = 0; i < nh; i++) {
            IHashChainChannel.Channel memory c = handler.hashChain().getChannel(handler.hashChainIds(i));
            if (!c.closed) owed += uint256(c.units) * c.unitValue;
        }
        vm.assertEq(token.balanceOf(address(handler.hashChain())), owed, "hash chain");
        owed = 0;
        for (uint256 i = 0; i < nm; i++) {
            owed += handler.merkle().getChannel(handler.merkleIds(i)).remaining;
        }
        vm.assertEq(token.balanceOf(address(handler.merkle())), owed, "merkle");
        owed = 0;
        for (uint256 i = 0; i < nl; i++) {
            owed += _lotOwed(handler.lotIds(i));
        }
        vm.assertEq(token.balanceOf(address(handler.lottery())), owed, "lottery");
    }

    /// @dev What a lot still owes, from its public state: the lot value until it is redeemed, refunded or shared
    /// out, the fine and the covers' unpaid part until the lot is finished, and shares owed to sharers and to
    /// robbed covered payees until they are withdrawn.
    function _lotOwed(uint256 lotId) private view returns (uint256) {
        ILottery.Lot memory lot = handler.lottery().getLot(lotId);
        uint256 lotValue = uint256(lot.lotSize) * lot.ticketValue;
        uint256 share = lot.registered == 0 ? 0 : lotValue / lot.registered;
        // The fine and what covers did not pay out.
        uint256 held = lotValue + (uint256(lot.covered) - lot.coversPaid) * lotValue;
        if (lot.status == ILottery.Status.Open || lot.status == ILottery.Status.Closed) {
            return held + lotValue - (uint256(lot.withdrawn) + lot.robbedWithdrawn) * share;
        }
        if (lot.status == ILottery.Status.Revealed) return held + lotValue;
        if (lot.status == ILottery.Status.Redeemed) return held;
        if (lot.status != ILottery.Status.Finished || lot.revealed || lot.registered == 0) return 0;
        return (uint256(lot.registered) - lot.withdrawn + lot.robbed - lot.robbedWithdrawn) * share;
    }

    /// No covered payee is ever paid more from its cover than one lot value, and the covers never pay more than
    /// they hold.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 80
    function invariantCoversPayAtMostTheirLotValue() public view {
        (,,, uint256 nl) = handler.counts();
        for (uint256 i = 0; i < nl; i++) {
            ILottery.Lot memory lot = handler.lottery().getLot(handler.lotIds(i));
            uint256 lotValue = uint256(lot.lotSize) * lot.ticketValue;
            vm.assertLe(lot.coversPaid, lot.covered, "more covers paid than funded");
            uint256 share = lot.registered == 0 ? 0 : lotValue / lot.registered;
            if (lot.status == ILottery.Status.Closed) {
                vm.assertLe(uint256(lot.robbed) * share, uint256(lot.covered) * lotValue, "robbed shares above covers");
            }
        }
    }

    /// Each Merkle channel's funds are exactly its payees' allocations left.
    /// forge-config: default.invariant.runs = 32
    /// forge-config: default.invariant.depth = 80
    function invariantMerkleFundsAreTheAllocationsLeft() public view {
        (, , uint256 nm,) = handler.counts();
        for (uint256 i = 0; i < nm; i++) {
            bytes32 id = handler.merkleIds(i);
            IMerkleChannel.Channel memory c = handler.merkle().getChannel(id);
            if (block.timestamp >= c.expiresAt) continue;
            (address a, address b) = handler.merklePayeesOf(id);
            uint256 sum = handler.merkle().allocationOf(id, a) + (a == b ? 0 : handler.merkle().allocationOf(id, b));
            vm.assertEq(sum, c.remaining, "allocations");
        }
    }
}
