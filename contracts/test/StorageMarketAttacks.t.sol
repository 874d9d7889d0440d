// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {StorageMarket} from "../StorageMarket.sol";
import {IStorageMarket} from "../interfaces/IStorageMarket.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {ShardMerkle} from "./utils/ShardMerkle.sol";
import {HookToken, ITokenReceiver} from "./utils/HookToken.sol";

/// @dev A client contract that, when paid, tries to call back into the market (a second refund, a second payout).
contract ReenteringClient is ITokenReceiver {
    StorageMarket public immutable market;
    bytes public reentryCall;
    bool public attempted;
    bytes public reentryError;

    constructor(StorageMarket market_) {
        market = market_;
        IERC20(address(market_.token())).approve(address(market_), type(uint256).max);
        HookToken(address(market_.token())).registerHook();
    }

    function propose(IStorageMarket.DealTerms calldata terms) external returns (uint256) {
        IStorageMarket.PermitSignature memory none;
        return market.proposeDeal(terms, none);
    }

    function call(bytes calldata data) external {
        (bool ok, bytes memory ret) = address(market).call(data);
        if (!ok) {
            assembly {
                revert(add(ret, 32), mload(ret))
            }
        }
    }

    function arm(bytes calldata data) external {
        reentryCall = data;
    }

    function tokensReceived(address, uint256) external {
        if (reentryCall.length == 0 || attempted) return;
        attempted = true;
        (bool ok, bytes memory ret) = address(market).call(reentryCall);
        if (!ok) reentryError = ret;
    }
}

