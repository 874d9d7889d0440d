// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
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
        IStorageMarket.DealTerms[] memory all = new IStorageMarket.DealTerms[](1);
        all[0] = terms;
        return market.proposeDeals(all, none);
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
        _expectInvalidSigma(dealId, otherChainSigma);
        _accept(dealId, otherChainSigma);
    }

    function testSigmaFromAnotherContractIsRefused() public {
        StorageMarket other = new StorageMarket(IERC20(address(token)), operators, governance, treasury, defaultParameters());
        vm.prank(host);
        token.approve(address(other), type(uint256).max);
        vm.prank(client);
        token.approve(address(other), type(uint256).max);
        vm.prank(host);
        other.registerHost(peerId, 1 << 40, PRICE_PER_GIB_MONTH, true, MIN_STAKE, noPermit());
        vm.prank(client);
        uint256 otherId = other.proposeDeals(_one(defaultTerms()), noPermit());
        bytes memory otherSigma = _sign(hostKey, other.receiptDigest(otherId));

        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        vm.assertEq(dealId, otherId); // same id, same terms, same chain: only the contract differs
        _expectInvalidSigma(dealId, otherSigma);
        _accept(dealId, otherSigma);
    }

    function testSigmaFromAnotherDealIsRefused() public {
        _register(host, MIN_STAKE, true);
        uint256 first = _propose(defaultTerms());
        uint256 second = _propose(defaultTerms()); // identical terms
        bytes memory firstSigma = _sigma(first);
        _accept(first, firstSigma);
        vm.assertFalse(market.isValidReceipt(second, firstSigma));
        _expectInvalidSigma(second, firstSigma);
        _accept(second, firstSigma);
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
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS));
        _accept(dealId, malleated);
    }

    function testCompactEip2098SignatureIsRefused() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        (bytes32 r, bytes32 vs) = vm.signCompact(hostKey, market.receiptDigest(dealId));
        bytes memory compact = abi.encodePacked(r, vs);
        vm.assertFalse(market.isValidReceipt(dealId, compact));
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidSignatureLength.selector, 64));
        _accept(dealId, compact);
    }

    // ------------------------------------------------------------------ changed terms

    function testSigmaOverChangedTermsIsRefused() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        for (uint256 field = 0; field < 9; field++) {
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
            if (field == 8) t.acceptBy = uint64(block.timestamp + 365 days);
            bytes memory sigma = _sign(hostKey, market.hashReceipt(dealId, signedClient, t));
            _expectInvalidSigma(dealId, sigma);
            _accept(dealId, sigma);
        }
        // The unchanged terms are accepted.
        _accept(dealId, _sign(hostKey, market.hashReceipt(dealId, client, defaultTerms())));
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
        market.challenge(_ids(dealId), client);
        uint256 seedBlock = market.auditInfo(dealId).seedBlock;
        vm.assertEq(seedBlock, block.number + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedNotReady.selector, dealId, seedBlock)
        );
        market.auditLeafIndex(dealId);
        // Nor can the challenger re-roll by challenging again while the audit is open.
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketAuditOpen.selector, dealId));
        vm.prank(client);
        market.challenge(_ids(dealId), client);

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

    function testCollateralBackingADealCannotBeUnbonded() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        _accept(dealId, _sigma(dealId));
        uint256 collateral = PRICE * COLLATERAL_BPS / 10_000;
        vm.assertEq(market.hostInfo(host).lockedCollateral, collateral);

        vm.expectRevert(
            abi.encodeWithSelector(
                IStorageMarket.StorageMarketInsufficientFreeStake.selector, host, MIN_STAKE - collateral, MIN_STAKE
            )
        );
        vm.prank(host);
        market.beginUnbonding(MIN_STAKE);
        // The free part may leave while the deal runs.
        vm.prank(host);
        market.beginUnbonding(MIN_STAKE - collateral);
        vm.assertEq(market.hostInfo(host).stake, collateral);

        // Once the deal is settled its collateral is free again.
        vm.warp(block.timestamp + DURATION);
        market.completeDeal(dealId);
        vm.assertEq(market.hostInfo(host).lockedCollateral, 0);
        vm.prank(host);
        market.beginUnbonding(collateral);
        vm.assertEq(market.hostInfo(host).stake, 0);
    }

    // ------------------------------------------------------------------ audit seeds (nobody re-rolls a draw)

    function testHostCannotRerollItsAuditLeafByLettingTheSeedAgeOut() public {
        uint256 dealId = _activeDeal();
        _challengeUnfixed(dealId, client, SEED);
        uint256 seedBlock = market.auditInfo(dealId).seedBlock;
        uint256 drawn = market.auditLeafIndex(dealId);
        // The host dislikes the draw and waits for the seed block's hash to be forgotten.
        vm.setBlockhash(seedBlock, 0);
        vm.roll(seedBlock + 300);
        vm.startPrank(host);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedExpired.selector, dealId, seedBlock)
        );
        market.fixAuditSeeds(_ids(dealId));
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedExpired.selector, dealId, seedBlock)
        );
        market.answerAudit(dealId, shardChunks[(drawn + 1) % 5], ShardMerkle.proof(shardLeaves, (drawn + 1) % 5));
        vm.stopPrank();
        // No call draws a new seed block: the audit keeps the one it had until it lapses.
        vm.assertEq(market.auditInfo(dealId).seedBlock, seedBlock);
        vm.assertEq(market.auditInfo(dealId).seed, bytes32(0));
        vm.prank(host);
        market.lapseChallenge(dealId);
        vm.assertEq(market.auditInfo(dealId).challenger, address(0));
        vm.assertEq(market.reputation(host).auditsPassed, 0);
    }

    function testOfflineHostIsNotSlashedForASeedNobodyFixed() public {
        uint256 dealId = _activeDeal();
        uint256 hostBefore = token.balanceOf(host);
        uint256 clientBefore = token.balanceOf(client);
        _challengeUnfixed(dealId, client, SEED);
        uint256 seedBlock = market.auditInfo(dealId).seedBlock;
        // The challenger never fixes the seed; the host is offline far longer than the audit window.
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedStillReadable.selector, dealId, seedBlock)
        );
        market.lapseChallenge(dealId);
        vm.warp(block.timestamp + 10 * AUDIT_WINDOW);
        vm.setBlockhash(seedBlock, 0);
        vm.roll(seedBlock + 257);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedNotFixed.selector, dealId));
        vm.prank(client);
        market.finalizeMissedAudit(dealId);

        vm.expectEmit(address(market));
        emit IStorageMarket.ChallengeLapsed(dealId, CHALLENGE_BOND);
        vm.prank(stranger);
        market.lapseChallenge(dealId);
        vm.assertEq(token.balanceOf(host), hostBefore + CHALLENGE_BOND);
        vm.assertEq(token.balanceOf(client), clientBefore - CHALLENGE_BOND);
        vm.assertEq(market.hostInfo(host).stake, MIN_STAKE);
        vm.assertEq(market.reputation(host).auditsFailed, 0);
        vm.assertEq(uint256(market.dealInfo(dealId).status), uint256(IStorageMarket.DealStatus.Active));
    }

    function testAnswerWindowRunsFromTheFixedSeedNotFromTheChallenge() public {
        uint256 dealId = _activeDeal();
        _challengeUnfixed(dealId, client, SEED);
        // The host was offline; the challenger fixes the seed only later (within the block-hash history).
        vm.warp(block.timestamp + 5 * AUDIT_WINDOW);
        vm.prank(client);
        market.fixAuditSeeds(_ids(dealId));
        uint256 deadline = market.auditInfo(dealId).deadline;
        vm.assertEq(deadline, block.timestamp + AUDIT_WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedAlreadyFixed.selector, dealId));
        market.fixAuditSeeds(_ids(dealId));
        vm.warp(deadline);
        _answer(dealId);
        vm.assertEq(market.reputation(host).auditsPassed, 1);
    }

    // ------------------------------------------------------------------ an open audit never traps the client

    function testHostCannotKeepAnAuditOpenToStopTheClientEndingTheDeal() public {
        uint256 dealId = _activeDeal();
        _fund(host, 0);
        uint256 clientBefore = token.balanceOf(client);
        // The host challenges its own deal again each time it answers, so an audit is always open.
        _challenge(dealId, host, SEED);
        vm.warp(block.timestamp + AUDIT_WINDOW);
        _answer(dealId);
        _challenge(dealId, host, keccak256("second"));
        vm.warp(block.timestamp + AUDIT_WINDOW / 2);
        uint256 hostBefore = token.balanceOf(host);

        vm.prank(client);
        market.endDeals(_ids(dealId));
        IStorageMarket.DealInfo memory d = market.dealInfo(dealId);
        vm.assertEq(uint256(d.status), uint256(IStorageMarket.DealStatus.Ended));
        // The deal ended as if no audit were open: pro-rata up to now; the audit's bond went back to the host that
        // put it up.
        uint256 earned = PRICE * (block.timestamp - d.startedAt) / DURATION;
        vm.assertEq(d.claimed, earned);
        vm.assertEq(token.balanceOf(client), clientBefore + PRICE - earned);
        vm.assertEq(token.balanceOf(host), hostBefore + CHALLENGE_BOND + earned - earned * FEE_BPS / 10_000);
        vm.assertEq(market.auditInfo(dealId).challenger, address(0));
        vm.assertEq(market.hostInfo(host).lockedCollateral, 0);
    }

    function testClientCannotSkipPayingByChallengingJustBeforeItLeaves() public {
        uint256 dealId = _activeDeal();
        uint256 start = block.timestamp;
        vm.warp(start + 9 days);
        uint256 clientBefore = token.balanceOf(client);
        uint256 hostBefore = token.balanceOf(host);
        // The client challenges and leaves before the seed block exists, so the host cannot answer.
        vm.prank(client);
        market.challenge(_ids(dealId), client);
        vm.prank(client);
        market.endDeals(_ids(dealId));
        // The host is paid for the nine days it stored, as without the audit; the client's bond comes back.
        uint256 earned = PRICE * 9 days / DURATION;
        vm.assertEq(market.dealInfo(dealId).claimed, earned);
        vm.assertEq(token.balanceOf(host), hostBefore + earned - earned * FEE_BPS / 10_000);
        vm.assertEq(token.balanceOf(client), clientBefore + PRICE - earned);
    }

    function testEndingADealWhoseAuditWasMissedPaysOnlyWhatWasProven() public {
        uint256 dealId = _activeDeal();
        uint256 strangerBefore = token.balanceOf(stranger);
        uint256 clientBefore = token.balanceOf(client);
        _challenge(dealId, stranger, SEED);
        vm.warp(market.auditInfo(dealId).deadline + 1);
        vm.prank(client);
        market.endDeals(_ids(dealId));
        // Nothing proven: the whole escrow comes back; the stranger's bond too.
        vm.assertEq(token.balanceOf(stranger), strangerBefore);
        vm.assertEq(token.balanceOf(client), clientBefore + PRICE);
        vm.assertEq(market.dealInfo(dealId).claimed, 0);
    }

    // ------------------------------------------------------------------ a deal keeps its parameters

    function testGovernanceCannotRaiseTheCollateralOrShortenTheWindowOfARunningDeal() public {
        uint256 dealId = _activeDeal();
        uint256 collateral = PRICE * COLLATERAL_BPS / 10_000;
        IStorageMarket.Parameters memory harsher = defaultParameters();
        harsher.collateralBps = 50_000;
        harsher.auditWindowSeconds = 30;
        harsher.protocolFeeBps = 2_000;
        harsher.challengeBond = 50 ether;
        vm.prank(governance);
        market.setParameters(harsher);

        uint256 strangerBefore = token.balanceOf(stranger);
        _challenge(dealId, stranger, SEED);
        vm.assertEq(token.balanceOf(stranger), strangerBefore - CHALLENGE_BOND);
        vm.assertEq(market.auditInfo(dealId).deadline, block.timestamp + AUDIT_WINDOW);
        vm.warp(block.timestamp + 31);
        _answer(dealId); // still inside the window the deal was accepted with
        vm.assertEq(market.hostInfo(host).lockedCollateral, collateral);

        _challenge(dealId, stranger, keccak256("again"));
        vm.warp(market.auditInfo(dealId).deadline + 1);
        uint256 clientBefore = token.balanceOf(client);
        uint256 provenUntil = market.dealInfo(dealId).provenUntil;
        uint256 startedAt = market.dealInfo(dealId).startedAt;
        market.finalizeMissedAudit(dealId);
        uint256 earned = PRICE * (provenUntil - startedAt) / DURATION;
        // The client gets the collateral the deal was accepted with, not five times its price.
        vm.assertEq(token.balanceOf(client), clientBefore + collateral + PRICE - earned);
        vm.assertEq(market.hostInfo(host).stake, MIN_STAKE - collateral);
        vm.assertEq(market.dealInfo(dealId).protocolFeeBps, FEE_BPS);
    }

    // ------------------------------------------------------------------ challenges cost the challenger

    function testStrangersChallengesPayForTheHostsAnswers() public {
        uint256 dealId = _activeDeal();
        uint256 strangerBefore = token.balanceOf(stranger);
        uint256 hostBefore = token.balanceOf(host);
        for (uint256 i = 0; i < 5; i++) {
            _challenge(dealId, stranger, keccak256(abi.encode("spam", i)));
            _answer(dealId);
        }
        vm.assertEq(token.balanceOf(stranger), strangerBefore - 5 * CHALLENGE_BOND);
        vm.assertEq(token.balanceOf(host), hostBefore + 5 * CHALLENGE_BOND);
        vm.assertEq(market.reputation(host).auditsPassed, 5);
    }

    function testChallengeWithoutTheBondIsRefused() public {
        uint256 dealId = _activeDeal();
        address broke = address(0xB40E);
        vm.prank(broke);
        vm.expectRevert();
        market.challenge(_ids(dealId), broke);
        vm.assertEq(market.auditInfo(dealId).challenger, address(0));

        IStorageMarket.Parameters memory free = defaultParameters();
        free.challengeBond = 0;
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidChallengeBond.selector, 0));
        vm.prank(governance);
        market.setParameters(free);
    }

    function testNobodyChallengesOnAnotherAccountsBond() public {
        uint256 dealId = _activeDeal();
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketNotOperator.selector, client, stranger, uint8(2))
        );
        vm.prank(stranger);
        market.challenge(_ids(dealId), client);
    }

    // ------------------------------------------------------------------ a permit keeps the audit budget

    function testAnUploadsPermitKeepsTheClientsAuditBudget() public {
        _register(host, MIN_STAKE, true);
        address operator = address(0x0BE7);
        vm.prank(client);
        operators.setOperator(operator, 2, uint40(block.timestamp + 30 days));
        vm.prank(client);
        token.approve(address(market), 0); // from here only the upload's permit funds the market
        uint256 budget = 3 * CHALLENGE_BOND;
        uint256 clientBefore = token.balanceOf(client);

        IStorageMarket.PermitSignature memory p = _permit(clientKey, PRICE + budget, block.timestamp + 1);
        vm.prank(client);
        uint256 dealId = market.proposeDeals(_one(defaultTerms()), p);
        vm.assertEq(token.allowance(client, address(market)), budget);
        vm.assertEq(token.balanceOf(client), clientBefore - PRICE);

        // The client's tab challenges with its operator key, no wallet prompt: the bond comes out of the budget.
        _accept(dealId, _sigma(dealId));
        vm.prank(operator);
        market.challenge(_ids(dealId), client);
        vm.assertEq(market.auditInfo(dealId).challenger, client);
        vm.assertEq(token.allowance(client, address(market)), budget - CHALLENGE_BOND);
        vm.assertEq(token.balanceOf(client), clientBefore - PRICE - CHALLENGE_BOND);
    }

    function testAPermitBelowTheAmountPulledIsRefused() public {
        // Each caller's standing allowance would cover the amount: a short permit is refused all the same.
        _register(host, MIN_STAKE, true);
        uint256 deadline = block.timestamp + 1;
        IStorageMarket.PermitSignature memory p = _permit(clientKey, PRICE - 1, deadline);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketPermitTooSmall.selector, PRICE - 1, PRICE));
        vm.prank(client);
        market.proposeDeals(_one(defaultTerms()), p);

        p = _permit(hostKey, 1 ether - 1, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketPermitTooSmall.selector, 1 ether - 1, 1 ether)
        );
        vm.prank(host);
        market.addStake(1 ether, p);

        address fresh = vm.addr(0xF00D);
        _fund(fresh, MIN_STAKE);
        p = _permit(0xF00D, MIN_STAKE - 1, deadline);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketPermitTooSmall.selector, MIN_STAKE - 1, MIN_STAKE)
        );
        vm.prank(fresh);
        market.registerHost(peerId, 1 << 40, PRICE_PER_GIB_MONTH, true, MIN_STAKE, p);

        vm.assertEq(token.balanceOf(address(market)), MIN_STAKE); // the first host's stake, nothing more
        vm.assertEq(market.nextDealId(), 1);
    }

    function testAFrontRunPermitLeavesTheSameAllowance() public {
        _register(host, MIN_STAKE, true);
        vm.prank(client);
        token.approve(address(market), 0);
        uint256 budget = 3 * CHALLENGE_BOND;
        IStorageMarket.PermitSignature memory p = _permit(clientKey, PRICE + budget, block.timestamp + 1);

        uint256 snapshot = vm.snapshotState();
        vm.prank(client);
        market.proposeDeals(_one(defaultTerms()), p);
        uint256 applied = token.allowance(client, address(market));
        vm.assertEq(applied, budget);
        vm.revertToState(snapshot);

        // A stranger copies the permit from the mempool and submits it first: the market's own permit call then
        // fails, and the pull falls back to the allowance the stranger's call set.
        vm.prank(stranger);
        token.permit(client, address(market), p.value, p.deadline, p.v, p.r, p.s);
        vm.prank(client);
        uint256 dealId = market.proposeDeals(_one(defaultTerms()), p);
        vm.assertEq(market.dealInfo(dealId).client, client);
        vm.assertEq(token.allowance(client, address(market)), applied);
    }

    // ------------------------------------------------------------------ σ expires

    function testSigmaCannotActivateAProposalAfterItsDeadline() public {
        _register(host, MIN_STAKE, true);
        IStorageMarket.DealTerms memory terms = defaultTerms();
        uint256 dealId = _propose(terms);
        bytes memory sigma = _sigma(dealId);
        // A year later the client tries to activate the old proposal with the old σ.
        vm.warp(block.timestamp + 365 days);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketReceiptExpired.selector, dealId, terms.acceptBy)
        );
        _accept(dealId, sigma);
        // The proposal can still be cancelled for a full refund.
        uint256 clientBefore = token.balanceOf(client);
        vm.prank(client);
        market.cancelProposals(_ids(dealId));
        vm.assertEq(token.balanceOf(client), clientBefore + PRICE);

        terms.acceptBy = uint64(block.timestamp - 1);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStorageMarket.StorageMarketAcceptByPassed.selector, block.timestamp - 1, block.timestamp
            )
        );
        _propose(terms);
    }

    function testAClientCannotKeepAReceiptUsableForMonths() public {
        _register(host, MIN_STAKE, true);
        IStorageMarket.DealTerms memory terms = defaultTerms();
        uint256 latest = block.timestamp + market.MAX_ACCEPT_DELAY_SECONDS();
        terms.acceptBy = uint64(latest + 1);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketAcceptByTooLate.selector, latest + 1, latest));
        _propose(terms);
        // Beyond what the market stores, too: a named error, not an overflow.
        terms.acceptBy = type(uint64).max;
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketAcceptByTooLate.selector, type(uint64).max, latest)
        );
        _propose(terms);

        terms.acceptBy = uint64(latest);
        uint256 dealId = _propose(terms);
        vm.warp(latest);
        _accept(dealId, _sigma(dealId));
        vm.assertEq(uint8(market.dealInfo(dealId).status), uint8(IStorageMarket.DealStatus.Active));
    }

    // ------------------------------------------------------------------ collateral in proportion to the deal

    function testATinyDealCannotWinMoreThanItsCollateral() public {
        _register(host, 10 * MIN_STAKE, true);
        IStorageMarket.DealTerms memory terms = defaultTerms();
        uint256 price = market.quote(host, SHARD_SIZE, DURATION);
        vm.assertLt(price, 1e14); // a hundred-thousandth of a token
        terms.price = price;
        uint256 dealId = _propose(terms);
        _accept(dealId, _sigma(dealId));
        uint256 collateral = price * uint256(COLLATERAL_BPS) / 10_000;
        vm.assertEq(market.dealInfo(dealId).collateral, collateral);

        _challenge(dealId, client, SEED);
        vm.warp(market.auditInfo(dealId).deadline + 1);
        uint256 clientBefore = token.balanceOf(client);
        market.finalizeMissedAudit(dealId);
        // The client gets the escrow back, its bond back and the deal's collateral: not half of a 1,000-token stake.
        vm.assertEq(token.balanceOf(client), clientBefore + price + CHALLENGE_BOND + collateral);
        vm.assertEq(market.hostInfo(host).stake, 10 * MIN_STAKE - collateral);
    }

    function testHostCannotLockMoreCollateralThanItsStake() public {
        _register(host, MIN_STAKE, true);
        IStorageMarket.DealTerms memory terms = defaultTerms();
        terms.price = MIN_STAKE / 2; // collateral = MIN_STAKE
        uint256 first = _propose(terms);
        uint256 second = _propose(terms);
        _accept(first, _sigma(first));
        bytes memory sigma = _sigma(second);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketInsufficientFreeStake.selector, host, 0, MIN_STAKE)
        );
        _accept(second, sigma);
    }

    // ------------------------------------------------------------------ reputation costs something

    function testSelfDealsAndSelfAuditsDoNotInflateReputation() public {
        _register(host, 5 * MIN_STAKE, true);
        IStorageMarket.DealTerms memory terms = defaultTerms();
        vm.prank(host);
        uint256 selfDeal = market.proposeDeals(_one(terms), noPermit());
        _accept(selfDeal, _sigma(selfDeal));
        for (uint256 i = 0; i < 3; i++) {
            _challenge(selfDeal, host, keccak256(abi.encode("self", i)));
            _answer(selfDeal);
        }
        vm.warp(block.timestamp + DURATION);
        market.completeDeal(selfDeal);
        IStorageMarket.Reputation memory r = market.reputation(host);
        vm.assertEq(r.auditsPassed, 0);
        vm.assertEq(r.dealsCompleted, 0);
        vm.assertEq(r.paidVolume, 0);

        // A deal from another client, audited by someone else, counts.
        uint256 paid = _propose(defaultTerms());
        _accept(paid, _sigma(paid));
        _challenge(paid, stranger, SEED);
        _answer(paid);
        vm.warp(block.timestamp + DURATION);
        market.completeDeal(paid);
        r = market.reputation(host);
        vm.assertEq(r.auditsPassed, 1);
        vm.assertEq(r.dealsCompleted, 1);
        vm.assertEq(r.paidVolume, PRICE);
    }

    // ------------------------------------------------------------------ operator keys

    function testOperatorSignsAndAnswersButEveryTokenGoesToTheOwner() public {
        uint256 operatorKey = 0x0BE7;
        address operator = vm.addr(operatorKey);
        vm.prank(host);
        operators.setOperator(operator, 1, uint40(block.timestamp + 30 days));
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        bytes memory sigma = _sign(operatorKey, market.receiptDigest(dealId));
        vm.assertTrue(market.isValidReceipt(dealId, sigma));
        vm.expectEmit(false, false, false, false, address(market));
        emit IStorageMarket.DealAccepted(dealId, host, operator, sigma, 0, 0, 0);
        _accept(dealId, sigma);

        vm.warp(block.timestamp + 1 days);
        _challenge(dealId, stranger, SEED);
        uint256 hostBefore = token.balanceOf(host);
        uint256 leafIndex = market.auditLeafIndex(dealId);
        vm.prank(operator);
        market.answerAudit(dealId, shardChunks[leafIndex], ShardMerkle.proof(shardLeaves, leafIndex));
        vm.prank(operator);
        market.claimEarnings(_ids(dealId));
        vm.assertEq(token.balanceOf(operator), 0);
        uint256 earned = market.dealInfo(dealId).earned;
        vm.assertGt(earned, 0);
        vm.assertEq(token.balanceOf(host), hostBefore + CHALLENGE_BOND + earned - earned * FEE_BPS / 10_000);
    }

    function testRevokedExpiredOrWrongRoleOperatorIsRefused() public {
        uint256 operatorKey = 0x0BE7;
        address operator = vm.addr(operatorKey);
        _register(host, MIN_STAKE, true);
        IStorageMarket.DealTerms memory terms = defaultTerms();
        terms.acceptBy = uint64(block.timestamp + 30 days);
        uint256 dealId = _propose(terms);
        bytes memory sigma = _sign(operatorKey, market.receiptDigest(dealId));
        bytes memory refused =
            abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidReceiptSignature.selector, dealId, operator);

        // Authorized for paying only.
        vm.prank(host);
        operators.setOperator(operator, 4, uint40(block.timestamp + 1 days));
        vm.expectRevert(refused);
        _accept(dealId, sigma);
        // Expired.
        vm.prank(host);
        operators.setOperator(operator, 1, uint40(block.timestamp + 1 days));
        vm.warp(block.timestamp + 1 days);
        vm.assertFalse(market.isValidReceipt(dealId, sigma));
        vm.expectRevert(refused);
        _accept(dealId, sigma);
        // Revoked.
        vm.prank(host);
        operators.setOperator(operator, 1, uint40(block.timestamp + 1 days));
        vm.prank(host);
        operators.setOperator(operator, 0, 0);
        vm.expectRevert(refused);
        _accept(dealId, sigma);

        // An operator of the client cannot answer the host's audits.
        _accept(dealId, _sigma(dealId));
        _challenge(dealId, client, SEED);
        vm.prank(client);
        operators.setOperator(operator, 1, uint40(block.timestamp + 1 days));
        uint256 leafIndex = market.auditLeafIndex(dealId);
        bytes32[] memory proof = ShardMerkle.proof(shardLeaves, leafIndex);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketNotOperator.selector, host, operator, uint8(1))
        );
        vm.prank(operator);
        market.answerAudit(dealId, shardChunks[leafIndex], proof);
    }

    function testClientOperatorChallengesAndEndsOnTheOwnersAccount() public {
        uint256 dealId = _activeDeal();
        address operator = address(0x0BE7);
        vm.prank(client);
        operators.setOperator(operator, 2, uint40(block.timestamp + 30 days));
        uint256 clientBefore = token.balanceOf(client);
        vm.prank(operator);
        market.challenge(_ids(dealId), client);
        vm.assertEq(token.balanceOf(client), clientBefore - CHALLENGE_BOND);
        vm.assertEq(market.auditInfo(dealId).challenger, client);
        vm.roll(block.number + 2);
        vm.warp(block.timestamp + 1 days);
        vm.prank(operator);
        market.endDeals(_ids(dealId));
        vm.assertEq(token.balanceOf(operator), 0);
        // The host is paid for the day it stored; the rest of the price and the bond come back to the owner.
        uint256 earned = PRICE * 1 days / DURATION;
        vm.assertEq(token.balanceOf(client), clientBefore + PRICE - earned);
    }

    // ------------------------------------------------------------------ re-entrancy

    function testReentrantDoubleRefundIsRefused() public {
        (StorageMarket hooked, HookToken hook, ReenteringClient attacker) = _hookedMarket();
        uint256 dealId = attacker.propose(_hookedTerms());
        attacker.arm(abi.encodeCall(IStorageMarket.cancelProposals, (_ids(dealId))));
        attacker.call(abi.encodeCall(IStorageMarket.cancelProposals, (_ids(dealId))));

        vm.assertTrue(attacker.attempted());
        vm.assertEq(attacker.reentryError(), abi.encodeWithSelector(_reentrantCallSelector()));
        vm.assertEq(hook.balanceOf(address(attacker)), 1_000 ether); // refunded once
        vm.assertEq(hook.balanceOf(address(hooked)), MIN_STAKE); // only the host's stake is left
    }

    function testReentrantPayoutDuringEndIsRefused() public {
        (StorageMarket hooked, HookToken hook, ReenteringClient attacker) = _hookedMarket();
        uint256 dealId = attacker.propose(_hookedTerms());
        _acceptOn(hooked, dealId, _sign(hostKey, hooked.receiptDigest(dealId)));
        vm.warp(block.timestamp + DURATION / 2);
        // While its refund is being paid, the client tries to settle the deal again.
        attacker.arm(abi.encodeCall(IStorageMarket.completeDeal, (dealId)));
        attacker.call(abi.encodeCall(IStorageMarket.endDeals, (_ids(dealId))));

        vm.assertTrue(attacker.attempted());
        vm.assertEq(attacker.reentryError(), abi.encodeWithSelector(_reentrantCallSelector()));
        vm.assertEq(hook.balanceOf(address(attacker)), 1_000 ether - PRICE / 2);
        vm.assertEq(hook.balanceOf(host), 1_000 ether - MIN_STAKE + PRICE / 2 - PRICE / 2 * FEE_BPS / 10_000);
        vm.assertEq(hook.balanceOf(address(hooked)), MIN_STAKE);
    }

    /// @dev Expects {acceptDeals} to refuse `sigma` for `dealId`, naming the address it recovers to.
    function _expectInvalidSigma(uint256 dealId, bytes memory sigma) private {
        address signer = ECDSA.recover(market.receiptDigest(dealId), sigma);
        vm.assertNotEq(signer, host);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidReceiptSignature.selector, dealId, signer)
        );
    }

    function _acceptOn(StorageMarket m, uint256 dealId, bytes memory sigma) private {
        bytes[] memory signatures = new bytes[](1);
        signatures[0] = sigma;
        m.acceptDeals(_ids(dealId), signatures);
    }

    function _hookedMarket() private returns (StorageMarket hooked, HookToken hook, ReenteringClient attacker) {
        hook = new HookToken();
        hooked = new StorageMarket(IERC20(address(hook)), operators, governance, treasury, defaultParameters());
        attacker = new ReenteringClient(hooked);
        hook.mint(address(attacker), 1_000 ether);
        hook.mint(host, 1_000 ether);
        vm.prank(host);
        hook.approve(address(hooked), type(uint256).max);
        vm.prank(host);
        hooked.registerHost(peerId, 1 << 40, PRICE_PER_GIB_MONTH, true, MIN_STAKE, noPermit());
    }

    function _hookedTerms() private view returns (IStorageMarket.DealTerms memory) {
        return defaultTerms();
    }

    function _reentrantCallSelector() private pure returns (bytes4) {
        return ReentrancyGuardTransient.ReentrancyGuardReentrantCall.selector;
    }
}
