// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ILottery} from "../interfaces/ILottery.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {Lottery} from "../Lottery.sol";
import {PaymentFunding} from "../libraries/PaymentFunding.sol";
import {LotteryFixture} from "./Lottery.t.sol";

/// @dev Operator keys in the lottery, each rule as the attack that would break it: the key bound at creation is the
/// only one whose tickets count, revoking it voids nothing, only authorized keys are bound, and an operator acts
/// only for its own owner and role, sends tokens only to owners, and stops when revoked or expired.
contract LotteryOperatorsTest is LotteryFixture {
    uint8 internal constant PAYER_ROLE = 4;
    uint8 internal constant PAYEE_ROLE = 8;

    uint256 internal tabKey = 0x7AB;
    uint256 internal secondTabKey = 0x7AC;
    address internal tab; // the payer's tab
    address internal secondTab; // another key the payer authorizes
    address internal bobTab = address(0xB0B7AB); // bob's tab
    address internal carolTab = address(0xCA7AB); // carol's tab
    uint40 internal expiry;

    function setUp() public override {
        super.setUp();
        tab = vm.addr(tabKey);
        secondTab = vm.addr(secondTabKey);
        expiry = uint40(block.timestamp + 30 days);
        vm.prank(payer);
        registry.setOperator(tab, PAYER_ROLE, expiry);
        vm.prank(payer);
        registry.setOperator(secondTab, PAYER_ROLE, expiry);
        vm.prank(bob);
        registry.setOperator(bobTab, PAYEE_ROLE, expiry);
        vm.prank(carol);
        registry.setOperator(carolTab, PAYEE_ROLE, expiry);
    }

    function _createBound(address signer) internal returns (uint256 lotId) {
        lotId = _createBound(signer, _list(bob));
    }

    function _createBound(address signer, address[] memory covered) internal returns (uint256 lotId) {
        vm.prank(payer);
        lotId = lottery.createLot(SIZE, VALUE, keccak256(abi.encode(payer, SECRET)), closeBy, covered, signer);
    }

    function _sigBy(uint256 key, uint256 lotId, uint32 index, address payee, uint256 nonce)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, lottery.ticketDigest(lotId, index, payee, nonce));
        return abi.encodePacked(r, s, v);
    }

    function _claims(uint256 key, uint256 lotId, address payee)
        internal
        view
        returns (ILottery.TicketClaim[] memory c)
    {
        c = new ILottery.TicketClaim[](2);
        c[0] = ILottery.TicketClaim(0, 1, _sigBy(key, lotId, 0, payee, 1));
        c[1] = ILottery.TicketClaim(1, 2, _sigBy(key, lotId, 1, payee, 2));
    }

    function _revoke(address owner, address operator) internal {
        vm.prank(owner);
        registry.setOperator(operator, 0, 0);
    }

    function _expectNotOperator(address owner, address account, uint8 role) internal {
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotOperator.selector, owner, account, role));
    }

    /// @dev Closes the lot and moves past its reveal window: the lot is open for sharing.
    function _toSharing(uint256 lotId) internal {
        _close(lotId);
        vm.warp(block.timestamp + REVEAL_WINDOW + 1);
    }

    // ------------------------------------------------------------------ binding

    function testTheOperatorKeyBoundAtCreationSignsTheLotsTickets() public {
        uint256 lotId = _createBound(tab);
        vm.assertEq(lottery.signerOf(lotId), tab);
        vm.assertEq(lottery.getLot(lotId).signerKey, lotId);
        vm.assertEq(address(lottery.operators()), address(registry));
        uint256 own = _create(SIZE);
        vm.assertEq(lottery.signerOf(own), payer);
        vm.assertEq(lottery.getLot(own).signerKey, 0);
        vm.assertEq(lottery.signerOf(99), address(0));

        uint256 w = _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        bytes memory sig = _sigBy(tabKey, lotId, uint32(w), bob, 7);
        vm.prank(bob);
        lottery.redeem(lotId, bob, uint32(w), 7, sig);
        vm.assertEq(token.balanceOf(bob), LOT);
    }

    function testAKeyIsStoredOnceAndEveryLaterLotBindsItUnderTheSameId() public {
        uint256 first = _createBound(tab);
        uint256 second = _createBound(tab);
        uint256 other = _createBound(secondTab);
        vm.assertEq(lottery.getLot(second).signerKey, first);
        vm.assertEq(lottery.getLot(other).signerKey, other);
        // Revoked and authorized again: the same key, the same id.
        _revoke(payer, tab);
        vm.prank(payer);
        registry.setOperator(tab, PAYER_ROLE, expiry);
        uint256 third = _createBound(tab);
        vm.assertEq(lottery.getLot(third).signerKey, first);
        vm.assertEq(lottery.signerOf(third), tab);
        // Another payer binding its own key gets its own id, never the first payer's.
        vm.prank(sybil);
        registry.setOperator(tab, PAYER_ROLE, expiry);
        token.transfer(sybil, 10 ether);
        vm.startPrank(sybil);
        token.approve(address(lottery), type(uint256).max);
        bytes32 commitment = keccak256(abi.encode(sybil, SECRET));
        uint256 theirs = lottery.createLot(SIZE, VALUE, commitment, closeBy, new address[](0), tab);
        vm.stopPrank();
        vm.assertEq(lottery.getLot(theirs).signerKey, theirs);
    }

    function test_Attack_PayerRevokesItsOperatorAfterIssuingToVoidTheWinnersTicket() public {
        uint256 lotId = _createBound(tab);
        bytes memory sig = _sigBy(tabKey, lotId, 2, bob, 22);
        // Bob was paid with a ticket for index 2; the payer revokes the key that signed it.
        _revoke(payer, tab);
        vm.assertEq(lottery.signerOf(lotId), tab);
        uint256 w = _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        vm.assertEq(w, 2);
        vm.prank(bob);
        lottery.redeem(lotId, bob, 2, 22, sig);
        vm.assertEq(token.balanceOf(bob), LOT);
    }

    function test_Attack_PayerLetsItsOperatorExpireToVoidTicketsRegisteredForSharing() public {
        vm.prank(payer);
        registry.setOperator(tab, PAYER_ROLE, uint40(block.timestamp + 1 hours));
        uint256 lotId = _createBound(tab);
        ILottery.TicketClaim[] memory bobs = _claims(tabKey, lotId, bob);
        // The reveal is withheld until the key has expired: bob's tickets still register and share the lot.
        _toSharing(lotId);
        vm.assertFalse(registry.actsFor(payer, tab, PAYER_ROLE));
        vm.prank(bob);
        lottery.registerTickets(lotId, bob, bobs);
        vm.warp(block.timestamp + SHARE_WINDOW);
        vm.prank(bob);
        lottery.withdrawShare(lotId, bob);
        vm.assertEq(token.balanceOf(bob), LOT);
    }

    function test_Attack_PayerRevokesItsOperatorToVoidTicketsRegisteredForSharing() public {
        uint256 lotId = _createBound(tab);
        ILottery.TicketClaim[] memory bobs = _claims(tabKey, lotId, bob);
        _revoke(payer, tab);
        _toSharing(lotId);
        vm.prank(bob);
        lottery.registerTickets(lotId, bob, bobs);
        vm.assertEq(lottery.registeredBy(lotId, bob), 2);
        vm.warp(block.timestamp + SHARE_WINDOW);
        vm.prank(bob);
        lottery.withdrawShare(lotId, bob);
        vm.assertEq(token.balanceOf(bob), LOT);
    }

    function test_Attack_PayerRevokesItsOperatorToVoidTheCoverOfARobbedWinner() public {
        uint256 lotId = _createBound(tab);
        bytes memory bobs = _sigBy(tabKey, lotId, 2, bob, 22);
        // The payer signs the winning index again for its own address, redeems it first, then revokes the key.
        bytes memory stolen = _sigBy(tabKey, lotId, 2, sybil, 666);
        _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        vm.prank(sybil);
        lottery.redeem(lotId, sybil, 2, 666, stolen);
        _revoke(payer, tab);
        vm.prank(carol);
        lottery.claimCover(lotId, ILottery.Ticket(2, bob, 22), bobs);
        vm.assertEq(token.balanceOf(bob), LOT);
    }

    function test_Attack_PayerBindsAKeyItNeverAuthorized() public {
        uint256 strangerKey = 0x5757;
        address stranger = vm.addr(strangerKey);
        _expectUnauthorized(payer, stranger);
        _createBound(stranger);
        _expectUnauthorized(payer, address(0));
        _createBound(address(0));
        // A key authorized by someone else (for that owner's lots only).
        vm.prank(sybil);
        registry.setOperator(stranger, PAYER_ROLE, expiry);
        _expectUnauthorized(payer, stranger);
        _createBound(stranger);
        // A key the payer authorized for another role.
        vm.prank(payer);
        registry.setOperator(stranger, PAYEE_ROLE, expiry);
        _expectUnauthorized(payer, stranger);
        _createBound(stranger);
        // A key whose authorization expired, or was revoked.
        vm.warp(uint256(expiry));
        _expectUnauthorized(payer, tab);
        closeBy = uint40(block.timestamp + 1 days);
        _createBound(tab);
        vm.warp(uint256(expiry) - 1);
        _revoke(payer, secondTab);
        _expectUnauthorized(payer, secondTab);
        _createBound(secondTab);
        // Nothing was funded.
        vm.assertEq(token.balanceOf(address(lottery)), 0);
    }

    function test_Attack_AnotherPayerBindsThePayersOperatorKey() public {
        token.transfer(sybil, 10 ether);
        vm.startPrank(sybil);
        token.approve(address(lottery), type(uint256).max);
        _expectUnauthorized(sybil, tab);
        lottery.createLot(SIZE, VALUE, keccak256(abi.encode(sybil, SECRET)), closeBy, new address[](0), tab);
        vm.stopPrank();
    }

    function test_Attack_UnauthorizedKeyBoundThroughThePermitPath() public {
        PaymentFunding.Permit memory permit;
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryUnauthorizedSigner.selector, payer, bobTab));
        vm.prank(payer);
        lottery.createLotWithPermit(SIZE, VALUE, SECRET, closeBy, new address[](0), bobTab, permit);
    }

    function _expectUnauthorized(address owner, address signer) internal {
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryUnauthorizedSigner.selector, owner, signer));
    }

    // ------------------------------------------------------------------ tickets from unbound keys

    function test_Attack_PayerSignsTheWinningIndexWithItsOwnWalletWhenAnOperatorIsBound() public {
        uint256 lotId = _createBound(tab, _list(bob, sybil));
        _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        // The payer's own wallet signature and another authorized key's signature are not this lot's tickets.
        bytes memory own = _sigBy(payerKey, lotId, 2, sybil, 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, payer));
        vm.prank(sybil);
        lottery.redeem(lotId, sybil, 2, 1, own);
        bytes memory second = _sigBy(secondTabKey, lotId, 2, sybil, 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, secondTab));
        vm.prank(sybil);
        lottery.redeem(lotId, sybil, 2, 1, second);
        // Nor can such a ticket draw on a cover.
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, payer));
        lottery.claimCover(lotId, ILottery.Ticket(2, sybil, 1), own);
        vm.assertEq(token.balanceOf(sybil), 0);
    }

    function test_Attack_TicketsFromUnboundKeysRegisteredForSharing() public {
        uint256 lotId = _createBound(tab);
        _toSharing(lotId);
        ILottery.TicketClaim[] memory own = _claims(payerKey, lotId, sybil);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, payer));
        vm.prank(sybil);
        lottery.registerTickets(lotId, sybil, own);
        vm.assertEq(lottery.registeredBy(lotId, sybil), 0);
    }

    function test_Attack_AnAuthorizedOperatorSignsForALotThePayerSignsItself() public {
        uint256 lotId = _create(SIZE, _list(bob));
        _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        bytes memory byTab = _sigBy(tabKey, lotId, 2, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, tab));
        vm.prank(bob);
        lottery.redeem(lotId, bob, 2, 1, byTab);
    }

    // ------------------------------------------------------------------ routine calls

    function testThePayersOperatorClosesEarlyAndTheLotIsDrawnAsAnyOther() public {
        uint256 lotId = _createBound(tab);
        vm.expectEmit(address(lottery));
        emit ILottery.LotClosed(lotId, tab, block.number + 1, block.timestamp + REVEAL_WINDOW);
        vm.prank(tab);
        lottery.closeLot(lotId);
        vm.assertEq(uint256(lottery.getLot(lotId).status), uint256(ILottery.Status.Closed));
    }

    function test_Attack_AStrangersOperatorClosesTheLotEarly() public {
        uint256 lotId = _createBound(tab);
        vm.prank(sybil);
        registry.setOperator(carolTab, PAYER_ROLE, expiry);
        // Sybil's payer operator, bob's payee operator and the payer's payee-role key cannot close before closeBy.
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryStillIssuing.selector, lotId, closeBy));
        vm.prank(carolTab);
        lottery.closeLot(lotId);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryStillIssuing.selector, lotId, closeBy));
        vm.prank(bobTab);
        lottery.closeLot(lotId);
        vm.prank(payer);
        registry.setOperator(bobTab, PAYEE_ROLE, expiry);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryStillIssuing.selector, lotId, closeBy));
        vm.prank(bobTab);
        lottery.closeLot(lotId);
    }

    function test_Attack_ThePayersOperatorMovesThePayersMoney() public {
        uint256 lotId = _createBound(tab);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotPayer.selector, lotId, tab));
        vm.prank(tab);
        lottery.coverPayees(lotId, _list(carol));
        // Funding a lot "for" the payer is funding it from the operator's own account: the operator is its payer.
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryUnauthorizedSigner.selector, tab, payer));
        vm.prank(tab);
        lottery.createLot(SIZE, VALUE, SECRET, closeBy, new address[](0), payer);
    }

    function test_Attack_AStrangersOperatorRedeemsRegistersOrWithdrawsForAPayee() public {
        uint256 lotId = _createBound(tab);
        uint256 w = _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        bytes memory sig = _sigBy(tabKey, lotId, uint32(w), bob, 7);
        // Carol's tab, the payer's tab and a payee-role key bob gave nothing cannot act for bob.
        _expectNotOperator(bob, carolTab, PAYEE_ROLE);
        vm.prank(carolTab);
        lottery.redeem(lotId, bob, uint32(w), 7, sig);
        _expectNotOperator(bob, tab, PAYEE_ROLE);
        vm.prank(tab);
        lottery.redeem(lotId, bob, uint32(w), 7, sig);
        // Bob's key for the payer role only is not his payee operator.
        address bobPayerKey = address(0xB0B4);
        vm.prank(bob);
        registry.setOperator(bobPayerKey, PAYER_ROLE, expiry);
        _expectNotOperator(bob, bobPayerKey, PAYEE_ROLE);
        vm.prank(bobPayerKey);
        lottery.redeem(lotId, bob, uint32(w), 7, sig);

        uint256 shared = _createBound(tab);
        ILottery.TicketClaim[] memory bobs = _claims(tabKey, shared, bob);
        _toSharing(shared);
        _expectNotOperator(bob, carolTab, PAYEE_ROLE);
        vm.prank(carolTab);
        lottery.registerTickets(shared, bob, bobs);
        vm.prank(bob);
        lottery.registerTickets(shared, bob, bobs);
        vm.warp(block.timestamp + SHARE_WINDOW);
        _expectNotOperator(bob, carolTab, PAYEE_ROLE);
        vm.prank(carolTab);
        lottery.withdrawShare(shared, bob);
        vm.assertEq(token.balanceOf(carolTab), 0);
        vm.assertEq(token.balanceOf(bob), 0);
    }

    function test_Attack_PayeesOperatorTakesThePayeesTokens() public {
        uint256 lotId = _createBound(tab);
        uint256 w = _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        bytes memory sig = _sigBy(tabKey, lotId, uint32(w), bob, 7);
        vm.expectEmit(address(lottery));
        emit ILottery.WinnerPaid(lotId, w, bob, 7, sig, LOT);
        vm.prank(bobTab);
        lottery.redeem(lotId, bob, uint32(w), 7, sig);
        vm.assertEq(token.balanceOf(bob), LOT);
        vm.assertEq(token.balanceOf(bobTab), 0);

        uint256 shared = _createBound(tab);
        ILottery.TicketClaim[] memory bobs = _claims(tabKey, shared, bob);
        _toSharing(shared);
        vm.prank(bobTab);
        lottery.registerTickets(shared, bob, bobs);
        vm.assertEq(lottery.registeredBy(shared, bob), 2);
        vm.assertEq(lottery.registeredBy(shared, bobTab), 0);
        vm.warp(block.timestamp + SHARE_WINDOW);
        vm.prank(bobTab);
        lottery.withdrawShare(shared, bob);
        vm.assertEq(token.balanceOf(bob), 2 * LOT);
        vm.assertEq(token.balanceOf(bobTab), 0);
        // The payer's refund goes to the payer, whoever sends it.
        uint256 before = token.balanceOf(payer);
        vm.prank(tab);
        lottery.finish(shared);
        vm.assertEq(token.balanceOf(payer), before + LOT);
        vm.assertEq(token.balanceOf(tab), 0);
    }

    function test_Attack_ARevokedOperatorKeepsMakingRoutineCalls() public {
        uint256 lotId = _createBound(tab);
        uint256 shared = _createBound(tab);
        _revoke(payer, tab);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryStillIssuing.selector, lotId, closeBy));
        vm.prank(tab);
        lottery.closeLot(lotId);

        uint256 w = _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        bytes memory sig = _sigBy(tabKey, lotId, uint32(w), bob, 7);
        _revoke(bob, bobTab);
        _expectNotOperator(bob, bobTab, PAYEE_ROLE);
        vm.prank(bobTab);
        lottery.redeem(lotId, bob, uint32(w), 7, sig);

        ILottery.TicketClaim[] memory bobs = _claims(tabKey, shared, bob);
        _toSharing(shared);
        _expectNotOperator(bob, bobTab, PAYEE_ROLE);
        vm.prank(bobTab);
        lottery.registerTickets(shared, bob, bobs);
        vm.prank(bob);
        lottery.registerTickets(shared, bob, bobs);
        vm.warp(block.timestamp + SHARE_WINDOW);
        _expectNotOperator(bob, bobTab, PAYEE_ROLE);
        vm.prank(bobTab);
        lottery.withdrawShare(shared, bob);
        // Bob, the owner, still does everything himself.
        vm.prank(bob);
        lottery.withdrawShare(shared, bob);
        vm.assertEq(token.balanceOf(bob), LOT);
    }

    function test_Attack_AnExpiredOperatorKeepsMakingRoutineCalls() public {
        uint256 lotId = _createBound(tab);
        vm.warp(uint256(expiry));
        vm.assertFalse(registry.actsFor(bob, bobTab, PAYEE_ROLE));
        closeBy = uint40(block.timestamp + 1 days);
        vm.prank(payer);
        bytes32 commitment = keccak256(abi.encode(payer, SECRET));
        uint256 fresh = lottery.createLot(SIZE, VALUE, commitment, closeBy, _list(bob), payer);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryStillIssuing.selector, fresh, closeBy));
        vm.prank(tab);
        lottery.closeLot(fresh);
        // The old lot's close-by time passed: anyone closes it; its tickets still count; the expired tab cannot redeem.
        uint256 w = _closeAndReveal(lotId, _seedFor(lotId, SIZE, 1));
        bytes memory sig = _sigBy(tabKey, lotId, uint32(w), bob, 7);
        _expectNotOperator(bob, bobTab, PAYEE_ROLE);
        vm.prank(bobTab);
        lottery.redeem(lotId, bob, uint32(w), 7, sig);
        vm.prank(bob);
        lottery.redeem(lotId, bob, uint32(w), 7, sig);
        vm.assertEq(token.balanceOf(bob), LOT);
    }

    // ------------------------------------------------------------------ terms

    function testATicketValueBeyond96BitsIsRefusedNotTruncated() public {
        uint128 tooLarge = uint128(type(uint96).max) + 1;
        vm.expectRevert(
            abi.encodeWithSelector(ILottery.LotteryTicketValueTooLarge.selector, tooLarge, type(uint96).max)
        );
        vm.prank(payer);
        lottery.createLot(1, tooLarge, SECRET, closeBy, new address[](0), payer);
    }

    function testTheRegistryIsRequired() public {
        vm.expectRevert(ILottery.LotteryZeroAddress.selector);
        new Lottery(IERC20(address(token)), IOperatorRegistry(address(0)), 1, 1, 1);
    }
}
