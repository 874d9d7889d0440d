// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {BandwidthChannel} from "../BandwidthChannel.sol";
import {IBandwidthChannel} from "../interfaces/IBandwidthChannel.sol";
import {OperatorRegistry} from "../OperatorRegistry.sol";
import {PaymentFunding} from "../libraries/PaymentFunding.sol";
import {Token} from "../Token.sol";
import {Permits} from "./utils/Permits.sol";
import {TestBase} from "./utils/Vm.sol";

/// @dev Every rule of the Tachyon channel, allowed and refused, and the attacks on its signatures.
contract BandwidthChannelTest is TestBase {
    uint256 private constant MB = 1_000_000;
    uint256 private constant PRICE = 1 ether; // per MB
    uint96 private constant DEPOSIT = 100 ether;
    uint96 private constant TOLERANCE = uint96(1 * MB);
    uint64 private constant CONFIRM_WINDOW = 1 hours;
    uint64 private constant CHALLENGE_WINDOW = 1 days;
    uint256 private constant SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;

    Token private token;
    BandwidthChannel private channels;
    uint256 private payerKey = 0xA11CE;
    uint256 private payeeKey = 0xB0B;
    uint256 private proxyKey = 0xF0F;
    uint256 private strangerKey = 0xBAD;
    address private payer;
    address private payee;
    address private proxy;
    address private stranger;

    function setUp() public {
        vm.warp(1_700_000_000);
        payer = vm.addr(payerKey);
        payee = vm.addr(payeeKey);
        proxy = vm.addr(proxyKey);
        stranger = vm.addr(strangerKey);
        token = new Token(address(this), 10_000_000 ether, true);
        channels = new BandwidthChannel(IERC20(address(token)), new OperatorRegistry(), CONFIRM_WINDOW, CHALLENGE_WINDOW);
        address[4] memory people = [payer, payee, proxy, stranger];
        for (uint256 i = 0; i < people.length; i++) {
            token.transfer(people[i], 1_000_000 ether);
            vm.prank(people[i]);
            token.approve(address(channels), type(uint256).max);
        }
    }

    // ---------------------------------------------------------------- helpers

    function _openConfirmed() private returns (uint256 id) {
        vm.prank(payer);
        id = channels.open(payee, payer, DEPOSIT, uint96(PRICE), TOLERANCE);
        vm.prank(payee);
        channels.confirm(id, payee);
    }

    function _unit(uint256 id, uint64 seq, uint256 totalBytes) private view returns (IBandwidthChannel.Usage memory) {
        return IBandwidthChannel.Usage(id, seq, uint128(totalBytes), uint64(block.timestamp), bytes32(0));
    }

    function _sign(uint256 key, IBandwidthChannel.Usage memory u) private view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, channels.usageDigest(u));
        return abi.encodePacked(r, s, v);
    }

    function _close(uint256 id, address by, IBandwidthChannel.Usage memory u) private {
        bytes memory a = _sign(payerKey, u);
        bytes memory b = _sign(payeeKey, u);
        vm.prank(by);
        channels.close(id, u, a, b);
    }

    function _empty(uint256 id) private pure returns (IBandwidthChannel.Usage memory) {
        return IBandwidthChannel.Usage(id, 0, 0, 0, bytes32(0));
    }

    function _settle(uint256 id) private returns (IBandwidthChannel.Settlement memory s) {
        s = channels.previewSettlement(id);
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        channels.settle(id);
    }

    function _err(bytes4 selector, uint256 id, address a) private pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, id, a);
    }

    // ---------------------------------------------------------------- opening

    function testOpenLocksDepositUntilPayeeConfirms() public {
        uint256 before = token.balanceOf(payer);
        vm.expectEmit(address(channels));
        emit IBandwidthChannel.ChannelOpened(
            1, payer, payee, payer, DEPOSIT, PRICE, TOLERANCE, block.timestamp + CONFIRM_WINDOW
        );
        vm.prank(payer);
        uint256 id = channels.open(payee, payer, DEPOSIT, uint96(PRICE), TOLERANCE);
        vm.assertEq(token.balanceOf(payer), before - DEPOSIT);
        vm.assertEq(token.balanceOf(address(channels)), DEPOSIT);
        vm.assertEq(uint256(channels.getChannel(id).status), uint256(IBandwidthChannel.Status.Opened));
        vm.assertEq(channels.openChannelsOf(payee), 0);

        vm.expectEmit(address(channels));
        emit IBandwidthChannel.ChannelConfirmed(id, payee, payee);
        vm.prank(payee);
        channels.confirm(id, payee);
        vm.assertEq(uint256(channels.getChannel(id).status), uint256(IBandwidthChannel.Status.Active));
        vm.assertEq(channels.openChannelsOf(payee), 1);
    }

    function testOpenRefusesBadPayeeAndTerms() public {
        vm.startPrank(payer);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelInvalidPayee.selector, payer));
        channels.open(payer, payer, DEPOSIT, uint96(PRICE), TOLERANCE);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelInvalidPayee.selector, address(0)));
        channels.open(address(0), payer, DEPOSIT, uint96(PRICE), TOLERANCE);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelInvalidTerms.selector, 0, PRICE));
        channels.open(payee, payer, 0, uint96(PRICE), TOLERANCE);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelInvalidTerms.selector, DEPOSIT, 0));
        channels.open(payee, payer, DEPOSIT, 0, TOLERANCE);
        vm.stopPrank();
    }

    function testOpenWithPermitNeedsNoApproval() public {
        uint256 ownerKey = 0xC0FFEE;
        address owner = vm.addr(ownerKey);
        token.transfer(owner, DEPOSIT);
        PaymentFunding.Permit memory permit = Permits.funding(token, ownerKey, address(channels), DEPOSIT);
        vm.prank(owner);
        uint256 id = channels.openWithPermit(payee, owner, DEPOSIT, uint96(PRICE), TOLERANCE, permit);
        vm.assertEq(channels.getChannel(id).deposit, DEPOSIT);
        vm.assertEq(token.balanceOf(owner), 0);
    }

    function testOnlyThePayeeConfirmsAndOnlyOnce() public {
        vm.prank(payer);
        uint256 id = channels.open(payee, payer, DEPOSIT, uint96(PRICE), TOLERANCE);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotPayee.selector, id, payer));
        vm.prank(payer);
        channels.confirm(id, payer);
        vm.prank(payee);
        channels.confirm(id, payee);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBandwidthChannel.BandwidthChannelUnexpectedStatus.selector,
                id,
                IBandwidthChannel.Status.Active,
                IBandwidthChannel.Status.Opened
            )
        );
        vm.prank(payee);
        channels.confirm(id, payee);
    }

    function testUnconfirmedChannelGoesBackToPayerAfterTheWindow() public {
        vm.prank(payer);
        uint256 id = channels.open(payee, payer, DEPOSIT, uint96(PRICE), TOLERANCE);
        uint256 deadline = block.timestamp + CONFIRM_WINDOW;
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelConfirmWindowOpen.selector, id, deadline)
        );
        vm.prank(payer);
        channels.reclaim(id);

        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelConfirmWindowClosed.selector, id, deadline)
        );
        vm.prank(payee);
        channels.confirm(id, payee);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotPayer.selector, id, payee));
        vm.prank(payee);
        channels.reclaim(id);

        uint256 before = token.balanceOf(payer);
        vm.prank(payer);
        channels.reclaim(id);
        vm.assertEq(token.balanceOf(payer), before + DEPOSIT);
        vm.assertEq(uint256(channels.getChannel(id).status), uint256(IBandwidthChannel.Status.Reclaimed));
    }

    function testSixthChannelToOnePayeeIsRefused() public {
        uint256[5] memory ids;
        for (uint256 i = 0; i < 5; i++) {
            ids[i] = _openConfirmed();
        }
        vm.assertEq(channels.openChannelsOf(payee), 5);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelPayeeFull.selector, payee, 5));
        vm.prank(stranger);
        channels.open(payee, stranger, DEPOSIT, uint96(PRICE), TOLERANCE);

        // A closing channel keeps its slot until it is settled.
        _close(ids[0], payer, _unit(ids[0], 1, 0));
        vm.assertEq(channels.openChannelsOf(payee), 5);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelPayeeFull.selector, payee, 5));
        vm.prank(stranger);
        channels.open(payee, stranger, DEPOSIT, uint96(PRICE), TOLERANCE);
        _settle(ids[0]);
        vm.assertEq(channels.openChannelsOf(payee), 4);
        // A channel opened before the payee filled up cannot be confirmed as a sixth either.
        vm.prank(stranger);
        uint256 pending = channels.open(payee, stranger, DEPOSIT, uint96(PRICE), TOLERANCE);
        _openConfirmed();
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelPayeeFull.selector, payee, 5));
        vm.prank(payee);
        channels.confirm(pending, payee);
        // Other payees are unaffected.
        vm.prank(payer);
        channels.open(proxy, payer, DEPOSIT, uint96(PRICE), TOLERANCE);
    }

    // ---------------------------------------------------------------- closing

    function testCloseWithTheLastBothSignedUnitSettles() public {
        uint256 id = _openConfirmed();
        IBandwidthChannel.Usage memory u = _unit(id, 3, 40 * MB);
        vm.expectEmit(address(channels));
        emit IBandwidthChannel.ChannelClosing(id, payee, 3, 40 * MB, block.timestamp + CHALLENGE_WINDOW);
        _close(id, payee, u);
        vm.assertEq(channels.openChannelsOf(payee), 1);

        uint256 payeeBefore = token.balanceOf(payee);
        uint256 payerBefore = token.balanceOf(payer);
        IBandwidthChannel.Settlement memory s = _settle(id);
        vm.assertEq(s.paid, 40 ether);
        vm.assertEq(s.refunded, 60 ether);
        vm.assertFalse(s.disputed);
        vm.assertEq(token.balanceOf(payee), payeeBefore + 40 ether);
        vm.assertEq(token.balanceOf(payer), payerBefore + 60 ether);
        vm.assertEq(token.balanceOf(address(channels)), 0);
        vm.assertEq(channels.openChannelsOf(payee), 0);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBandwidthChannel.BandwidthChannelUnexpectedStatus.selector,
                id,
                IBandwidthChannel.Status.Settled,
                IBandwidthChannel.Status.Closing
            )
        );
        channels.settle(id);
    }

    function testCloseWithoutUsageRefundsEverything() public {
        uint256 id = _openConfirmed();
        vm.prank(payer);
        channels.close(id, _empty(id), "", "");
        IBandwidthChannel.Settlement memory s = _settle(id);
        vm.assertEq(s.paid, 0);
        vm.assertEq(s.refunded, DEPOSIT);
    }

    function testCloseRefusesBadUnits() public {
        uint256 id = _openConfirmed();
        IBandwidthChannel.Usage memory u = _unit(id, 1, MB);
        bytes memory a = _sign(payerKey, u);
        bytes memory b = _sign(payeeKey, u);

        vm.startPrank(payer);
        // one side's signature twice
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelWrongSigner.selector, id, payee, payer)
        );
        channels.close(id, u, a, a);
        // an empty unit carrying signatures
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelInvalidEmptyUsage.selector, id));
        channels.close(id, _empty(id), a, b);
        // a unit from the future
        IBandwidthChannel.Usage memory future = _unit(id, 1, MB);
        future.time = uint64(block.timestamp + 1);
        vm.stopPrank();
        bytes memory futureA = _sign(payerKey, future);
        bytes memory futureB = _sign(payeeKey, future);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelInvalidTime.selector, id, future.time)
        );
        vm.prank(payer);
        channels.close(id, future, futureA, futureB);
        // not a party
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotParty.selector, id, stranger));
        vm.prank(stranger);
        channels.close(id, u, a, b);
    }

    function testCloseRefusesAnUnconfirmedChannel() public {
        vm.prank(payer);
        uint256 id = channels.open(payee, payer, DEPOSIT, uint96(PRICE), TOLERANCE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBandwidthChannel.BandwidthChannelUnexpectedStatus.selector,
                id,
                IBandwidthChannel.Status.Opened,
                IBandwidthChannel.Status.Active
            )
        );
        vm.prank(payer);
        channels.close(id, _empty(id), "", "");
    }

    function testClosingWithAnOldUnitLosesToTheNewerOne() public {
        uint256 id = _openConfirmed();
        IBandwidthChannel.Usage memory old = _unit(id, 2, 5 * MB);
        IBandwidthChannel.Usage memory newer = _unit(id, 9, 30 * MB);
        _close(id, payer, old);

        bytes memory newerA = _sign(payerKey, newer);
        bytes memory newerB = _sign(payeeKey, newer);
        vm.expectEmit(address(channels));
        emit IBandwidthChannel.ChannelChallenged(id, payee, 9, 30 * MB);
        vm.prank(payee);
        channels.challenge(id, newer, newerA, newerB);

        // The payer cannot go back to the old unit.
        bytes memory oldA = _sign(payerKey, old);
        bytes memory oldB = _sign(payeeKey, old);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelStaleUsage.selector, id, 2, 9));
        vm.prank(payer);
        channels.challenge(id, old, oldA, oldB);

        IBandwidthChannel.Settlement memory s = _settle(id);
        vm.assertEq(s.paid, 30 ether);
        vm.assertEq(s.refunded, 70 ether);
    }

    function testChallengeAndSettleRespectTheWindow() public {
        uint256 id = _openConfirmed();
        _close(id, payer, _unit(id, 1, MB));
        uint256 deadline = block.timestamp + CHALLENGE_WINDOW;
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelChallengeWindowOpen.selector, id, deadline)
        );
        channels.settle(id);
        vm.warp(deadline + 1);
        IBandwidthChannel.Usage memory late = _unit(id, 2, 2 * MB);
        bytes memory a = _sign(payerKey, late);
        bytes memory b = _sign(payeeKey, late);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelChallengeWindowClosed.selector, id, deadline)
        );
        vm.prank(payee);
        channels.challenge(id, late, a, b);
        channels.settle(id);
    }

    // ---------------------------------------------------------------- signature attacks

    function testUnitOfAnotherChannelIsRefused() public {
        uint256 first = _openConfirmed();
        uint256 second = _openConfirmed();
        IBandwidthChannel.Usage memory u = _unit(first, 1, 50 * MB);
        bytes memory a = _sign(payerKey, u);
        bytes memory b = _sign(payeeKey, u);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelWrongChannel.selector, second, first)
        );
        vm.prank(payee);
        channels.close(second, u, a, b);
        // Relabelling the unit breaks both signatures.
        u.channelId = second;
        vm.expectRevert();
        vm.prank(payee);
        channels.close(second, u, a, b);
    }

    function testUnitSignedForAnotherPayeeIsRefused() public {
        uint256 id = _openConfirmed();
        IBandwidthChannel.Usage memory u = _unit(id, 1, 50 * MB);
        bytes memory strangerSig = _sign(strangerKey, u);
        bytes memory payerSig = _sign(payerKey, u);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelWrongSigner.selector, id, payee, stranger)
        );
        vm.prank(payer);
        channels.close(id, u, payerSig, strangerSig);
    }

    function testUnitSignedOnAnotherChainOrContractIsRefused() public {
        uint256 id = _openConfirmed();
        IBandwidthChannel.Usage memory u = _unit(id, 1, 50 * MB);

        uint256 realChain = block.chainid;
        vm.chainId(realChain + 1);
        bytes memory otherChainPayer = _sign(payerKey, u);
        bytes memory otherChainPayee = _sign(payeeKey, u);
        vm.chainId(realChain);
        vm.expectRevert();
        vm.prank(payee);
        channels.close(id, u, otherChainPayer, otherChainPayee);

        BandwidthChannel other = new BandwidthChannel(IERC20(address(token)), channels.operators(), CONFIRM_WINDOW, CHALLENGE_WINDOW);
        (uint8 v1, bytes32 r1, bytes32 s1) = vm.sign(payerKey, other.usageDigest(u));
        (uint8 v2, bytes32 r2, bytes32 s2) = vm.sign(payeeKey, other.usageDigest(u));
        address recovered = ECDSA.recover(channels.usageDigest(u), v1, r1, s1);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelWrongSigner.selector, id, payer, recovered)
        );
        vm.prank(payee);
        channels.close(id, u, abi.encodePacked(r1, s1, v1), abi.encodePacked(r2, s2, v2));
    }

    function testHighSAndCompactSignaturesAreRefused() public {
        uint256 id = _openConfirmed();
        IBandwidthChannel.Usage memory u = _unit(id, 1, MB);
        bytes32 digest = channels.usageDigest(u);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(payerKey, digest);
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        bytes memory malleable = abi.encodePacked(r, highS, v == 27 ? uint8(28) : uint8(27));
        vm.assertEq(ecrecover(digest, v == 27 ? 28 : 27, r, highS), payer); // the EVM alone would accept it
        bytes memory payeeSig = _sign(payeeKey, u);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS));
        vm.prank(payee);
        channels.close(id, u, malleable, payeeSig);

        (bytes32 cr, bytes32 vs) = vm.signCompact(payerKey, digest);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 64));
        vm.prank(payee);
        channels.close(id, u, abi.encodePacked(cr, vs), payeeSig);
    }

    // ---------------------------------------------------------------- dispute rule

    function _claim(uint256 id, uint256 signerKey, IBandwidthChannel.Usage memory u, IBandwidthChannel.Usage memory linked, uint256 linkedKey) private {
        bytes memory linkedSig = linked.sequence == 0 ? bytes("") : _sign(linkedKey, linked);
        bytes memory sig = _sign(signerKey, u);
        vm.prank(vm.addr(signerKey) == payer ? payer : payee);
        channels.submitClaim(id, u, sig, linked, linkedSig);
    }

    function testDisputeBeyondTolerancePaysLowerChargesPayeeCountBurnsRest() public {
        uint256 id = _openConfirmed();
        IBandwidthChannel.Usage memory agreed = _unit(id, 4, 20 * MB);
        _close(id, payee, agreed);
        // The payer had proposed 23 MB; the payee claims 23.5 MB linked to that proposal.
        IBandwidthChannel.Usage memory proposal = _unit(id, 5, 23 * MB);
        IBandwidthChannel.Usage memory own = _unit(id, 6, 23 * MB + MB / 2);
        own.link = channels.usageDigest(proposal);
        _claim(id, payeeKey, own, proposal, payerKey);
        // The payer denies its own proposal and claims the agreed 20 MB: a lie by more than the tolerance.
        IBandwidthChannel.Usage memory lie = _unit(id, 6, 20 * MB);
        vm.expectEmit(address(channels));
        emit IBandwidthChannel.UsageClaimed(id, payer, 6, 20 * MB);
        _claim(id, payerKey, lie, _empty(id), 0);

        uint256 supplyBefore = token.totalSupply();
        IBandwidthChannel.Settlement memory s = _settle(id);
        vm.assertTrue(s.disputed);
        vm.assertEq(s.paid, 20 ether);
        vm.assertEq(s.burned, 3.5 ether);
        vm.assertEq(s.refunded, 76.5 ether); // charged 23.5, the payee's count
        vm.assertEq(token.totalSupply(), supplyBefore - 3.5 ether);
        vm.assertEq(token.balanceOf(address(channels)), 0);
    }

    function testClaimsWithinToleranceSettleTheAgreedUnit() public {
        uint256 id = _openConfirmed();
        IBandwidthChannel.Usage memory agreed = _unit(id, 4, 20 * MB);
        _close(id, payer, agreed);
        IBandwidthChannel.Usage memory own = _unit(id, 5, 20 * MB + TOLERANCE);
        own.link = channels.usageDigest(agreed);
        _claim(id, payeeKey, own, agreed, payerKey);
        IBandwidthChannel.Settlement memory s = _settle(id);
        vm.assertFalse(s.disputed);
        vm.assertEq(s.paid, 20 ether);
    }

    function testClaimLinksToTheOtherSidesUnitAndStaysWithinTheTolerance() public {
        uint256 id = _openConfirmed();
        IBandwidthChannel.Usage memory agreed = _unit(id, 4, 10 * MB);
        _close(id, payer, agreed);
        bytes32 agreedDigest = channels.usageDigest(agreed);

        IBandwidthChannel.Usage memory tooFar = _unit(id, 5, 11 * MB + 1);
        tooFar.link = agreedDigest;
        bytes memory tooFarSig = _sign(payeeKey, tooFar);
        bytes memory agreedByPayer = _sign(payerKey, agreed);
        vm.startPrank(payee);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelClaimTooHigh.selector, id, 11 * MB + 1, 11 * MB)
        );
        channels.submitClaim(id, tooFar, tooFarSig, agreed, agreedByPayer);

        IBandwidthChannel.Usage memory unlinked = _unit(id, 5, 11 * MB);
        bytes memory unlinkedSig = _sign(payeeKey, unlinked);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBandwidthChannel.BandwidthChannelLinkMismatch.selector, id, bytes32(0), agreedDigest
            )
        );
        channels.submitClaim(id, unlinked, unlinkedSig, agreed, agreedByPayer);

        // The linked unit must be the other side's, not the claimant's own.
        IBandwidthChannel.Usage memory selfLinked = _unit(id, 5, 11 * MB);
        selfLinked.link = agreedDigest;
        bytes memory selfLinkedSig = _sign(payeeKey, selfLinked);
        bytes memory agreedByPayee = _sign(payeeKey, agreed);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelWrongSigner.selector, id, payer, payee)
        );
        channels.submitClaim(id, selfLinked, selfLinkedSig, agreed, agreedByPayee);

        channels.submitClaim(id, selfLinked, selfLinkedSig, agreed, agreedByPayer);
        vm.assertEq(channels.getChannel(id).payeeBytes, 11 * MB);
        // A claim is only replaced by a higher sequence.
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelStaleUsage.selector, id, 5, 5));
        channels.submitClaim(id, selfLinked, selfLinkedSig, agreed, agreedByPayer);
        vm.stopPrank();
    }

    function testClaimSignedByNeitherSideIsRefused() public {
        uint256 id = _openConfirmed();
        _close(id, payer, _unit(id, 1, MB));
        IBandwidthChannel.Usage memory u = _unit(id, 2, 2 * MB);
        bytes memory sig = _sign(strangerKey, u);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelNotSignedByParty.selector, id, stranger)
        );
        vm.prank(payee);
        channels.submitClaim(id, u, sig, _empty(id), "");
    }

    // ---------------------------------------------------------------- blacklist

    function testBlacklistIsRecordedAndBlocksNewChannels() public {
        uint256 id = _openConfirmed();
        vm.expectEmit(address(channels));
        emit IBandwidthChannel.Blacklisted(payee, payer, id);
        vm.prank(payee);
        channels.blacklist(id);
        vm.assertTrue(channels.isBlacklisted(payee, payer));
        vm.assertFalse(channels.isBlacklisted(payer, payee));
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelBlacklisted.selector, payer, payee));
        vm.prank(payer);
        channels.open(payee, payer, DEPOSIT, uint96(PRICE), TOLERANCE);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotParty.selector, id, stranger));
        vm.prank(stranger);
        channels.blacklist(id);
    }

    // ---------------------------------------------------------------- proxy route

    function testRouteLocks110PercentAndTheProxyKeepsTenPercent() public {
        uint96 amount = 100 ether;
        vm.expectEmit(address(channels));
        emit IBandwidthChannel.RouteOpened(1, payer, proxy, amount);
        vm.prank(payer);
        uint256 up = channels.openRoute(proxy, payer, amount, uint96(PRICE), TOLERANCE);
        IBandwidthChannel.Channel memory upstream = channels.getChannel(up);
        vm.assertEq(upstream.deposit, 110 ether);
        vm.assertEq(upstream.pricePerMB, 1.1 ether);

        // The downstream leg needs a confirmed upstream and only the proxy may open it.
        vm.expectRevert(
            abi.encodeWithSelector(
                IBandwidthChannel.BandwidthChannelUnexpectedStatus.selector,
                up,
                IBandwidthChannel.Status.Opened,
                IBandwidthChannel.Status.Active
            )
        );
        vm.prank(proxy);
        channels.openRouteLeg(up, payee, proxy);
        vm.prank(proxy);
        channels.confirm(up, proxy);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotPayee.selector, up, payer));
        vm.prank(payer);
        channels.openRouteLeg(up, payee, payer);

        uint256 proxyBefore = token.balanceOf(proxy);
        vm.prank(proxy);
        uint256 down = channels.openRouteLeg(up, payee, proxy);
        vm.assertEq(channels.getRoute(up).downstreamId, down);
        vm.assertEq(channels.getChannel(down).payer, proxy);
        vm.assertEq(channels.getChannel(down).deposit, amount);
        vm.assertEq(token.balanceOf(proxy), proxyBefore - amount);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelInvalidRoute.selector, up));
        vm.prank(proxy);
        channels.openRouteLeg(up, payee, proxy);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelInvalidRoute.selector, down));
        vm.prank(payee);
        channels.openRouteLeg(down, payer, payee);
        vm.prank(payee);
        channels.confirm(down, payee);

        // 50 MB cross both legs.
        IBandwidthChannel.Usage memory downUnit = _unit(down, 1, 50 * MB);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(proxyKey, channels.usageDigest(downUnit));
        bytes memory proxySig = abi.encodePacked(r, s, v);
        bytes memory payeeSig = _sign(payeeKey, downUnit);
        vm.prank(payee);
        channels.close(down, downUnit, proxySig, payeeSig);
        IBandwidthChannel.Usage memory upUnit = _unit(up, 1, 50 * MB);
        (v, r, s) = vm.sign(proxyKey, channels.usageDigest(upUnit));
        bytes memory payerSig = _sign(payerKey, upUnit);
        vm.prank(proxy);
        channels.close(up, upUnit, payerSig, abi.encodePacked(r, s, v));

        uint256 payerBefore = token.balanceOf(payer);
        uint256 payeeBefore = token.balanceOf(payee);
        proxyBefore = token.balanceOf(proxy);
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        channels.settle(down);
        channels.settle(up);
        vm.assertEq(token.balanceOf(payee), payeeBefore + 50 ether);
        vm.assertEq(token.balanceOf(payer), payerBefore + 110 ether - 55 ether);
        // The proxy gets its 50 back from downstream plus 55 from upstream: 5 = 10% of the payee's pay.
        vm.assertEq(token.balanceOf(proxy), proxyBefore + 50 ether + 55 ether);
    }
}
