// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {StorageMarket} from "../StorageMarket.sol";
import {IStorageMarket} from "../interfaces/IStorageMarket.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {ShardMerkle} from "./utils/ShardMerkle.sol";

contract StorageMarketFuzzTest is MarketFixture {
    /// Ending early splits the escrow exactly: host (pro-rata, minus fee) + fee + refund = price.
    function testFuzzEndDealSplitsEscrowExactly(uint256 price, uint256 duration, uint256 elapsed) public {
        duration = bound(duration, 1 hours, 365 days);
        elapsed = bound(elapsed, 0, duration - 1);
        _register(host, MIN_STAKE, true);
        // Collateral is twice the price: the host's stake backs deals up to half of it.
        price = bound(price, market.quote(host, SHARD_SIZE, duration), MIN_STAKE / 2);
        IStorageMarket.DealTerms memory t = defaultTerms();
        t.durationSeconds = uint64(duration);
        t.price = price;
        uint256 dealId = _propose(t);
        _accept(dealId, _sigma(dealId));
        vm.warp(block.timestamp + elapsed);
        vm.prank(client);
        market.endDeals(_ids(dealId));

        uint256 hostGross = price * elapsed / duration;
        uint256 fee = hostGross * FEE_BPS / 10_000;
        vm.assertEq(token.balanceOf(host) - (1_000 ether - MIN_STAKE), hostGross - fee);
        vm.assertEq(token.balanceOf(treasury), fee);
        vm.assertEq(token.balanceOf(client), 1_000 ether - hostGross);
        vm.assertEq(token.balanceOf(address(market)), MIN_STAKE);
    }

    /// The slash is exactly the deal's collateral, whatever the stake behind it: all of it reaches the client,
    /// with the unproven escrow and the challenger's bond back.
    function testFuzzSlashMovesTheDealsCollateralToClient(uint256 stake, uint16 collateralBps, uint256 price) public {
        stake = bound(stake, MIN_STAKE, 900 ether);
        collateralBps = uint16(bound(collateralBps, 1, 50_000));
        IStorageMarket.Parameters memory p = defaultParameters();
        p.collateralBps = collateralBps;
        vm.prank(governance);
        market.setParameters(p);
        _register(host, stake, true);
        price = bound(price, market.quote(host, SHARD_SIZE, DURATION), MIN_STAKE / 5);
        IStorageMarket.DealTerms memory t = defaultTerms();
        t.price = price;
        uint256 dealId = _propose(t);
        _accept(dealId, _sigma(dealId));
        _challenge(dealId, stranger, keccak256("fuzz"));
        vm.warp(block.timestamp + AUDIT_WINDOW + 1);
        vm.prank(stranger);
        market.finalizeMissedAudit(dealId);
        uint256 cut = price * collateralBps / 10_000;
        vm.assertEq(token.balanceOf(client), 1_000 ether + cut);
        vm.assertEq(market.hostInfo(host).stake, stake - cut);
        vm.assertEq(market.hostInfo(host).lockedCollateral, 0);
        vm.assertEq(token.balanceOf(stranger), 1_000 ether);
    }

    /// Shards of any size: the drawn leaf is in range and the convention's proof for it is accepted, while the
    /// neighbouring chunk is refused.
    function testFuzzAuditAnyShardSize(uint256 size, bytes32 seed) public {
        size = bound(size, 1, 24 * 256);
        bytes memory shard = new bytes(size);
        for (uint256 i = 0; i < size; i++) {
            shard[i] = bytes1(uint8(uint256(keccak256(abi.encode(seed, i)))));
        }
        bytes[] memory c = ShardMerkle.chunks(shard, 256);
        bytes32[] memory leaves = ShardMerkle.leafHashes(c);
        _register(host, MIN_STAKE, true);
        IStorageMarket.DealTerms memory t = defaultTerms();
        t.shardSizeBytes = uint64(size);
        t.shardRoot = ShardMerkle.root(leaves);
        uint256 dealId = _propose(t);
        _accept(dealId, _sigma(dealId));
        _challenge(dealId, client, seed);
        uint256 index = market.auditLeafIndex(dealId);
        vm.assertLt(index, c.length);
        vm.assertEq(market.dealInfo(dealId).leafCount, c.length);
        if (c.length > 1) {
            uint256 other = (index + 1) % c.length;
            vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidProof.selector, dealId, index));
            vm.prank(host);
            market.answerAudit(dealId, c[other], ShardMerkle.proof(leaves, other));
        }
        vm.prank(host);
        market.answerAudit(dealId, c[index], ShardMerkle.proof(leaves, index));
        vm.assertEq(market.reputation(host).auditsPassed, 1);
    }

    /// No key but the host's makes a receipt.
    function testFuzzForeignSignerIsRefused(uint256 key) public {
        key = bound(key, 1, 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364140);
        vm.assume(key != hostKey);
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        bytes memory sigma = _sign(key, market.receiptDigest(dealId));
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidReceiptSignature.selector, dealId, vm.addr(key))
        );
        _accept(dealId, sigma);
    }

    /// The quote is the least a proposal may offer.
    function testFuzzQuoteIsTheMinimumPrice(uint256 size, uint256 duration, uint256 pricePerGiBMonth) public {
        size = bound(size, 1, 1 << 36);
        duration = bound(duration, 1, 5 * 365 days);
        pricePerGiBMonth = bound(pricePerGiBMonth, 0, 1 ether);
        vm.prank(host);
        market.registerHost(peerId, type(uint64).max, pricePerGiBMonth, true, MIN_STAKE, noPermit());
        uint256 required = market.quote(host, size, duration);
        vm.assertGe(required * (1 << 30) * 30 days, pricePerGiBMonth * size * duration);
        vm.assume(required <= 800 ether);
        IStorageMarket.DealTerms memory t = defaultTerms();
        t.shardSizeBytes = uint64(size);
        t.durationSeconds = uint64(duration);
        if (required > 0) {
            t.price = required - 1;
            vm.expectRevert(
                abi.encodeWithSelector(IStorageMarket.StorageMarketPriceTooLow.selector, required - 1, required)
            );
            _propose(t);
        }
        t.price = required;
        uint256 dealId = _propose(t);
        vm.assertEq(market.dealInfo(dealId).price, required);
    }

    /// Payment accrues monotonically with proven time and never exceeds the price.
    function testFuzzAccrualIsMonotonic(uint256 firstGap, uint256 secondGap) public {
        firstGap = bound(firstGap, 0, DURATION - 1);
        secondGap = bound(secondGap, 0, DURATION);
        uint256 dealId = _activeDeal();
        uint256 start = block.timestamp;
        vm.warp(start + firstGap);
        _challenge(dealId, client, keccak256("one"));
        vm.warp(block.timestamp + 60);
        _answer(dealId);
        uint256 first = market.dealInfo(dealId).earned;
        uint256 proven = firstGap + 60 > DURATION ? DURATION : firstGap + 60;
        vm.assertEq(first, PRICE * proven / DURATION);
        vm.warp(block.timestamp + secondGap);
        if (block.timestamp >= start + DURATION) return;
        _challenge(dealId, client, keccak256("two"));
        vm.warp(block.timestamp + 60);
        _answer(dealId);
        uint256 second = market.dealInfo(dealId).earned;
        vm.assertGe(second, first);
        vm.assertLe(second, PRICE);
    }

    /// A permit leaves exactly what it grants beyond the escrow as allowance, and one granting less is refused
    /// with both amounts, whatever the standing allowance was.
    function testFuzzPermitLeavesWhatItGrantsBeyondTheEscrow(uint256 value, uint256 standing) public {
        value = bound(value, 0, 10_000 ether);
        standing = bound(standing, 0, type(uint256).max);
        _register(host, MIN_STAKE, true);
        vm.prank(client);
        token.approve(address(market), standing);
        IStorageMarket.PermitSignature memory p = _permit(clientKey, value, block.timestamp + 1);
        if (value < PRICE) {
            vm.expectRevert(
                abi.encodeWithSelector(IStorageMarket.StorageMarketPermitTooSmall.selector, value, PRICE)
            );
        }
        vm.prank(client);
        market.proposeDeals(_one(defaultTerms()), p);
        vm.assertEq(token.allowance(client, address(market)), value < PRICE ? standing : value - PRICE);
    }
}
