// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ILottery} from "../interfaces/ILottery.sol";
import {Lottery} from "../Lottery.sol";
import {Token} from "../Token.sol";
import {TestBase, Vm} from "./utils/Vm.sol";

/// @dev Lottery rules: funding, tickets once each, fill and close, commit-reveal draw, withheld reveal.
contract LotteryTest is TestBase {
    uint128 private constant VALUE = 0.1 ether;
    uint32 private constant SIZE = 4;
    uint64 private constant WINDOW = 10;
    bytes32 private constant SECRET = keccak256("payer secret");
    uint256 private constant SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;

    Token private token;
    Lottery private lottery;
    uint256 private payerKey = 0xA11CE;
    address private payer;
    address private bob = address(0xB0B);
    address private carol = address(0xCA201);
    uint64 private deadline;

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(100);
        payer = vm.addr(payerKey);
        deadline = uint64(block.timestamp + 1 hours);
        token = new Token(address(this), 1_000_000 ether, true);
        lottery = new Lottery(IERC20(address(token)), WINDOW);
        token.transfer(payer, 1_000 ether);
        vm.prank(payer);
        token.approve(address(lottery), type(uint256).max);
    }

    function _create(uint32 size) private returns (uint256 lotId) {
        vm.prank(payer);
        lotId = lottery.createLot(size, VALUE, keccak256(abi.encode(payer, SECRET)), deadline);
    }

    function _ticket(Lottery where, uint256 lotId, uint32 index, address payee, uint256 nonce)
        private
        view
        returns (ILottery.TicketClaim memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(payerKey, where.ticketDigest(lotId, index, payee, nonce));
        return ILottery.TicketClaim(index, nonce, abi.encodePacked(r, s, v));
    }

    function _batch(uint256 lotId, address payee, uint32 from, uint32 count)
        private
        view
        returns (ILottery.TicketClaim[] memory claims)
    {
        claims = new ILottery.TicketClaim[](count);
        for (uint32 i = 0; i < count; i++) {
            claims[i] = _ticket(lottery, lotId, from + i, payee, uint256(keccak256(abi.encode(from + i))));
        }
    }

    function _redeem(uint256 lotId, address payee, uint32 from, uint32 count) private {
        ILottery.TicketClaim[] memory claims = _batch(lotId, payee, from, count);
        vm.prank(payee);
        lottery.redeemTickets(lotId, claims);
    }

    function _fill(uint256 lotId) private {
        _redeem(lotId, bob, 0, 3);
        _redeem(lotId, carol, 3, 1);
    }

    function testCreateLotFundsTheWholeLotUpFront() public {
        uint256 before = token.balanceOf(payer);
        uint256 lotId = _create(SIZE);
        vm.assertEq(token.balanceOf(payer), before - SIZE * VALUE);
        ILottery.Lot memory lot = lottery.getLot(lotId);
        vm.assertEq(lot.payer, payer);
        vm.assertEq(uint256(lot.status), uint256(ILottery.Status.Filling));
        vm.startPrank(payer);
        vm.expectRevert(ILottery.LotteryInvalidTerms.selector);
        lottery.createLot(0, VALUE, SECRET, deadline);
        vm.expectRevert(ILottery.LotteryInvalidTerms.selector);
        lottery.createLot(SIZE, 0, SECRET, deadline);
        vm.expectRevert(ILottery.LotteryInvalidTerms.selector);
        lottery.createLot(SIZE, VALUE, bytes32(0), deadline);
        vm.expectRevert(ILottery.LotteryInvalidTerms.selector);
        lottery.createLot(SIZE, VALUE, SECRET, uint64(block.timestamp));
        vm.stopPrank();
    }

    function testRevealWindowMustFitTheBlockHashHistory() public {
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryInvalidRevealWindow.selector, 257));
        new Lottery(IERC20(address(token)), 257);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryInvalidRevealWindow.selector, 0));
        new Lottery(IERC20(address(token)), 0);
    }

    function testFillingTheLotClosesItForTheNextBlock() public {
        uint256 lotId = _create(SIZE);
        _redeem(lotId, bob, 0, 3);
        vm.expectEmit(address(lottery));
        emit ILottery.LotClosed(lotId, SIZE, block.number + 1, 0);
        _redeem(lotId, carol, 3, 1);
        ILottery.Lot memory lot = lottery.getLot(lotId);
        vm.assertEq(uint256(lot.status), uint256(ILottery.Status.Closed));
        vm.assertEq(lot.drawBlock, block.number + 1);
        vm.assertEq(lottery.batchCount(lotId), 2);
        ILottery.Batch memory b = lottery.getBatch(lotId, 1);
        vm.assertEq(b.payee, carol);
        vm.assertEq(b.start, 3);
        vm.assertEq(b.count, 1);
    }

    function testATicketIsAcceptedOnce() public {
        uint256 lotId = _create(SIZE);
        _redeem(lotId, bob, 0, 1);
        ILottery.TicketClaim[] memory again = _batch(lotId, bob, 0, 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryTicketUsed.selector, lotId, 0));
        vm.prank(bob);
        lottery.redeemTickets(lotId, again);
        // twice within one batch
        ILottery.TicketClaim[] memory twice = new ILottery.TicketClaim[](2);
        twice[0] = _ticket(lottery, lotId, 1, bob, 1);
        twice[1] = _ticket(lottery, lotId, 1, bob, 2);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryTicketUsed.selector, lotId, 1));
        vm.prank(bob);
        lottery.redeemTickets(lotId, twice);
    }

    function testTicketsForAFullLotOrBeyondItsSizeAreRefused() public {
        uint256 lotId = _create(SIZE);
        ILottery.TicketClaim[] memory outside = _batch(lotId, bob, SIZE, 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryIndexOutOfRange.selector, lotId, SIZE, SIZE));
        vm.prank(bob);
        lottery.redeemTickets(lotId, outside);
        _fill(lotId);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryLotFull.selector, lotId));
        vm.prank(bob);
        lottery.redeemTickets(lotId, outside);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryEmptyRedemption.selector, _create(SIZE)));
        vm.prank(bob);
        lottery.redeemTickets(2, new ILottery.TicketClaim[](0));
    }

    function testTicketsBoundToAnotherPayeeLotChainOrContractAreRefused() public {
        uint256 lotId = _create(SIZE);
        uint256 otherLot = _create(SIZE);
        ILottery.TicketClaim[] memory claims = new ILottery.TicketClaim[](1);

        // Bob's ticket presented by carol.
        claims[0] = _ticket(lottery, lotId, 0, bob, 7);
        address recovered = _recover(lottery.ticketDigest(lotId, 0, carol, 7), claims[0].signature);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, recovered));
        vm.prank(carol);
        lottery.redeemTickets(lotId, claims);

        // A ticket of one lot presented in another.
        recovered = _recover(lottery.ticketDigest(otherLot, 0, bob, 7), claims[0].signature);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, otherLot, recovered));
        vm.prank(bob);
        lottery.redeemTickets(otherLot, claims);

        // Signed for another contract.
        Lottery other = new Lottery(IERC20(address(token)), WINDOW);
        claims[0] = _ticket(other, lotId, 0, bob, 7);
        recovered = _recover(lottery.ticketDigest(lotId, 0, bob, 7), claims[0].signature);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, recovered));
        vm.prank(bob);
        lottery.redeemTickets(lotId, claims);

        // Signed on another chain.
        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        claims[0] = _ticket(lottery, lotId, 0, bob, 7);
        vm.chainId(chain);
        recovered = _recover(lottery.ticketDigest(lotId, 0, bob, 7), claims[0].signature);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, recovered));
        vm.prank(bob);
        lottery.redeemTickets(lotId, claims);
    }

    function _recover(bytes32 digest, bytes memory signature) private pure returns (address) {
        (address signer,,) = ECDSA.tryRecover(digest, signature);
        return signer;
    }

    function testHighSAndCompactTicketSignaturesAreRefused() public {
        uint256 lotId = _create(SIZE);
        bytes32 digest = lottery.ticketDigest(lotId, 0, bob, 1);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(payerKey, digest);
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        ILottery.TicketClaim[] memory claims = new ILottery.TicketClaim[](1);
        claims[0] = ILottery.TicketClaim(0, 1, abi.encodePacked(r, highS, v == 27 ? uint8(28) : uint8(27)));
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS));
        vm.prank(bob);
        lottery.redeemTickets(lotId, claims);
        (bytes32 cr, bytes32 vs) = vm.signCompact(payerKey, digest);
        claims[0].signature = abi.encodePacked(cr, vs);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 64));
        vm.prank(bob);
        lottery.redeemTickets(lotId, claims);
    }

    function testRevealPaysTheWinnerTheWholeLot() public {
        uint256 lotId = _create(SIZE);
        _fill(lotId);
        uint256 drawBlock = lottery.getLot(lotId).drawBlock;
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryRevealTooEarly.selector, lotId, drawBlock));
        vm.prank(payer);
        lottery.reveal(lotId, SECRET);

        vm.roll(drawBlock + 1);
        vm.setBlockhash(drawBlock, keccak256("block"));
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSecret.selector, lotId));
        vm.prank(payer);
        lottery.reveal(lotId, keccak256("not it"));

        uint256 position = uint256(keccak256(abi.encode(SECRET, keccak256("block"), lotId))) % SIZE;
        address winner = position < 3 ? bob : carol;
        uint256 before = token.balanceOf(winner);
        vm.expectEmit(address(lottery));
        emit ILottery.WinnerDrawn(lotId, winner, position, SIZE * VALUE);
        vm.prank(payer);
        lottery.reveal(lotId, SECRET);
        vm.assertEq(token.balanceOf(winner), before + SIZE * VALUE);
        vm.assertEq(token.balanceOf(address(lottery)), 0);

        // After the draw: no more tickets, no second reveal, no shares.
        ILottery.TicketClaim[] memory late = _batch(lotId, bob, 0, 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryLotFull.selector, lotId));
        vm.prank(bob);
        lottery.redeemTickets(lotId, late);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILottery.LotteryUnexpectedStatus.selector, lotId, ILottery.Status.Drawn, ILottery.Status.Closed
            )
        );
        lottery.reveal(lotId, SECRET);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILottery.LotteryUnexpectedStatus.selector, lotId, ILottery.Status.Drawn, ILottery.Status.Shared
            )
        );
        lottery.claimShare(lotId, 0);
    }

    function testAPayerWhoWithholdsTheRevealLosesTheDrawAndHoldersShareTheLot() public {
        uint256 lotId = _create(SIZE);
        _fill(lotId);
        uint256 last = lottery.lastRevealBlock(lotId);
        vm.roll(last);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryRevealWindowOpen.selector, lotId, last));
        lottery.claimShare(lotId, 0);

        vm.roll(last + 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryRevealWindowClosed.selector, lotId, last));
        vm.prank(payer);
        lottery.reveal(lotId, SECRET);

        vm.expectEmit(address(lottery));
        emit ILottery.LotShared(lotId);
        lottery.claimShare(lotId, 0);
        lottery.claimShare(lotId, 1);
        vm.assertEq(token.balanceOf(bob), 3 * VALUE);
        vm.assertEq(token.balanceOf(carol), VALUE);
        vm.assertEq(token.balanceOf(address(lottery)), 0);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryShareClaimed.selector, lotId, 0));
        lottery.claimShare(lotId, 0);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryUnknownBatch.selector, lotId, 2));
        lottery.claimShare(lotId, 2);
        vm.expectRevert(
            abi.encodeWithSelector(
                ILottery.LotteryUnexpectedStatus.selector, lotId, ILottery.Status.Shared, ILottery.Status.Closed
            )
        );
        vm.prank(payer);
        lottery.reveal(lotId, SECRET);
    }

    function testALotNotFullByItsDeadlineClosesAndRefundsUnissuedTickets() public {
        uint256 lotId = _create(SIZE);
        _redeem(lotId, bob, 0, 2);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryStillFilling.selector, lotId, deadline));
        lottery.closeLot(lotId);
        vm.warp(deadline);
        ILottery.TicketClaim[] memory late = _batch(lotId, carol, 2, 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryFillDeadlinePassed.selector, lotId, deadline));
        vm.prank(carol);
        lottery.redeemTickets(lotId, late);
        uint256 before = token.balanceOf(payer);
        lottery.closeLot(lotId);
        vm.assertEq(token.balanceOf(payer), before + 2 * VALUE);
        uint256 drawBlock = lottery.getLot(lotId).drawBlock;
        vm.roll(drawBlock + 1);
        vm.prank(payer);
        lottery.reveal(lotId, SECRET);
        vm.assertEq(token.balanceOf(bob), 2 * VALUE); // the only holder wins what was redeemed
        vm.expectRevert(
            abi.encodeWithSelector(
                ILottery.LotteryUnexpectedStatus.selector, lotId, ILottery.Status.Drawn, ILottery.Status.Filling
            )
        );
        vm.prank(carol);
        lottery.redeemTickets(lotId, late);
    }

    function testAnEmptyLotIsRefundedInFullWhenClosed() public {
        uint256 lotId = _create(SIZE);
        vm.warp(deadline);
        uint256 before = token.balanceOf(payer);
        lottery.closeLot(lotId);
        vm.assertEq(token.balanceOf(payer), before + SIZE * VALUE);
        vm.assertEq(uint256(lottery.getLot(lotId).status), uint256(ILottery.Status.Drawn));
    }

    /// @dev Whatever order and nonces payees choose, the winning position is the same: nothing a payee sends
    /// enters the draw, and the block hash that does is mined only after the last ticket.
    function testPayeesCannotGrindTheDraw(uint256 nonceSeed, bool carolFirst) public {
        uint256 lotId = _create(SIZE);
        uint256 snapshot = vm.snapshotState();
        _fill(lotId);
        uint256 referencePosition = _drawPosition(lotId);
        vm.revertToState(snapshot);

        ILottery.TicketClaim[] memory bobTickets = new ILottery.TicketClaim[](3);
        for (uint32 i = 0; i < 3; i++) {
            bobTickets[i] = _ticket(lottery, lotId, i, bob, uint256(keccak256(abi.encode(nonceSeed, i))));
        }
        ILottery.TicketClaim[] memory carolTickets = new ILottery.TicketClaim[](1);
        carolTickets[0] = _ticket(lottery, lotId, 3, carol, nonceSeed);
        if (carolFirst) {
            vm.prank(carol);
            lottery.redeemTickets(lotId, carolTickets);
        }
        vm.prank(bob);
        lottery.redeemTickets(lotId, bobTickets);
        if (!carolFirst) {
            vm.prank(carol);
            lottery.redeemTickets(lotId, carolTickets);
        }
        vm.assertEq(_drawPosition(lotId), referencePosition);
    }

    function _drawPosition(uint256 lotId) private returns (uint256 position) {
        uint256 drawBlock = lottery.getLot(lotId).drawBlock;
        vm.roll(drawBlock + 1);
        vm.setBlockhash(drawBlock, keccak256("fixed block"));
        vm.recordLogs();
        vm.prank(payer);
        lottery.reveal(lotId, SECRET);
        Vm.Log[] memory logs = vm.getRecordedLogs();
        for (uint256 i = 0; i < logs.length; i++) {
            if (logs[i].topics[0] == ILottery.WinnerDrawn.selector) (position,) = abi.decode(logs[i].data, (uint256, uint256));
        }
    }
}
