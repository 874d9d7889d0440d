// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {BandwidthChannel} from "../BandwidthChannel.sol";
import {IBandwidthChannel} from "../interfaces/IBandwidthChannel.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {OperatorRegistry} from "../OperatorRegistry.sol";
import {Token} from "../Token.sol";
import {TestBase} from "./utils/Vm.sol";

/// @dev Operator keys on the bandwidth channel: each rule run as the attack that would break it.
contract BandwidthChannelOperatorsTest is TestBase {
    uint256 private constant MB = 1_000_000;
    uint96 private constant PRICE = 1 ether; // per MB
    uint96 private constant DEPOSIT = 100 ether;
    uint96 private constant TOLERANCE = uint96(1 * MB);
    uint64 private constant CONFIRM_WINDOW = 1 hours;
    uint64 private constant CHALLENGE_WINDOW = 1 days;
    uint8 private constant ROLE_PAYER = 4;
    uint8 private constant ROLE_PAYEE = 8;

    Token private token;
    OperatorRegistry private registry;
    BandwidthChannel private channels;
    uint256 private payerKey = 0xA11CE;
    uint256 private payeeKey = 0xB0B;
    uint256 private payerOpKey = 0xA0A0;
    uint256 private payeeOpKey = 0xB0B0;
    uint256 private strangerKey = 0xBAD;
    uint256 private strangerOpKey = 0xBAD0;
    address private payer;
    address private payee;
    address private payerOp;
    address private payeeOp;
    address private stranger;
    address private strangerOp;
    uint40 private expiry;

    function setUp() public {
        vm.warp(1_700_000_000);
        payer = vm.addr(payerKey);
        payee = vm.addr(payeeKey);
        payerOp = vm.addr(payerOpKey);
        payeeOp = vm.addr(payeeOpKey);
        stranger = vm.addr(strangerKey);
        strangerOp = vm.addr(strangerOpKey);
        token = new Token(address(this), 10_000_000 ether, true);
        registry = new OperatorRegistry();
        channels = new BandwidthChannel(IERC20(address(token)), registry, CONFIRM_WINDOW, CHALLENGE_WINDOW);
        address[3] memory owners = [payer, payee, stranger];
        for (uint256 i = 0; i < owners.length; i++) {
            token.transfer(owners[i], 1_000_000 ether);
            vm.prank(owners[i]);
            token.approve(address(channels), type(uint256).max);
        }
        expiry = uint40(block.timestamp + 30 days);
        _authorize(payer, payerOp, ROLE_PAYER);
        _authorize(payee, payeeOp, ROLE_PAYEE);
        _authorize(stranger, strangerOp, ROLE_PAYER | ROLE_PAYEE);
    }

    // ---------------------------------------------------------------- helpers

    function _authorize(address owner, address operator, uint8 roles) private {
        vm.prank(owner);
        registry.setOperator(operator, roles, expiry);
    }

    function _revoke(address owner, address operator) private {
        vm.prank(owner);
        registry.setOperator(operator, 0, 0);
    }

    /// @dev The tab's channel: the payer opens binding its operator, the payee's operator confirms binding itself.
    function _openWithOperators() private returns (uint256 id) {
        vm.prank(payer);
        id = channels.open(payee, payerOp, DEPOSIT, PRICE, TOLERANCE);
        vm.prank(payeeOp);
        channels.confirm(id, payeeOp);
    }

    function _unit(uint256 id, uint64 seq, uint256 totalBytes) private view returns (IBandwidthChannel.Usage memory) {
        return IBandwidthChannel.Usage(id, seq, uint128(totalBytes), uint64(block.timestamp), bytes32(0));
    }

    function _sign(uint256 key, IBandwidthChannel.Usage memory u) private view returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, channels.usageDigest(u));
        return abi.encodePacked(r, s, v);
    }

    function _close(uint256 id, address by, IBandwidthChannel.Usage memory u) private {
        bytes memory a = _sign(payerOpKey, u);
        bytes memory b = _sign(payeeOpKey, u);
        vm.prank(by);
        channels.close(id, u, a, b);
    }

    function _settle(uint256 id) private returns (IBandwidthChannel.Settlement memory s) {
        vm.warp(block.timestamp + CHALLENGE_WINDOW + 1);
        s = channels.previewSettlement(id);
        channels.settle(id);
    }

    function _notOperator(address owner, address signer, uint8 role) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelNotOperator.selector, owner, signer, role);
    }

    function _err(bytes4 selector, uint256 id, address who) private pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, id, who);
    }

    function _wrongSigner(uint256 id, address expected, address signer) private pure returns (bytes memory) {
        return abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelWrongSigner.selector, id, expected, signer);
    }

    // ---------------------------------------------------------------- binding

    function testBothBoundKeysAreStoredAndAnnounced() public {
        vm.assertEq(address(channels.operators()), address(registry));
        vm.expectEmit(address(channels));
        emit IBandwidthChannel.ChannelOpened(
            1, payer, payee, payerOp, DEPOSIT, PRICE, TOLERANCE, block.timestamp + CONFIRM_WINDOW
        );
        vm.prank(payer);
        uint256 id = channels.open(payee, payerOp, DEPOSIT, PRICE, TOLERANCE);
        IBandwidthChannel.Channel memory c = channels.getChannel(id);
        vm.assertEq(c.payer, payer);
        vm.assertEq(c.payerSigner, payerOp);
        vm.assertEq(c.payeeSigner, address(0));
        vm.expectEmit(address(channels));
        emit IBandwidthChannel.ChannelConfirmed(id, payee, payeeOp);
        vm.prank(payeeOp);
        channels.confirm(id, payeeOp);
        c = channels.getChannel(id);
        vm.assertEq(c.payee, payee);
        vm.assertEq(c.payeeSigner, payeeOp);
        vm.assertEq(c.deposit, DEPOSIT);
        vm.assertEq(c.pricePerMB, PRICE);
        vm.assertEq(c.lossToleranceBytes, TOLERANCE);
        vm.assertEq(uint256(c.status), uint256(IBandwidthChannel.Status.Active));
    }

    /// A key the payer never authorized, one that expired, one authorized for another role, and zero cannot be
    /// bound as the payer's signer.
    function test_Attack_PayerBindsAKeyItDoesNotControl() public {
        vm.startPrank(payer);
        vm.expectRevert(_notOperator(payer, strangerOp, ROLE_PAYER));
        channels.open(payee, strangerOp, DEPOSIT, PRICE, TOLERANCE);
        vm.expectRevert(_notOperator(payer, payeeOp, ROLE_PAYER));
        channels.open(payee, payeeOp, DEPOSIT, PRICE, TOLERANCE);
        vm.expectRevert(_notOperator(payer, address(0), ROLE_PAYER));
        channels.open(payee, address(0), DEPOSIT, PRICE, TOLERANCE);
        vm.stopPrank();

        address wrongRole = vm.addr(0xC0C0);
        _authorize(payer, wrongRole, ROLE_PAYEE);
        vm.expectRevert(_notOperator(payer, wrongRole, ROLE_PAYER));
        vm.prank(payer);
        channels.open(payee, wrongRole, DEPOSIT, PRICE, TOLERANCE);

        vm.warp(expiry);
        vm.expectRevert(_notOperator(payer, payerOp, ROLE_PAYER));
        vm.prank(payer);
        channels.open(payee, payerOp, DEPOSIT, PRICE, TOLERANCE);

        _revoke(stranger, strangerOp);
        vm.expectRevert(_notOperator(stranger, strangerOp, ROLE_PAYER));
        vm.prank(stranger);
        channels.openRoute(payee, strangerOp, DEPOSIT, PRICE, TOLERANCE);
        vm.assertEq(token.balanceOf(address(channels)), 0, "nothing opened");
    }

    /// Opening moves the owner's money: an operator calling open opens a channel of its own (and here has no
    /// tokens), never one funded by its owner; the proxy's operator cannot open the proxy's downstream leg.
    function test_Attack_OperatorOpensWithItsOwnersMoney() public {
        uint256 payerBefore = token.balanceOf(payer);
        vm.expectRevert();
        vm.prank(payerOp);
        channels.open(payee, payerOp, DEPOSIT, PRICE, TOLERANCE);
        vm.assertEq(token.balanceOf(payer), payerBefore);

        vm.prank(payer);
        uint256 up = channels.openRoute(payee, payerOp, DEPOSIT, PRICE, TOLERANCE);
        vm.prank(payeeOp);
        channels.confirm(up, payeeOp);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotPayee.selector, up, payeeOp));
        vm.prank(payeeOp);
        channels.openRouteLeg(up, stranger, payeeOp);
    }

    /// A key the payee never authorized, one authorized only as a payer key, or one that expired cannot be bound
    /// as the payee's signer, nor confirm.
    function test_Attack_PayeeBindsAKeyItDoesNotControl() public {
        vm.prank(payer);
        uint256 id = channels.open(payee, payerOp, DEPOSIT, PRICE, TOLERANCE);
        vm.startPrank(payee);
        vm.expectRevert(_notOperator(payee, strangerOp, ROLE_PAYEE));
        channels.confirm(id, strangerOp);
        vm.expectRevert(_notOperator(payee, address(0), ROLE_PAYEE));
        channels.confirm(id, address(0));
        vm.stopPrank();

        address payerRoleOnly = vm.addr(0xC0C1);
        _authorize(payee, payerRoleOnly, ROLE_PAYER);
        vm.expectRevert(_notOperator(payee, payerRoleOnly, ROLE_PAYEE));
        vm.prank(payee);
        channels.confirm(id, payerRoleOnly);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotPayee.selector, id, payerRoleOnly));
        vm.prank(payerRoleOnly);
        channels.confirm(id, payerRoleOnly);

        vm.warp(expiry);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotPayee.selector, id, payeeOp));
        vm.prank(payeeOp);
        channels.confirm(id, payeeOp);
        vm.assertEq(uint256(channels.getChannel(id).status), uint256(IBandwidthChannel.Status.Opened));
    }

    /// The payee binds the payer itself or the payer's bound key as its own signer, so one key would sign both
    /// sides: refused even when the payee authorized that key.
    function test_Attack_PayeeBindsThePayersKey() public {
        vm.prank(payer);
        uint256 id = channels.open(payee, payerOp, DEPOSIT, PRICE, TOLERANCE);
        vm.expectRevert(_notOperator(payee, payer, ROLE_PAYEE));
        vm.prank(payee);
        channels.confirm(id, payer);

        _authorize(payee, payer, ROLE_PAYEE);
        _authorize(payee, payerOp, ROLE_PAYEE);
        vm.startPrank(payee);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelSharedSigner.selector, id, payer));
        channels.confirm(id, payer);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelSharedSigner.selector, id, payerOp));
        channels.confirm(id, payerOp);
        vm.stopPrank();
        // Sent by the shared key itself, on its own behalf, it is refused the same way.
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelSharedSigner.selector, id, payerOp));
        vm.prank(payerOp);
        channels.confirm(id, payerOp);
    }

    // ---------------------------------------------------------------- revocation keeps what was signed

    /// Both bound keys signed 50 MB; the payer then revokes its operator (and the payee's expires) hoping to void
    /// the units. The unit still closes and settles and the payee is paid 50 MB.
    function test_Attack_PayerRevokesItsOperatorToVoidSignedUnits() public {
        uint256 id = _openWithOperators();
        IBandwidthChannel.Usage memory agreed = _unit(id, 10, 50 * MB);
        bytes memory a = _sign(payerOpKey, agreed);
        bytes memory b = _sign(payeeOpKey, agreed);
        _revoke(payer, payerOp);
        vm.warp(expiry);
        vm.prank(payee);
        channels.close(id, agreed, a, b);
        uint256 payeeBefore = token.balanceOf(payee);
        IBandwidthChannel.Settlement memory s = _settle(id);
        vm.assertEq(s.paid, 50 ether);
        vm.assertEq(token.balanceOf(payee) - payeeBefore, 50 ether, "payee paid what both signed");
    }

    /// After its operator closed with an old unit, the payer revokes it: a watchtower's later unit signed by that key
    /// still replaces the old one, and the payee's claim linked to that key's last proposal still counts above it.
    function test_Attack_RevokingVoidsNeitherAChallengeNorALinkedUnit() public {
        uint256 id = _openWithOperators();
        IBandwidthChannel.Usage memory old = _unit(id, 3, 10 * MB);
        IBandwidthChannel.Usage memory last = _unit(id, 9, 40 * MB);
        IBandwidthChannel.Usage memory proposal = _unit(id, 10, 45 * MB);
        bytes memory lastA = _sign(payerOpKey, last);
        bytes memory lastB = _sign(payeeOpKey, last);
        bytes memory proposalA = _sign(payerOpKey, proposal);
        _close(id, payerOp, old);
        _revoke(payer, payerOp);
        channels.challenge(id, last, lastA, lastB);
        IBandwidthChannel.Usage memory claim = _unit(id, 11, 46 * MB);
        claim.link = channels.usageDigest(proposal);
        bytes memory claimSig = _sign(payeeOpKey, claim);
        vm.prank(payeeOp);
        channels.submitClaim(id, claim, claimSig, proposal, proposalA);
        IBandwidthChannel.Channel memory c = channels.getChannel(id);
        vm.assertEq(c.payeeBytes, 46 * MB);
        vm.assertEq(c.agreedBytes, 40 * MB);
        // The payer made no claim of its own: the dispute rule pays the agreed 40 MB and burns the rest.
        IBandwidthChannel.Settlement memory s = _settle(id);
        vm.assertTrue(s.disputed);
        vm.assertEq(s.paid, 40 ether);
        vm.assertEq(s.burned, 6 ether);
    }

    // ---------------------------------------------------------------- units signed by an unbound key

    /// The owners' own keys are not the bound ones once operators are bound: their units are refused.
    function test_Attack_OwnersSignWhenOperatorsAreBound() public {
        uint256 id = _openWithOperators();
        IBandwidthChannel.Usage memory u = _unit(id, 5, 20 * MB);
        bytes memory byPayer = _sign(payerKey, u);
        bytes memory byPayee = _sign(payeeKey, u);
        bytes memory byPayerOp = _sign(payerOpKey, u);
        bytes memory byPayeeOp = _sign(payeeOpKey, u);
        vm.startPrank(payee);
        vm.expectRevert(_wrongSigner(id, payerOp, payer));
        channels.close(id, u, byPayer, byPayeeOp);
        vm.expectRevert(_wrongSigner(id, payeeOp, payee));
        channels.close(id, u, byPayerOp, byPayee);
        vm.stopPrank();

        _close(id, payeeOp, _unit(id, 1, 1 * MB));
        vm.startPrank(payer);
        vm.expectRevert(_wrongSigner(id, payerOp, payer));
        channels.challenge(id, u, byPayer, byPayeeOp);
        IBandwidthChannel.Usage memory empty;
        IBandwidthChannel.Usage memory own = _unit(id, 2, 1 * MB);
        bytes memory ownSig = _sign(payerKey, own);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelNotSignedByParty.selector, id, payer)
        );
        channels.submitClaim(id, own, ownSig, empty, "");
        // A claim by the bound key linked to a unit the payee owner signed: the link is not the payee's.
        IBandwidthChannel.Usage memory linked = _unit(id, 2, 2 * MB);
        IBandwidthChannel.Usage memory claim = _unit(id, 3, 2 * MB);
        claim.link = channels.usageDigest(linked);
        bytes memory claimSig = _sign(payerOpKey, claim);
        bytes memory linkedSig = _sign(payeeKey, linked);
        vm.expectRevert(_wrongSigner(id, payeeOp, payee));
        channels.submitClaim(id, claim, claimSig, linked, linkedSig);
        vm.stopPrank();
    }

    /// The payer holds two live operators and bound the second: units of the first are refused, and so are the
    /// payee owner's once the payee bound itself and an operator of the payee signs.
    function test_Attack_AnotherLiveOperatorSignsForTheBoundOne() public {
        address secondOp = vm.addr(0xA0A1);
        _authorize(payer, secondOp, ROLE_PAYER);
        vm.prank(payer);
        uint256 id = channels.open(payee, secondOp, DEPOSIT, PRICE, TOLERANCE);
        vm.prank(payeeOp);
        channels.confirm(id, payee);
        vm.assertEq(channels.getChannel(id).payeeSigner, payee, "an operator may confirm binding its owner");
        IBandwidthChannel.Usage memory u = _unit(id, 5, 20 * MB);
        bytes memory byFirstOp = _sign(payerOpKey, u);
        bytes memory byPayee = _sign(payeeKey, u);
        bytes memory byPayeeOp = _sign(payeeOpKey, u);
        vm.expectRevert(_wrongSigner(id, secondOp, payerOp));
        vm.prank(payerOp);
        channels.close(id, u, byFirstOp, byPayee);
        bytes memory bySecondOp = _sign(0xA0A1, u);
        vm.expectRevert(_wrongSigner(id, payee, payeeOp));
        vm.prank(secondOp);
        channels.close(id, u, bySecondOp, byPayeeOp);
        vm.prank(secondOp);
        channels.close(id, u, bySecondOp, byPayee);
        vm.assertEq(_settle(id).paid, 20 ether);
    }

    // ---------------------------------------------------------------- routine calls

    /// A stranger's operator (live, for both roles of the stranger) cannot confirm, close, claim, blacklist or
    /// reclaim someone else's channel.
    function test_Attack_StrangersOperatorActsOnAChannel() public {
        vm.prank(payer);
        uint256 pending = channels.open(payee, payerOp, DEPOSIT, PRICE, TOLERANCE);
        vm.startPrank(strangerOp);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotPayee.selector, pending, strangerOp));
        channels.confirm(pending, payeeOp);
        vm.warp(block.timestamp + CONFIRM_WINDOW + 1);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotPayer.selector, pending, strangerOp));
        channels.reclaim(pending);
        vm.stopPrank();

        uint256 id = _openWithOperators();
        IBandwidthChannel.Usage memory u = _unit(id, 5, 20 * MB);
        bytes memory a = _sign(payerOpKey, u);
        bytes memory b = _sign(payeeOpKey, u);
        vm.startPrank(strangerOp);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotParty.selector, id, strangerOp));
        channels.close(id, u, a, b);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotParty.selector, id, strangerOp));
        channels.blacklist(id);
        vm.stopPrank();
        _close(id, payeeOp, u);
        IBandwidthChannel.Usage memory claim = _unit(id, 6, 20 * MB);
        bytes memory claimSig = _sign(payerOpKey, claim);
        IBandwidthChannel.Usage memory empty;
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotParty.selector, id, strangerOp));
        vm.prank(strangerOp);
        channels.submitClaim(id, claim, claimSig, empty, "");
        // The payee's operator is not the payer's: it cannot reclaim a payer's deposit.
        vm.prank(payer);
        uint256 other = channels.open(payee, payerOp, DEPOSIT, PRICE, TOLERANCE);
        vm.warp(block.timestamp + CONFIRM_WINDOW + 1);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotPayer.selector, other, payeeOp));
        vm.prank(payeeOp);
        channels.reclaim(other);
    }

    /// Operators close, claim, blacklist and reclaim for their owners: every token goes to an owner, none to an
    /// operator, and a blacklist is the owner's.
    function testOperatorRoutineCallsPayOnlyTheOwners() public {
        uint256 id = _openWithOperators();
        _close(id, payerOp, _unit(id, 5, 30 * MB));
        IBandwidthChannel.Usage memory claim = _unit(id, 6, 30 * MB + TOLERANCE);
        bytes memory claimSig = _sign(payeeOpKey, claim);
        IBandwidthChannel.Usage memory empty;
        vm.prank(payeeOp);
        channels.submitClaim(id, claim, claimSig, empty, "");
        vm.assertEq(channels.getChannel(id).payeeBytes, 30 * MB + TOLERANCE);
        uint256 payerBefore = token.balanceOf(payer);
        uint256 payeeBefore = token.balanceOf(payee);
        _settle(id);
        vm.assertEq(token.balanceOf(payee) - payeeBefore, 30 ether);
        vm.assertEq(token.balanceOf(payer) - payerBefore, 70 ether);

        vm.prank(payeeOp);
        channels.blacklist(id);
        vm.assertTrue(channels.isBlacklisted(payee, payer), "recorded for the owner");
        vm.assertFalse(channels.isBlacklisted(payeeOp, payer));
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelBlacklisted.selector, payer, payee)
        );
        vm.prank(payer);
        channels.open(payee, payerOp, DEPOSIT, PRICE, TOLERANCE);

        vm.prank(payer);
        uint256 pending = channels.open(stranger, payerOp, DEPOSIT, PRICE, TOLERANCE);
        vm.warp(block.timestamp + CONFIRM_WINDOW + 1);
        payerBefore = token.balanceOf(payer);
        vm.prank(payerOp);
        channels.reclaim(pending);
        vm.assertEq(token.balanceOf(payer) - payerBefore, DEPOSIT, "the deposit goes back to the payer");
        vm.assertEq(token.balanceOf(payerOp), 0);
        vm.assertEq(token.balanceOf(payeeOp), 0);
    }

    /// Once revoked (or expired), an operator can no longer close, claim or reclaim; the owner still can.
    function test_Attack_RevokedOperatorKeepsActing() public {
        vm.prank(payer);
        uint256 pending = channels.open(payee, payerOp, DEPOSIT, PRICE, TOLERANCE);
        uint256 id = _openWithOperators();
        IBandwidthChannel.Usage memory u = _unit(id, 5, 20 * MB);
        bytes memory a = _sign(payerOpKey, u);
        bytes memory b = _sign(payeeOpKey, u);
        _revoke(payer, payerOp);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotParty.selector, id, payerOp));
        vm.prank(payerOp);
        channels.close(id, u, a, b);
        vm.warp(block.timestamp + CONFIRM_WINDOW + 1);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotPayer.selector, pending, payerOp));
        vm.prank(payerOp);
        channels.reclaim(pending);
        vm.prank(payer);
        channels.reclaim(pending);

        vm.warp(expiry);
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotParty.selector, id, payeeOp));
        vm.prank(payeeOp);
        channels.close(id, u, a, b);
        vm.prank(payee);
        channels.close(id, u, a, b);
        IBandwidthChannel.Usage memory claim = _unit(id, 6, 20 * MB);
        bytes memory claimSig = _sign(payeeOpKey, claim);
        IBandwidthChannel.Usage memory empty;
        vm.expectRevert(_err(IBandwidthChannel.BandwidthChannelNotParty.selector, id, payeeOp));
        vm.prank(payeeOp);
        channels.submitClaim(id, claim, claimSig, empty, "");
        vm.prank(payee);
        channels.submitClaim(id, claim, claimSig, empty, "");
        vm.assertEq(_settle(id).paid, 20 ether);
    }

    // ---------------------------------------------------------------- narrowed types

    function testCountsAndRoutesThatDoNotFitAreRefused() public {
        uint256 id = _openWithOperators();
        uint256 tooMany = uint256(type(uint64).max) + 1;
        IBandwidthChannel.Usage memory u = _unit(id, 5, tooMany);
        bytes memory a = _sign(payerOpKey, u);
        bytes memory b = _sign(payeeOpKey, u);
        vm.expectRevert(
            abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelCountTooLarge.selector, id, tooMany)
        );
        vm.prank(payer);
        channels.close(id, u, a, b);

        uint96 big = type(uint96).max / 100 * 91 + 1;
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelRouteTooLarge.selector, big, PRICE));
        vm.prank(payer);
        channels.openRoute(payee, payer, big, PRICE, TOLERANCE);
        vm.expectRevert(abi.encodeWithSelector(IBandwidthChannel.BandwidthChannelRouteTooLarge.selector, DEPOSIT, big));
        vm.prank(payer);
        channels.openRoute(payee, payer, DEPOSIT, big, TOLERANCE);

        vm.expectRevert(IBandwidthChannel.BandwidthChannelZeroAddress.selector);
        new BandwidthChannel(IERC20(address(token)), IOperatorRegistry(address(0)), CONFIRM_WINDOW, CHALLENGE_WINDOW);
    }
}
