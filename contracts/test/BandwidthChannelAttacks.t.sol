// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {BandwidthChannel} from "../BandwidthChannel.sol";
import {IBandwidthChannel} from "../interfaces/IBandwidthChannel.sol";
import {PaymentFunding} from "../libraries/PaymentFunding.sol";
import {OperatorRegistry} from "../OperatorRegistry.sol";
import {Token} from "../Token.sol";
import {Permits} from "./utils/Permits.sol";
import {TestBase} from "./utils/Vm.sol";

/// @dev The attacks an adversarial review found on the bandwidth channel, each run to the end: a refused step is
/// tried and skipped, and the test asserts what every honest party ends with.
contract BandwidthChannelAttacksTest is TestBase {
    uint256 private constant MB = 1_000_000;
    uint256 private constant PRICE = 1 ether; // per MB
    uint96 private constant DEPOSIT = 100 ether;
    uint96 private constant TOLERANCE = uint96(1 * MB);
    uint64 private constant CONFIRM_WINDOW = 1 hours;
    uint64 private constant CHALLENGE_WINDOW = 1 days;

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
        token = new Token(address(this), 100_000_000 ether, true);
        channels = new BandwidthChannel(IERC20(address(token)), new OperatorRegistry(), CONFIRM_WINDOW, CHALLENGE_WINDOW);
        address[4] memory people = [payer, payee, proxy, stranger];
        for (uint256 i = 0; i < people.length; i++) {
            token.transfer(people[i], 1_000_000 ether);
            vm.prank(people[i]);
            token.approve(address(channels), type(uint256).max);
        }
    }

    // ---------------------------------------------------------------- helpers

    function _openConfirmed(address from) private returns (uint256 id) {
        vm.prank(from);
        id = channels.open(payee, from, DEPOSIT, uint96(PRICE), TOLERANCE);
        vm.prank(payee);
        channels.confirm(id, payee);
    }

    function _unit(uint256 id, uint64 seq, uint256 totalBytes) private view returns (IBandwidthChannel.Usage memory) {
        return IBandwidthChannel.Usage(id, seq, uint128(totalBytes), uint64(block.timestamp), bytes32(0));
    }

    function _empty(uint256 id) private pure returns (IBandwidthChannel.Usage memory) {
        return IBandwidthChannel.Usage(id, 0, 0, 0, bytes32(0));
    }

    function _sign(uint256 key, IBandwidthChannel.Usage memory u) private view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, channels.usageDigest(u));
        return abi.encodePacked(r, s, v);
    }

    function _close(uint256 id, uint256 keyA, uint256 keyB, address by, IBandwidthChannel.Usage memory u) private {
        bytes memory a = _sign(keyA, u);
        bytes memory b = _sign(keyB, u);
        vm.prank(by);
        channels.close(id, u, a, b);
    }

    /// @dev Submits `u` signed by `signerKey` as its signer's claim, linked to `linked` signed by `linkedKey`
    /// (no link when `linkedKey` is 0); a refused claim is skipped. Returns whether it was recorded.
    function _tryClaim(
        uint256 id,
        uint256 signerKey,
        IBandwidthChannel.Usage memory u,
        IBandwidthChannel.Usage memory linked,
        uint256 linkedKey
    ) private returns (bool) {
        bytes memory linkedSig = linkedKey == 0 ? bytes("") : _sign(linkedKey, linked);
        if (linkedKey != 0) u.link = channels.usageDigest(linked);
        bytes memory sig = _sign(signerKey, u);
        vm.prank(vm.addr(signerKey));
        try channels.submitClaim(id, u, sig, linked, linkedSig) {
            return true;
        } catch {
            return false;
        }
    }

    // ---------------------------------------------------------------- 1. zero claim and sequence jump

    /// Both sides signed 50 MB; the payer then claims 0 bytes at the highest sequence. The payee must still be
    /// paid the 50 MB both signed.
    function test_Attack_PayerWipesOutPayeeWithZeroClaim() public {
        uint256 id = _openConfirmed(payer);
        IBandwidthChannel.Usage memory agreed = _unit(id, 10, 50 * MB);
        _close(id, payerKey, payeeKey, payer, agreed);
        _tryClaim(id, payerKey, _unit(id, type(uint64).max, 0), _empty(id), 0);

        uint256 payeeBefore = token.balanceOf(payee);
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        channels.settle(id);
        vm.assertEq(token.balanceOf(payee) - payeeBefore, 50 ether, "payee paid what both signed");
    }

    /// The payer closes with an old unit (10 MB) and claims those 10 MB at the highest sequence, so that the
    /// newer unit both signed (50 MB) cannot outrank the claim. The payee must still be paid 50 MB.
    function test_Attack_PayerClaimSequenceOutranksEveryLaterUnit() public {
        uint256 id = _openConfirmed(payer);
        IBandwidthChannel.Usage memory old = _unit(id, 3, 10 * MB);
        IBandwidthChannel.Usage memory last = _unit(id, 10, 50 * MB);
        _close(id, payerKey, payeeKey, payer, old);
        _tryClaim(id, payerKey, _unit(id, type(uint64).max, 10 * MB), old, payeeKey);
        bytes memory a = _sign(payerKey, last);
        bytes memory b = _sign(payeeKey, last);
        vm.prank(payee);
        channels.challenge(id, last, a, b);

        uint256 payeeBefore = token.balanceOf(payee);
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        channels.settle(id);
        vm.assertEq(token.balanceOf(payee) - payeeBefore, 50 ether, "payee paid the newest unit both signed");
    }

    // ---------------------------------------------------------------- 2. proxy route

    /// Payer and payee of a route collude against the proxy, which forwarded 50 MB and signed exactly that on
    /// both legs: the payer claims 0 upstream, the payee inflates its claim downstream. The proxy must end with
    /// what it locked plus its 10 % fee.
    function test_Attack_ColludingEndsDrainTheProxy() public {
        uint256 proxyStart = token.balanceOf(proxy);
        vm.prank(payer);
        uint256 up = channels.openRoute(proxy, payer, 100 ether, uint96(PRICE), TOLERANCE);
        vm.prank(proxy);
        channels.confirm(up, proxy);
        vm.prank(proxy);
        uint256 down = channels.openRouteLeg(up, payee, proxy);
        vm.prank(payee);
        channels.confirm(down, payee);

        IBandwidthChannel.Usage memory upUnit = _unit(up, 10, 50 * MB);
        IBandwidthChannel.Usage memory downUnit = _unit(down, 10, 50 * MB);
        _close(up, payerKey, proxyKey, payer, upUnit);
        _close(down, proxyKey, payeeKey, payee, downUnit);
        _tryClaim(up, payerKey, _unit(up, type(uint64).max, 0), _empty(up), 0);
        _tryClaim(up, payerKey, _unit(up, 11, 50 * MB - 4 * MB), upUnit, proxyKey);
        _tryClaim(down, payeeKey, _unit(down, 11, 55 * MB), downUnit, proxyKey);

        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        channels.settle(up);
        channels.settle(down);
        // The payee was paid 50 at 1 TAB/MB downstream; the proxy keeps 10 % of that on top of its lock.
        vm.assertEq(token.balanceOf(proxy), proxyStart + 5 ether, "proxy ends with its lock plus its fee");
    }

    // ---------------------------------------------------------------- 3. channel cap

    /// The payee closes its 5 channels early with the empty unit, confirms 5 new ones and keeps serving all 10,
    /// settling the old ones' later units through the challenge path. It must never earn on more than 5.
    function test_Attack_PayeeEarnsOnMoreThanFiveChannelsByClosingEarly() public {
        uint256[] memory ids = new uint256[](10);
        uint256 opened;
        for (uint256 i = 0; i < 5; i++) {
            ids[opened++] = _openConfirmed(payer);
        }
        for (uint256 i = 0; i < 5; i++) {
            vm.prank(payee);
            channels.close(ids[i], _empty(ids[i]), "", "");
        }
        for (uint256 i = 0; i < 5; i++) {
            vm.prank(stranger);
            try channels.open(payee, stranger, DEPOSIT, uint96(PRICE), TOLERANCE) returns (uint256 id) {
                vm.prank(payee);
                try channels.confirm(id, payee) {
                    ids[opened++] = id;
                } catch {}
            } catch {}
        }
        // All the channels the payee holds carry traffic at the same time.
        vm.warp(block.timestamp + 1 hours);
        for (uint256 i = 0; i < opened; i++) {
            IBandwidthChannel.Usage memory u = _unit(ids[i], 1, 10 * MB);
            IBandwidthChannel.Channel memory c = channels.getChannel(ids[i]);
            uint256 key = c.payer == payer ? payerKey : strangerKey;
            bytes memory a = _sign(key, u);
            bytes memory b = _sign(payeeKey, u);
            vm.prank(payee);
            if (c.status == IBandwidthChannel.Status.Closing) channels.challenge(ids[i], u, a, b);
            else channels.close(ids[i], u, a, b);
        }
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        uint256 earning;
        for (uint256 i = 0; i < opened; i++) {
            uint256 before = token.balanceOf(payee);
            channels.settle(ids[i]);
            if (token.balanceOf(payee) > before) earning++;
        }
        vm.assertLe(earning, 5, "payee earned on more than 5 channels at once");
    }

    // ---------------------------------------------------------------- 4. blacklist

    /// A stranger opens a 1-wei channel to the payee and blacklists it without the payee ever confirming; then
    /// tries again with a confirmed 1-wei channel. Neither may leave a record.
    function test_Attack_AnyoneBlacklistsAnyoneThroughOneWeiChannel() public {
        vm.prank(stranger);
        uint256 id = channels.open(payee, stranger, 1, 1, 0);
        vm.prank(stranger);
        try channels.blacklist(id) {} catch {}
        vm.assertFalse(channels.isBlacklisted(stranger, payee), "blacklisted through an unconfirmed channel");

        vm.prank(stranger);
        uint256 confirmed = channels.open(payee, stranger, 1, 1, 0);
        vm.prank(payee);
        channels.confirm(confirmed, payee);
        vm.prank(stranger);
        try channels.blacklist(confirmed) {} catch {}
        vm.assertFalse(channels.isBlacklisted(stranger, payee), "blacklisted through a 1-wei channel");
    }

    // ---------------------------------------------------------------- 2b. a route funded by a permit

    /// A route's upstream leg locks 110 % of its amount: a permit for the amount alone (what a payer reading only
    /// the payee's price would sign) is refused by the token, and nothing moves.
    function test_Attack_RoutePermitBelowTheLockIsRefused() public {
        (address owner, uint256 ownerKey) = _fresh("route owner", 200 ether);
        PaymentFunding.Permit memory permit = Permits.funding(token, ownerKey, address(channels), 100 ether);
        vm.expectRevert(
            abi.encodeWithSelector(
                IERC20Errors.ERC20InsufficientAllowance.selector, address(channels), 100 ether, 110 ether
            )
        );
        vm.prank(owner);
        channels.openRouteWithPermit(proxy, owner, 100 ether, uint96(PRICE), TOLERANCE, permit);
        vm.assertEq(token.balanceOf(owner), 200 ether, "nothing pulled");

        permit = Permits.funding(token, ownerKey, address(channels), 110 ether);
        vm.prank(owner);
        uint256 up = channels.openRouteWithPermit(proxy, owner, 100 ether, uint96(PRICE), TOLERANCE, permit);
        vm.assertEq(channels.getChannel(up).deposit, 110 ether);
        vm.assertEq(channels.getRoute(up).amount, 100 ether);
        vm.assertEq(token.balanceOf(owner), 90 ether);
    }

    /// A permit seen in the mempool funds only its signer: a stranger who submits it opens nothing with the
    /// signer's tokens, and the signer's own call still opens once the stranger used the permit first.
    function test_Attack_RoutePermitUsedByAStranger() public {
        (address owner, uint256 ownerKey) = _fresh("route owner", 110 ether);
        (address thief,) = _fresh("thief", 0);
        PaymentFunding.Permit memory permit = Permits.funding(token, ownerKey, address(channels), 110 ether);
        vm.expectRevert();
        vm.prank(thief);
        channels.openRouteWithPermit(proxy, thief, 100 ether, uint96(PRICE), TOLERANCE, permit);
        vm.assertEq(token.balanceOf(owner), 110 ether, "the stranger moved nothing");

        token.permit(owner, address(channels), permit.value, permit.deadline, permit.v, permit.r, permit.s);
        vm.prank(owner);
        uint256 up = channels.openRouteWithPermit(proxy, owner, 100 ether, uint96(PRICE), TOLERANCE, permit);
        vm.assertEq(channels.getChannel(up).payer, owner);
        vm.assertEq(token.balanceOf(owner), 0);
    }

    /// Only the route's proxy opens its downstream leg with a permit, once, for the route's amount: the payer (who
    /// would then choose the payee and the key that signs the proxy's units) is refused, and so is a second leg.
    function test_Attack_RouteLegByPermitFromAnyoneButTheProxy() public {
        (address carrier, uint256 carrierKey) = _fresh("carrier", 100 ether);
        vm.prank(payer);
        uint256 up = channels.openRoute(carrier, payer, 100 ether, uint96(PRICE), TOLERANCE);
        vm.prank(carrier);
        channels.confirm(up, carrier);

        (address other, uint256 otherKey) = _fresh("other", 100 ether);
        PaymentFunding.Permit memory otherPermit = Permits.funding(token, otherKey, address(channels), 100 ether);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelNotPayee.selector, up, other));
        vm.prank(other);
        channels.openRouteLegWithPermit(up, other, other, otherPermit);

        PaymentFunding.Permit memory short = Permits.funding(token, carrierKey, address(channels), 99 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(channels), 99 ether, 100 ether)
        );
        vm.prank(carrier);
        channels.openRouteLegWithPermit(up, payee, carrier, short);

        PaymentFunding.Permit memory full = Permits.funding(token, carrierKey, address(channels), 100 ether);
        vm.prank(carrier);
        uint256 down = channels.openRouteLegWithPermit(up, payee, carrier, full);
        vm.assertEq(channels.getRoute(up).downstreamId, down);
        vm.assertEq(channels.getChannel(down).deposit, 100 ether);
        vm.assertEq(token.balanceOf(carrier), 0);
        full = Permits.funding(token, carrierKey, address(channels), 100 ether);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelInvalidRoute.selector, up));
        vm.prank(carrier);
        channels.openRouteLegWithPermit(up, payee, carrier, full);
    }

    // ---------------------------------------------------------------- 2c. many channels in one transaction

    /// A download pays several hosts at once: one permit for the sum, one transaction. A permit short of the sum,
    /// one refused opening among them, or more than a payee may hold: the whole batch is refused, nothing moves.
    function test_Attack_ABatchIsWholeOrNothing() public {
        (address owner, uint256 ownerKey) = _fresh("reader", 100 ether);
        IBandwidthChannel.Opening[] memory openings = new IBandwidthChannel.Opening[](3);
        openings[0] = IBandwidthChannel.Opening(payee, owner, 30 ether, uint96(PRICE), TOLERANCE);
        openings[1] = IBandwidthChannel.Opening(proxy, owner, 30 ether, uint96(PRICE), TOLERANCE);
        openings[2] = IBandwidthChannel.Opening(stranger, owner, 30 ether, uint96(PRICE), TOLERANCE);

        PaymentFunding.Permit memory short = Permits.funding(token, ownerKey, address(channels), 60 ether);
        vm.expectRevert(
            abi.encodeWithSelector(IERC20Errors.ERC20InsufficientAllowance.selector, address(channels), 0, 30 ether)
        );
        vm.prank(owner);
        channels.openBatchWithPermit(openings, short);
        vm.assertEq(token.balanceOf(owner), 100 ether, "a short permit moves nothing");

        openings[1].payee = owner;
        PaymentFunding.Permit memory full = Permits.funding(token, ownerKey, address(channels), 90 ether);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelInvalidPayee.selector, owner));
        vm.prank(owner);
        channels.openBatchWithPermit(openings, full);
        vm.assertEq(token.balanceOf(owner), 100 ether, "one bad opening moves nothing");

        openings[1].payee = proxy;
        vm.prank(owner);
        uint256 first = channels.openBatchWithPermit(openings, full);
        vm.assertEq(token.balanceOf(owner), 10 ether);
        for (uint256 i = 0; i < 3; i++) {
            IBandwidthChannel.Channel memory c = channels.getChannel(first + i);
            vm.assertEq(c.payer, owner);
            vm.assertEq(c.payee, openings[i].payee);
            vm.assertEq(c.deposit, 30 ether);
        }
    }

    /// A batch is no way around the rules of one opening: an operator cannot fund it with its owner's tokens, a key
    /// the payer never authorized cannot be bound in it, and an empty or oversized batch is refused by name.
    function test_Attack_ABatchBendsNoRuleOfOneOpening() public {
        IBandwidthChannel.Opening[] memory openings = new IBandwidthChannel.Opening[](1);
        openings[0] = IBandwidthChannel.Opening(payee, stranger, 10 ether, uint96(PRICE), TOLERANCE);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelNotOperator.selector, payer, stranger, uint8(4))
        );
        vm.prank(payer);
        channels.openBatch(openings);

        (address operatorKey,) = _fresh("operator without tokens", 0);
        openings[0].payerSigner = operatorKey;
        vm.expectRevert();
        vm.prank(operatorKey);
        channels.openBatch(openings);

        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelInvalidBatch.selector, 0));
        vm.prank(payer);
        channels.openBatch(new IBandwidthChannel.Opening[](0));
        uint256 tooMany = channels.MAX_BATCH_OPENINGS() + 1;
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelInvalidBatch.selector, tooMany));
        vm.prank(payer);
        channels.openBatch(new IBandwidthChannel.Opening[](tooMany));
        vm.assertEq(token.balanceOf(address(channels)), 0, "nothing opened");
    }

    function _fresh(string memory name, uint256 balance) private returns (address account, uint256 key) {
        key = uint256(keccak256(bytes(name)));
        account = vm.addr(key);
        if (balance > 0) token.transfer(account, balance);
    }

    // ---------------------------------------------------------------- 5. watchtower

    /// The payer closes with an old unit while the payee is offline; a watchtower holding the newest unit both
    /// signed answers for it. The payee must be paid the newest unit.
    function test_Attack_OfflinePayeeLosesToAnOldUnit() public {
        uint256 id = _openConfirmed(payer);
        IBandwidthChannel.Usage memory old = _unit(id, 2, 5 * MB);
        IBandwidthChannel.Usage memory last = _unit(id, 9, 30 * MB);
        _close(id, payerKey, payeeKey, payer, old);
        bytes memory a = _sign(payerKey, last);
        bytes memory b = _sign(payeeKey, last);
        vm.prank(stranger);
        try channels.challenge(id, last, a, b) {} catch {}

        uint256 payeeBefore = token.balanceOf(payee);
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        channels.settle(id);
        vm.assertEq(token.balanceOf(payee) - payeeBefore, 30 ether, "offline payee paid the newest unit");
    }

    // ---------------------------------------------------------------- 6. lying payee

    /// Both signed 20 MB; the payee inflates its claim to 25 MB (5 MB beyond the payer's unit, within the old
    /// link limit). An honest payer must not lose any of its deposit to the lie.
    function test_Attack_PayeeBurnsPayerDepositByInflatingClaim() public {
        uint256 id = _openConfirmed(payer);
        IBandwidthChannel.Usage memory agreed = _unit(id, 4, 20 * MB);
        _close(id, payerKey, payeeKey, payee, agreed);
        _tryClaim(id, payeeKey, _unit(id, 5, 25 * MB), agreed, payerKey);

        uint256 payerBefore = token.balanceOf(payer);
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        channels.settle(id);
        vm.assertEq(token.balanceOf(payer) - payerBefore, DEPOSIT - 20 ether, "honest payer pays only what it signed");
    }

    // ---------------------------------------------------------------- 19. real burn

    /// The payer contradicts a unit it signed (24 MB) with a lower claim; the disputed difference is burned and
    /// the total supply falls by exactly that amount.
    function test_Attack_BurnedTokensStayInCirculationAtADeadAddress() public {
        uint256 id = _openConfirmed(payer);
        IBandwidthChannel.Usage memory agreed = _unit(id, 4, 20 * MB);
        IBandwidthChannel.Usage memory proposed = _unit(id, 5, 24 * MB);
        _close(id, payerKey, payeeKey, payee, agreed);
        vm.assertTrue(_tryClaim(id, payeeKey, _unit(id, 6, 24 * MB + MB / 2), proposed, payerKey));
        vm.assertTrue(_tryClaim(id, payerKey, _unit(id, 6, 20 * MB), agreed, payeeKey));

        uint256 supplyBefore = token.totalSupply();
        IBandwidthChannel.Settlement memory s = channels.previewSettlement(id);
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        channels.settle(id);
        vm.assertTrue(s.disputed);
        vm.assertEq(s.burned, 4.5 ether);
        vm.assertEq(token.totalSupply(), supplyBefore - s.burned, "supply falls by the burned amount");
    }

    // ---------------------------------------------------------------- the rules behind the defences

    function _err3(bytes4 selector, uint256 id, uint256 a, uint256 b) private pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, id, a, b);
    }

    function testClaimIsRefusedBelowAgreedAboveToleranceOrTooFarInSequence() public {
        uint256 id = _openConfirmed(payer);
        IBandwidthChannel.Usage memory agreed = _unit(id, 4, 20 * MB);
        _close(id, payerKey, payeeKey, payer, agreed);
        bytes memory agreedByPayee = _sign(payeeKey, agreed);
        bytes32 link = channels.usageDigest(agreed);
        vm.startPrank(payer);

        IBandwidthChannel.Usage memory low = _unit(id, 5, 20 * MB - 1);
        low.link = link;
        bytes memory sig = _sign(payerKey, low);
        vm.expectRevert(
            _err3(IBandwidthChannel.BandwidthChannelClaimBelowAgreed.selector, id, 20 * MB - 1, 20 * MB)
        );
        channels.submitClaim(id, low, sig, agreed, agreedByPayee);

        IBandwidthChannel.Usage memory high = _unit(id, 5, 21 * MB + 1);
        high.link = link;
        sig = _sign(payerKey, high);
        vm.expectRevert(_err3(IBandwidthChannel.BandwidthChannelClaimTooHigh.selector, id, 21 * MB + 1, 21 * MB));
        channels.submitClaim(id, high, sig, agreed, agreedByPayee);
        // Without a linked unit the agreed count is the base too.
        high.link = bytes32(0);
        sig = _sign(payerKey, high);
        vm.expectRevert(_err3(IBandwidthChannel.BandwidthChannelClaimTooHigh.selector, id, 21 * MB + 1, 21 * MB));
        channels.submitClaim(id, high, sig, _empty(id), "");

        IBandwidthChannel.Usage memory far = _unit(id, 7, 20 * MB);
        sig = _sign(payerKey, far);
        vm.expectRevert(_err3(IBandwidthChannel.BandwidthChannelClaimSequenceTooHigh.selector, id, 7, 6));
        channels.submitClaim(id, far, sig, _empty(id), "");
        vm.stopPrank();

        // A linked unit of the other side raises both bases: the payer's own proposal lets the payee claim above.
        IBandwidthChannel.Usage memory proposal = _unit(id, 5, 23 * MB);
        IBandwidthChannel.Usage memory claim = _unit(id, 7, 24 * MB);
        vm.assertTrue(_tryClaim(id, payeeKey, claim, proposal, payerKey));
        vm.assertEq(channels.getChannel(id).payeeBytes, 24 * MB);
    }

    function testAClaimIsLiftedToALaterAgreedUnitAndVoidedByAnOutrankingOne() public {
        uint256 id = _openConfirmed(payer);
        IBandwidthChannel.Usage memory old = _unit(id, 3, 10 * MB);
        _close(id, payerKey, payeeKey, payer, old);
        vm.assertTrue(_tryClaim(id, payerKey, _unit(id, 5, 10 * MB), old, payeeKey));
        // Both signed 12 MB at sequence 4: the payer's claim still outranks it but counts at least 12 MB.
        IBandwidthChannel.Usage memory later = _unit(id, 4, 12 * MB);
        bytes memory a = _sign(payerKey, later);
        bytes memory b = _sign(payeeKey, later);
        vm.prank(stranger);
        channels.challenge(id, later, a, b);
        IBandwidthChannel.Settlement memory s = channels.previewSettlement(id);
        vm.assertFalse(s.disputed);
        vm.assertEq(s.paid, 12 ether);
        // A unit both signed at sequence 5 outranks the claim.
        IBandwidthChannel.Usage memory last = _unit(id, 5, 30 * MB);
        a = _sign(payerKey, last);
        b = _sign(payeeKey, last);
        vm.prank(stranger);
        channels.challenge(id, last, a, b);
        vm.assertEq(channels.previewSettlement(id).paid, 30 ether);
    }

    function testAWatchtowerSubmitsTheNewestUnitForEitherSide() public {
        uint256 id = _openConfirmed(payer);
        _close(id, payerKey, payeeKey, payee, _unit(id, 2, 5 * MB));
        IBandwidthChannel.Usage memory last = _unit(id, 9, 30 * MB);
        bytes memory a = _sign(payerKey, last);
        bytes memory b = _sign(payeeKey, last);
        vm.expectEmit(address(channels));
        emit IBandwidthChannel.ChannelChallenged(id, stranger, 9, 30 * MB);
        vm.prank(stranger);
        channels.challenge(id, last, a, b);
        // It can only replace the unit with a newer one both signed.
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelStaleUsage.selector, id, uint64(9), uint64(9))
        );
        vm.prank(stranger);
        channels.challenge(id, last, a, b);
        IBandwidthChannel.Usage memory forged = _unit(id, 10, 60 * MB);
        bytes memory forgedA = _sign(payerKey, forged);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelWrongSigner.selector, id, payee, payer)
        );
        vm.prank(stranger);
        channels.challenge(id, forged, forgedA, forgedA);
    }

    function testBlacklistNeedsAConfirmedChannelWithRealDeposit() public {
        vm.prank(stranger);
        uint256 unconfirmed = channels.open(payee, stranger, DEPOSIT, uint96(PRICE), TOLERANCE);
        vm.expectRevert(
            abi.encodeWithSelector(
                IBandwidthChannel.BandwidthChannelNotConfirmed.selector, unconfirmed, IBandwidthChannel.Status.Opened
            )
        );
        vm.prank(stranger);
        channels.blacklist(unconfirmed);

        vm.prank(stranger);
        uint256 small = channels.open(payee, stranger, 1 ether - 1, 1, 0);
        vm.prank(payee);
        channels.confirm(small, payee);
        vm.expectRevert(
            _err3(IBandwidthChannel.BandwidthChannelDepositTooSmall.selector, small, 1 ether - 1, 1 ether)
        );
        vm.prank(stranger);
        channels.blacklist(small);

        // Confirmed with a real deposit, the record stands, also after the channel settled.
        uint256 id = _openConfirmed(payer);
        vm.prank(payer);
        channels.close(id, _empty(id), "", "");
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        channels.settle(id);
        vm.prank(payer);
        channels.blacklist(id);
        vm.assertTrue(channels.isBlacklisted(payer, payee));
    }

    function testAClosingChannelHoldsItsSlotUntilSettled() public {
        uint256 id = _openConfirmed(payer);
        for (uint256 i = 0; i < 4; i++) {
            _openConfirmed(payer);
        }
        vm.prank(payee);
        channels.close(id, _empty(id), "", "");
        vm.assertEq(channels.openChannelsOf(payee), 5);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelPayeeFull.selector, payee, 5));
        vm.prank(stranger);
        channels.open(payee, stranger, DEPOSIT, uint96(PRICE), TOLERANCE);
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        channels.settle(id);
        vm.assertEq(channels.openChannelsOf(payee), 4);
        _openConfirmed(stranger);
    }

    /// Whatever claims the two ends of a route make (any count, any sequence, linked or not), a proxy that
    /// forwarded `forwarded` MB and signed exactly that on both legs ends with its lock back plus 10 %.
    function testFuzz_ProxyNeverEndsBelowItsLockPlusItsFee(
        uint256 forwarded,
        uint256 upBytes,
        uint64 upSeq,
        bool upLinked,
        uint256 downBytes,
        uint64 downSeq,
        bool downLinked
    ) public {
        forwarded = bound(forwarded, 1, 90);
        uint256 proxyStart = token.balanceOf(proxy);
        (uint256 up, uint256 down) = _routeBothSigned(forwarded * MB);
        _endClaim(up, payerKey, upSeq, upBytes, upLinked);
        _endClaim(down, payeeKey, downSeq, downBytes, downLinked);
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        channels.settle(up);
        channels.settle(down);
        vm.assertEq(token.balanceOf(proxy), proxyStart + forwarded * 0.1 ether, "lock plus 10 % of the payee's pay");
    }

    /// @dev A route of 100 at 1 TAB/MB whose legs both closed with `totalBytes` signed by the proxy and each end.
    function _routeBothSigned(uint256 totalBytes) private returns (uint256 up, uint256 down) {
        vm.prank(payer);
        up = channels.openRoute(proxy, payer, 100 ether, uint96(PRICE), TOLERANCE);
        vm.prank(proxy);
        channels.confirm(up, proxy);
        vm.prank(proxy);
        down = channels.openRouteLeg(up, payee, proxy);
        vm.prank(payee);
        channels.confirm(down, payee);
        _close(up, payerKey, proxyKey, payer, _unit(up, 10, totalBytes));
        _close(down, proxyKey, payeeKey, payee, _unit(down, 10, totalBytes));
    }

    /// @dev An end's claim of any count and sequence on leg `id`, linked or not to the unit the proxy signed.
    function _endClaim(uint256 id, uint256 key, uint64 seq, uint256 claimed, bool linked) private {
        IBandwidthChannel.Channel memory c = channels.getChannel(id);
        IBandwidthChannel.Usage memory signedByProxy = _unit(id, 10, c.agreedBytes);
        _tryClaim(id, key, _unit(id, seq, bound(claimed, 0, 200 * MB)), signedByProxy, linked ? proxyKey : 0);
    }

    /// Whatever a payee claims after both signed `agreedMB`, an honest payer that claims its own count loses no
    /// deposit to a burn and pays exactly what both signed: the lie never leaves the tolerance.
    function testFuzz_ALyingPayeeNeverBurnsAnHonestPayersDeposit(
        uint256 agreedMB,
        uint256 claimed,
        uint64 seq,
        uint256 tolerance,
        bool linked
    ) public {
        agreedMB = bound(agreedMB, 0, 90);
        tolerance = bound(tolerance, 0, 10 * MB);
        vm.prank(payer);
        uint256 id = channels.open(payee, payer, DEPOSIT, uint96(PRICE), uint96(tolerance));
        vm.prank(payee);
        channels.confirm(id, payee);
        IBandwidthChannel.Usage memory agreed = _unit(id, 4, agreedMB * MB);
        _close(id, payerKey, payeeKey, payee, agreed);
        _tryClaim(id, payeeKey, _unit(id, seq, bound(claimed, 0, 200 * MB)), agreed, linked ? payerKey : 0);
        vm.assertTrue(_tryClaim(id, payerKey, _unit(id, 6, agreedMB * MB), agreed, payeeKey), "honest claim");
        uint256 supplyBefore = token.totalSupply();
        uint256 payerBefore = token.balanceOf(payer);
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        channels.settle(id);
        vm.assertEq(token.totalSupply(), supplyBefore, "nothing burned");
        vm.assertEq(token.balanceOf(payer) - payerBefore, DEPOSIT - agreedMB * 1 ether, "payer pays what it signed");
    }
}