/// @dev The attacks the issue lists, each a test that the market refuses.
contract StorageMarketAttacksTest is MarketFixture {
    bytes32 private constant SEED = keccak256("attack seed");
    uint256 private constant SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;

    // ------------------------------------------------------------------ σ replay

    function testSigmaFromAnotherChainIdIsRefused() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        uint256 chainId = block.chainid;
        vm.chainId(chainId + 1);
        bytes32 otherChainDigest = market.receiptDigest(dealId);
        bytes memory otherChainSigma = _sign(hostKey, otherChainDigest);
        vm.chainId(chainId);
        vm.assertNotEq(uint256(otherChainDigest), uint256(market.receiptDigest(dealId)));
        vm.assertFalse(market.isValidReceipt(dealId, otherChainSigma));
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidReceiptSignature.selector, dealId));
        market.acceptDeal(dealId, otherChainSigma);
    }

    function testSigmaFromAnotherContractIsRefused() public {
        StorageMarket other = new StorageMarket(IERC20(address(token)), governance, treasury, defaultParameters());
        vm.prank(host);
        token.approve(address(other), type(uint256).max);
        vm.prank(client);
        token.approve(address(other), type(uint256).max);
        vm.prank(host);
        other.registerHost(peerId, 1 << 40, PRICE_PER_GIB_EPOCH, true, MIN_STAKE, noPermit());
        vm.prank(client);
        uint256 otherId = other.proposeDeal(defaultTerms(), noPermit());
        bytes memory otherSigma = _sign(hostKey, other.receiptDigest(otherId));

        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        vm.assertEq(dealId, otherId); // same id, same terms, same chain: only the contract differs
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidReceiptSignature.selector, dealId));
        market.acceptDeal(dealId, otherSigma);
    }

    function testSigmaFromAnotherDealIsRefused() public {
        _register(host, MIN_STAKE, true);
        uint256 first = _propose(defaultTerms());
        uint256 second = _propose(defaultTerms()); // identical terms
        bytes memory firstSigma = _sigma(first);
        market.acceptDeal(first, firstSigma);
        vm.assertFalse(market.isValidReceipt(second, firstSigma));
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidReceiptSignature.selector, second));
        market.acceptDeal(second, firstSigma);
    }

    // ------------------------------------------------------------------ signature encodings

    function testHighSSignatureIsRefused() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        bytes32 digest = market.receiptDigest(dealId);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(hostKey, digest);
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        uint8 flippedV = v == 27 ? 28 : 27;
        // The malleated signature is valid for ecrecover: only the low-s rule stops it.
        vm.assertEq(ecrecover(digest, flippedV, r, highS), host);
        bytes memory malleated = abi.encodePacked(r, highS, flippedV);
        vm.assertFalse(market.isValidReceipt(dealId, malleated));
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidReceiptSignature.selector, dealId));
        market.acceptDeal(dealId, malleated);
    }

    function testCompactEip2098SignatureIsRefused() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        (bytes32 r, bytes32 vs) = vm.signCompact(hostKey, market.receiptDigest(dealId));
        bytes memory compact = abi.encodePacked(r, vs);
        vm.assertFalse(market.isValidReceipt(dealId, compact));
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidSignatureLength.selector, 64));
        market.acceptDeal(dealId, compact);
    }

    // ------------------------------------------------------------------ changed terms

    function testSigmaOverChangedTermsIsRefused() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        for (uint256 field = 0; field < 8; field++) {
            IStorageMarket.DealTerms memory t = defaultTerms();
            address signedClient = client;
            if (field == 0) t.host = stranger;
            if (field == 1) t.manifestCid = hex"0171122000";
            if (field == 2) t.shardIndex = 4;
            if (field == 3) t.shardSizeBytes = uint64(SHARD_SIZE + 1);
            if (field == 4) t.shardRoot = keccak256("other root");
            if (field == 5) t.durationSeconds = uint64(DURATION - 1);
            if (field == 6) t.price = PRICE - 1;
            if (field == 7) signedClient = stranger;
            bytes memory sigma = _sign(hostKey, market.hashReceipt(dealId, signedClient, t));
            vm.expectRevert(
                abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidReceiptSignature.selector, dealId)
            );
            market.acceptDeal(dealId, sigma);
        }
        // The unchanged terms are accepted.
        market.acceptDeal(dealId, _sign(hostKey, market.hashReceipt(dealId, client, defaultTerms())));
    }

    // ------------------------------------------------------------------ audit answers

    function testWrongLeafOrProofIsRefused() public {
        uint256 dealId = _activeDeal();
        _challenge(dealId, client, SEED);
        uint256 index = market.auditLeafIndex(dealId);
        uint256 other = (index + 1) % 5;
        bytes32[] memory proof = ShardMerkle.proof(shardLeaves, index);
        vm.startPrank(host);

        // Another leaf of the same shard, with its own valid proof.
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidProof.selector, dealId, index));
        market.answerAudit(dealId, shardChunks[other], ShardMerkle.proof(shardLeaves, other));

        // The right chunk with a corrupted sibling.
        bytes32[] memory corrupted = ShardMerkle.proof(shardLeaves, index);
        corrupted[0] = bytes32(uint256(corrupted[0]) ^ 1);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidProof.selector, dealId, index));
        market.answerAudit(dealId, shardChunks[index], corrupted);

        // The right chunk with a truncated proof.
        bytes32[] memory truncated = new bytes32[](proof.length - 1);
        for (uint256 i = 0; i < truncated.length; i++) {
            truncated[i] = proof[i];
        }
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidProof.selector, dealId, index));
        market.answerAudit(dealId, shardChunks[index], truncated);

        // An inner node's preimage (two child hashes) instead of a chunk.
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidLeafSize.selector, 64));
        market.answerAudit(dealId, abi.encodePacked(shardLeaves[0], shardLeaves[1]), proof);

        // A chunk that is all zeros except for its length.
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidProof.selector, dealId, index));
        market.answerAudit(dealId, new bytes(256), proof);
        vm.stopPrank();

        vm.assertEq(market.auditInfo(dealId).challenger, client);
        vm.assertEq(market.reputation(host).auditsPassed, 0);
    }

    function testChallengerCannotChooseTheLeaf() public {
        uint256 dealId = _activeDeal();
        // challenge() takes no leaf; at challenge time the leaf does not exist yet.
        vm.prank(client);
        market.challenge(dealId);
        uint256 seedBlock = market.auditInfo(dealId).seedBlock;
        vm.assertEq(seedBlock, block.number + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedNotReady.selector, dealId, seedBlock)
        );
        market.auditLeafIndex(dealId);
        // Nor can the challenger re-roll by challenging again while the audit is open.
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketAuditOpen.selector, dealId));
        vm.prank(client);
        market.challenge(dealId);

        // The leaf follows only the seed block's hash, which is produced after the challenge.
        vm.roll(seedBlock + 1);
        bool[5] memory drawn;
        uint256 distinct = 0;
        for (uint256 i = 0; i < 16; i++) {
            bytes32 h = keccak256(abi.encode("block", i));
            vm.setBlockhash(seedBlock, h);
            uint256 index = market.auditLeafIndex(dealId);
            vm.assertEq(index, uint256(keccak256(abi.encode(h, dealId))) % 5);
            if (!drawn[index]) distinct++;
            drawn[index] = true;
        }
        vm.assertGt(distinct, 1);
    }

    function testHostThatAnsweredCannotBeSlashed() public {
        uint256 dealId = _activeDeal();
        _challenge(dealId, stranger, SEED);
        uint256 deadline = market.auditInfo(dealId).deadline;
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketAuditWindowOpen.selector, dealId, deadline));
        vm.prank(stranger);
        market.finalizeMissedAudit(dealId);

        _answer(dealId);
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketNoOpenAudit.selector, dealId));
        vm.prank(stranger);
        market.finalizeMissedAudit(dealId);
        vm.assertEq(market.hostInfo(host).stake, MIN_STAKE);
        vm.assertEq(market.reputation(host).timesSlashed, 0);
    }

    function testStakeBackingADealCannotBeWithdrawn() public {
        _register(host, 2 * MIN_STAKE, true);
        vm.prank(host);
        market.beginUnbonding(MIN_STAKE);
        uint256 dealId = _propose(defaultTerms());
        market.acceptDeal(dealId, _sigma(dealId));

        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketHostHasActiveDeals.selector, host, 1));
        vm.prank(host);
        market.beginUnbonding(MIN_STAKE);
        vm.warp(block.timestamp + UNBONDING_DELAY);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketHostHasActiveDeals.selector, host, 1));
        vm.prank(host);
        market.withdrawStake();

        // Once the deal is settled the stake is free again.
        vm.warp(block.timestamp + DURATION);
        market.completeDeal(dealId);
        vm.prank(host);
        market.withdrawStake();
        vm.assertEq(market.hostInfo(host).unbonding, 0);
    }

    // ------------------------------------------------------------------ re-entrancy

    function testReentrantDoubleRefundIsRefused() public {
        (StorageMarket hooked, HookToken hook, ReenteringClient attacker) = _hookedMarket();
        uint256 dealId = attacker.propose(_hookedTerms());
        attacker.arm(abi.encodeCall(IStorageMarket.cancelProposal, (dealId)));
        attacker.call(abi.encodeCall(IStorageMarket.cancelProposal, (dealId)));

        vm.assertTrue(attacker.attempted());
        vm.assertEq(attacker.reentryError(), abi.encodeWithSelector(_reentrantCallSelector()));
        vm.assertEq(hook.balanceOf(address(attacker)), 1_000 ether); // refunded once
        vm.assertEq(hook.balanceOf(address(hooked)), MIN_STAKE); // only the host's stake is left
    }

    function testReentrantPayoutDuringEndIsRefused() public {
        (StorageMarket hooked, HookToken hook, ReenteringClient attacker) = _hookedMarket();
        uint256 dealId = attacker.propose(_hookedTerms());
        hooked.acceptDeal(dealId, _sign(hostKey, hooked.receiptDigest(dealId)));
        vm.warp(block.timestamp + DURATION / 2);
        // While its refund is being paid, the client tries to settle the deal again.
        attacker.arm(abi.encodeCall(IStorageMarket.completeDeal, (dealId)));
        attacker.call(abi.encodeCall(IStorageMarket.endDeal, (dealId)));

        vm.assertTrue(attacker.attempted());
        vm.assertEq(attacker.reentryError(), abi.encodeWithSelector(_reentrantCallSelector()));
        vm.assertEq(hook.balanceOf(address(attacker)), 1_000 ether - PRICE / 2);
        vm.assertEq(hook.balanceOf(host), 1_000 ether - MIN_STAKE + PRICE / 2 - PRICE / 2 * FEE_BPS / 10_000);
        vm.assertEq(hook.balanceOf(address(hooked)), MIN_STAKE);
    }

    function _hookedMarket() private returns (StorageMarket hooked, HookToken hook, ReenteringClient attacker) {
        hook = new HookToken();
        hooked = new StorageMarket(IERC20(address(hook)), governance, treasury, defaultParameters());
        attacker = new ReenteringClient(hooked);
        hook.mint(address(attacker), 1_000 ether);
        hook.mint(host, 1_000 ether);
        vm.prank(host);
        hook.approve(address(hooked), type(uint256).max);
        vm.prank(host);
        hooked.registerHost(peerId, 1 << 40, PRICE_PER_GIB_EPOCH, true, MIN_STAKE, noPermit());
    }

    function _hookedTerms() private view returns (IStorageMarket.DealTerms memory) {
        return defaultTerms();
    }

    function _reentrantCallSelector() private pure returns (bytes4) {
        return ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector;
    }
}
