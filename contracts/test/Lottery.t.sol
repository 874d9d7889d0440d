// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ILottery} from "../interfaces/ILottery.sol";
import {PaymentFunding} from "../libraries/PaymentFunding.sol";
import {Lottery} from "../Lottery.sol";
import {OperatorRegistry} from "../OperatorRegistry.sol";
import {Token} from "../Token.sol";
import {Permits} from "./utils/Permits.sol";
import {TestBase, Vm} from "./utils/Vm.sol";

/// @dev Shared set-up for the lottery tests: a payer with a key, payees, and helpers that sign tickets and drive a
/// lot to a chosen winning index.
abstract contract LotteryFixture is TestBase {
    uint128 internal constant VALUE = 0.1 ether;
    uint32 internal constant SIZE = 4;
    uint256 internal constant LOT = SIZE * uint256(VALUE);
    uint40 internal constant REVEAL_WINDOW = 1 hours;
    uint40 internal constant CLAIM_WINDOW = 1 days;
    uint40 internal constant SHARE_WINDOW = 2 days;
    bytes32 internal constant SECRET = keccak256("payer secret");
    address internal constant BURN = 0x000000000000000000000000000000000000dEaD;
    uint256 internal constant SECP256K1_N = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141;

    Token internal token;
    Lottery internal lottery;
    OperatorRegistry internal registry;
    uint256 internal payerKey = 0xA11CE;
    uint256 internal sybilKey = 0x5B1;
    address internal payer;
    address internal sybil; // an address the payer controls
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA201);
    address internal dave = address(0xDA7E);
    uint40 internal closeBy;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        vm.roll(100);
        payer = vm.addr(payerKey);
        sybil = vm.addr(sybilKey);
        closeBy = uint40(block.timestamp + 1 days);
        token = new Token(address(this), 1_000_000 ether, true);
        registry = new OperatorRegistry();
        lottery = new Lottery(IERC20(address(token)), registry, REVEAL_WINDOW, CLAIM_WINDOW, SHARE_WINDOW);
        token.transfer(payer, 1_000 ether);
        vm.prank(payer);
        token.approve(address(lottery), type(uint256).max);
    }

    function _create(uint32 size) internal returns (uint256 lotId) {
        lotId = _create(size, new address[](0));
    }

    function _create(uint32 size, address[] memory covered) internal returns (uint256 lotId) {
        vm.prank(payer);
        lotId = lottery.createLot(size, VALUE, keccak256(abi.encode(payer, SECRET)), closeBy, covered, payer);
    }

    function _list(address a) internal pure returns (address[] memory list) {
        list = new address[](1);
        list[0] = a;
    }

    function _list(address a, address b) internal pure returns (address[] memory list) {
        list = new address[](2);
        (list[0], list[1]) = (a, b);
    }

    function _sig(Lottery where, uint256 lotId, uint32 index, address payee, uint256 nonce)
        internal
        view
        returns (bytes memory)
    {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(payerKey, where.ticketDigest(lotId, index, payee, nonce));
        return abi.encodePacked(r, s, v);
    }

    function _sig(uint256 lotId, uint32 index, address payee, uint256 nonce) internal view returns (bytes memory) {
        return _sig(lottery, lotId, index, payee, nonce);
    }

    function _claim(uint256 lotId, uint32 index, address payee, uint256 nonce)
        internal
        view
        returns (ILottery.TicketClaim memory)
    {
        return ILottery.TicketClaim(index, nonce, _sig(lotId, index, payee, nonce));
    }

    function _close(uint256 lotId) internal returns (uint256 seedBlock) {
        vm.prank(payer);
        lottery.closeLot(lotId);
        seedBlock = lottery.getLot(lotId).seedBlock;
    }

    function _winning(bytes32 seed, uint256 lotId, uint256 size) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode(SECRET, seed, lotId))) % size;
    }

    /// @dev A block hash that makes `want` the winning index of `lotId`.
    function _seedFor(uint256 lotId, uint256 size, uint256 want) internal pure returns (bytes32 seed) {
        for (uint256 i = 1;; i++) {
            seed = keccak256(abi.encode("block", i));
            if (_winning(seed, lotId, size) == want) return seed;
        }
    }

    /// @dev Closes (if open), mines the seed block with hash `seed`, and reveals.
    function _closeAndReveal(uint256 lotId, bytes32 seed) internal returns (uint256 winningIndex) {
        uint256 seedBlock = lottery.getLot(lotId).status == ILottery.Status.Open
            ? _close(lotId)
            : lottery.getLot(lotId).seedBlock;
        vm.roll(seedBlock + 1);
        vm.setBlockhash(seedBlock, seed);
        vm.prank(payer);
        lottery.reveal(lotId, SECRET);
        winningIndex = lottery.getLot(lotId).winningIndex;
    }

    function _expectStatus(uint256 lotId, ILottery.Status actual, ILottery.Status expected) internal {
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryUnexpectedStatus.selector, lotId, actual, expected));
    }

    function _recover(bytes32 digest, bytes memory signature) internal pure returns (address) {
        (address signer,,) = ECDSA.tryRecover(digest, signature);
        return signer;
    }
}

/// @dev Lottery rules: funding with the fine and covers, closing, commit-reveal draw with a pinned seed, the single winning
/// redemption, the claim window, sharing after a withheld reveal, and the payer's refund.
contract LotteryTest is LotteryFixture {
    function testCreateLotFundsTheLotTheFineAndTheCoversUpFront() public {
        uint256 before = token.balanceOf(payer);
        vm.expectEmit(address(lottery));
        emit ILottery.LotCreated(1, payer, SIZE, VALUE, LOT, keccak256(abi.encode(payer, SECRET)), closeBy);
        vm.expectEmit(address(lottery));
        emit ILottery.PayeeCovered(1, bob, LOT);
        uint256 lotId = _create(SIZE, _list(bob));
        vm.assertEq(token.balanceOf(payer), before - 3 * LOT);
        vm.assertEq(token.balanceOf(address(lottery)), 3 * LOT);
        vm.assertEq(lottery.depositFor(SIZE, VALUE, 1), 3 * LOT);
        vm.assertEq(lottery.depositFor(SIZE, VALUE, 0), 2 * LOT);
        vm.assertTrue(lottery.isCovered(lotId, bob));
        vm.assertFalse(lottery.isCovered(lotId, carol));
        vm.assertEq(lottery.getLot(lotId).covered, 1);
        ILottery.Lot memory lot = lottery.getLot(lotId);
        vm.assertEq(lot.payer, payer);
        vm.assertEq(lot.lotSize, SIZE);
        vm.assertEq(lot.ticketValue, VALUE);
        vm.assertEq(lot.closeBy, closeBy);
        vm.assertEq(uint256(lot.status), uint256(ILottery.Status.Open));
        vm.assertEq(uint256(lottery.phase(lotId)), uint256(ILottery.Phase.Issuing));
        vm.assertEq(uint256(lottery.phase(99)), uint256(ILottery.Phase.None));
        (uint256 r, uint256 c, uint256 s) = lottery.deadlines(lotId);
        vm.assertEq(r + c + s, 0);
        address[] memory none = new address[](0);
        vm.startPrank(payer);
        vm.expectRevert(ILottery.LotteryInvalidTerms.selector);
        lottery.createLot(0, VALUE, SECRET, closeBy, none, payer);
        vm.expectRevert(ILottery.LotteryInvalidTerms.selector);
        lottery.createLot(SIZE, 0, SECRET, closeBy, none, payer);
        vm.expectRevert(ILottery.LotteryInvalidTerms.selector);
        lottery.createLot(SIZE, VALUE, bytes32(0), closeBy, none, payer);
        vm.expectRevert(ILottery.LotteryInvalidTerms.selector);
        lottery.createLot(SIZE, VALUE, SECRET, uint40(block.timestamp), none, payer);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryInvalidCover.selector, 2, address(0)));
        lottery.createLot(SIZE, VALUE, SECRET, closeBy, _list(address(0)), payer);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryInvalidCover.selector, 2, bob));
        lottery.createLot(SIZE, VALUE, SECRET, closeBy, _list(bob, bob), payer);
        vm.stopPrank();
    }

    function testThePayerCoversMorePayeesWhileIssuing() public {
        uint256 lotId = _create(SIZE, _list(bob));
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotPayer.selector, lotId, bob));
        vm.prank(bob);
        lottery.coverPayees(lotId, _list(carol));
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryInvalidCover.selector, lotId, bob));
        vm.prank(payer);
        lottery.coverPayees(lotId, _list(bob));
        uint256 before = token.balanceOf(payer);
        vm.expectEmit(address(lottery));
        emit ILottery.PayeeCovered(lotId, carol, LOT);
        vm.prank(payer);
        lottery.coverPayees(lotId, _list(carol));
        vm.assertEq(token.balanceOf(payer), before - LOT);
        vm.assertTrue(lottery.isCovered(lotId, carol));
        vm.assertEq(lottery.getLot(lotId).covered, 2);
        _close(lotId);
        _expectStatus(lotId, ILottery.Status.Closed, ILottery.Status.Open);
        vm.prank(payer);
        lottery.coverPayees(lotId, _list(dave));
    }

    function testWindowsMustBeNonZero() public {
        vm.expectRevert(ILottery.LotteryInvalidWindows.selector);
        new Lottery(IERC20(address(token)), registry, 0, 1, 1);
        vm.expectRevert(ILottery.LotteryInvalidWindows.selector);
        new Lottery(IERC20(address(token)), registry, 1, 0, 1);
        vm.expectRevert(ILottery.LotteryInvalidWindows.selector);
        new Lottery(IERC20(address(token)), registry, 1, 1, 0);
        (uint256 r, uint256 c, uint256 s) = lottery.windows();
        vm.assertEq(r, REVEAL_WINDOW);
        vm.assertEq(c, CLAIM_WINDOW);
        vm.assertEq(s, SHARE_WINDOW);
        vm.assertEq(address(lottery.token()), address(token));
    }

    function testCreateLotWithPermitNeedsNoApproval() public {
        uint256 key = 0xF00D;
        address owner = vm.addr(key);
        token.transfer(owner, 10 ether);
        uint256 value = lottery.depositFor(SIZE, VALUE, 0);
        PaymentFunding.Permit memory permit = Permits.funding(token, key, address(lottery), value);
        bytes32 commitment = keccak256(abi.encode(owner, SECRET));
        address[] memory none = new address[](0);
        vm.prank(owner);
        uint256 lotId = lottery.createLotWithPermit(SIZE, VALUE, commitment, closeBy, none, owner, permit);
        vm.assertEq(token.balanceOf(owner), 10 ether - value);
        vm.assertEq(lottery.getLot(lotId).payer, owner);
    }

    function testThePayerClosesAtAnyTimeAndAnyoneAfterCloseBy() public {
        uint256 lotId = _create(SIZE);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryStillIssuing.selector, lotId, closeBy));
        vm.prank(bob);
        lottery.closeLot(lotId);
        vm.expectEmit(address(lottery));
        emit ILottery.LotClosed(lotId, payer, block.number + 1, block.timestamp + REVEAL_WINDOW);
        vm.prank(payer);
        lottery.closeLot(lotId);
        ILottery.Lot memory lot = lottery.getLot(lotId);
        vm.assertEq(uint256(lot.status), uint256(ILottery.Status.Closed));
        vm.assertEq(lot.seedBlock, block.number + 1);
        vm.assertEq(lot.closedAt, block.timestamp);
        (uint256 r, uint256 c, uint256 s) = lottery.deadlines(lotId);
        vm.assertEq(r, block.timestamp + REVEAL_WINDOW);
        vm.assertEq(c, r + CLAIM_WINDOW);
        vm.assertEq(s, r + SHARE_WINDOW);
        vm.assertEq(uint256(lottery.phase(lotId)), uint256(ILottery.Phase.Drawing));
        _expectStatus(lotId, ILottery.Status.Closed, ILottery.Status.Open);
        vm.prank(payer);
        lottery.closeLot(lotId);

        // A payer who neither closes nor reveals cannot hold the funds: anyone closes after closeBy.
        uint256 other = _create(SIZE);
        vm.warp(closeBy + 1);
        vm.prank(bob);
        lottery.closeLot(other);
        vm.assertEq(uint256(lottery.getLot(other).status), uint256(ILottery.Status.Closed));
    }

    function testRevealNeedsTheMinedSeedBlockAndTheCommittedSecret() public {
        uint256 lotId = _create(SIZE);
        _expectStatus(lotId, ILottery.Status.Open, ILottery.Status.Closed);
        lottery.reveal(lotId, SECRET);
        uint256 seedBlock = _close(lotId);
        vm.assertEq(lottery.seedOf(lotId), bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotterySeedNotMined.selector, lotId, seedBlock));
        lottery.reveal(lotId, SECRET);
        vm.roll(seedBlock + 1);
        bytes32 seed = keccak256("block");
        vm.setBlockhash(seedBlock, seed);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSecret.selector, lotId));
        lottery.reveal(lotId, keccak256("another secret"));
        uint256 want = _winning(seed, lotId, SIZE);
        (, uint256 claimDeadline,) = lottery.deadlines(lotId);
        vm.expectEmit(address(lottery));
        emit ILottery.LotRevealed(lotId, want, seed, claimDeadline);
        lottery.reveal(lotId, SECRET); // anyone holding the secret may send it
        ILottery.Lot memory lot = lottery.getLot(lotId);
        vm.assertEq(lot.winningIndex, want);
        vm.assertTrue(lot.revealed);
        vm.assertEq(uint256(lottery.phase(lotId)), uint256(ILottery.Phase.Claiming));
        _expectStatus(lotId, ILottery.Status.Revealed, ILottery.Status.Closed);
        lottery.reveal(lotId, SECRET);
    }

    function testOnlyTheWinningTicketRedeemsOnceAndIsPaidTheWholeLot() public {
        uint256 lotId = _create(SIZE);
        // bob holds indices 0..2, carol index 3; the draw picks 2.
        ILottery.TicketClaim memory carols = _claim(lotId, 3, carol, 33);
        ILottery.TicketClaim memory bobs = _claim(lotId, 2, bob, 22);
        _expectStatus(lotId, ILottery.Status.Open, ILottery.Status.Revealed);
        vm.prank(bob);
        lottery.redeem(lotId, bob, 2, 22, bobs.signature);
        vm.assertEq(_closeAndReveal(lotId, _seedFor(lotId, SIZE, 2)), 2);

        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotWinningIndex.selector, lotId, 3, 2));
        vm.prank(carol);
        lottery.redeem(lotId, carol, 3, 33, carols.signature);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryIndexOutOfRange.selector, lotId, SIZE, SIZE));
        vm.prank(carol);
        lottery.redeem(lotId, carol, SIZE, 33, carols.signature);

        uint256 before = token.balanceOf(bob);
        vm.expectEmit(address(lottery));
        emit ILottery.WinnerPaid(lotId, 2, bob, 22, bobs.signature, LOT);
        vm.prank(bob);
        lottery.redeem(lotId, bob, 2, 22, bobs.signature);
        vm.assertEq(token.balanceOf(bob), before + LOT);
        vm.assertEq(uint256(lottery.getLot(lotId).status), uint256(ILottery.Status.Redeemed));

        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryAlreadyRedeemed.selector, lotId));
        vm.prank(bob);
        lottery.redeem(lotId, bob, 2, 22, bobs.signature);

        // The payer gets its fine back once the claim window is over.
        (, uint256 claimDeadline,) = lottery.deadlines(lotId);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryFinishTooEarly.selector, lotId, claimDeadline));
        lottery.finish(lotId);
        vm.warp(claimDeadline + 1);
        vm.assertEq(uint256(lottery.phase(lotId)), uint256(ILottery.Phase.Settling));
        uint256 payerBefore = token.balanceOf(payer);
        vm.expectEmit(address(lottery));
        emit ILottery.LotFinished(lotId, LOT, 0);
        lottery.finish(lotId);
        vm.assertEq(token.balanceOf(payer), payerBefore + LOT);
        vm.assertEq(token.balanceOf(address(lottery)), 0);
        vm.assertEq(uint256(lottery.phase(lotId)), uint256(ILottery.Phase.Finished));
        _expectStatus(lotId, ILottery.Status.Finished, ILottery.Status.Revealed);
        vm.prank(bob);
        lottery.redeem(lotId, bob, 2, 22, bobs.signature);
        _expectStatus(lotId, ILottery.Status.Finished, ILottery.Status.Closed);
        lottery.finish(lotId);
    }

    function testRedemptionAfterTheClaimWindowIsRefusedAndAnUnclaimedLotGoesBack() public {
        uint256 lotId = _create(SIZE);
        uint256 payerBefore = token.balanceOf(payer);
        _closeAndReveal(lotId, _seedFor(lotId, SIZE, 1));
        bytes memory late = _sig(lotId, 1, bob, 1);
        (, uint256 claimDeadline,) = lottery.deadlines(lotId);
        vm.warp(claimDeadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryClaimWindowClosed.selector, lotId, claimDeadline));
        vm.prank(bob);
        lottery.redeem(lotId, bob, 1, 1, late);
        // The payer never issued index 1 (or its holder slept): the whole deposit comes back.
        lottery.finish(lotId);
        vm.assertEq(token.balanceOf(payer), payerBefore + 2 * LOT);
    }

    function testTicketsReplayedOnAnotherChainContractLotOrPayeeAreRefused() public {
        uint256 lotId = _create(SIZE);
        uint256 otherLot = _create(SIZE);
        _closeAndReveal(lotId, _seedFor(lotId, SIZE, 0));
        // The other lot draws index 0 too, so only the lot binding can refuse the ticket.
        _closeAndReveal(otherLot, _seedFor(otherLot, SIZE, 0));

        // Bob's ticket presented by carol.
        bytes memory sig = _sig(lotId, 0, bob, 7);
        address recovered = _recover(lottery.ticketDigest(lotId, 0, carol, 7), sig);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, recovered));
        vm.prank(carol);
        lottery.redeem(lotId, carol, 0, 7, sig);

        // A ticket of one lot presented in another.
        recovered = _recover(lottery.ticketDigest(otherLot, 0, bob, 7), sig);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, otherLot, recovered));
        vm.prank(bob);
        lottery.redeem(otherLot, bob, 0, 7, sig);

        // Another nonce than the one signed.
        recovered = _recover(lottery.ticketDigest(lotId, 0, bob, 8), sig);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, recovered));
        vm.prank(bob);
        lottery.redeem(lotId, bob, 0, 8, sig);

        // Signed for another contract.
        Lottery other = new Lottery(IERC20(address(token)), registry, REVEAL_WINDOW, CLAIM_WINDOW, SHARE_WINDOW);
        sig = _sig(other, lotId, 0, bob, 7);
        recovered = _recover(lottery.ticketDigest(lotId, 0, bob, 7), sig);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, recovered));
        vm.prank(bob);
        lottery.redeem(lotId, bob, 0, 7, sig);

        // Signed on another chain.
        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        sig = _sig(lotId, 0, bob, 7);
        vm.chainId(chain);
        recovered = _recover(lottery.ticketDigest(lotId, 0, bob, 7), sig);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, recovered));
        vm.prank(bob);
        lottery.redeem(lotId, bob, 0, 7, sig);

        // Signed by someone else than the payer.
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(sybilKey, lottery.ticketDigest(lotId, 0, bob, 7));
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, sybil));
        vm.prank(bob);
        lottery.redeem(lotId, bob, 0, 7, abi.encodePacked(r, s, v));

        // The right ticket still works.
        sig = _sig(lotId, 0, bob, 7);
        vm.prank(bob);
        lottery.redeem(lotId, bob, 0, 7, sig);
        vm.assertEq(token.balanceOf(bob), LOT);
    }

    function testHighSAndCompactTicketSignaturesAreRefused() public {
        uint256 lotId = _create(SIZE);
        _closeAndReveal(lotId, _seedFor(lotId, SIZE, 0));
        bytes32 digest = lottery.ticketDigest(lotId, 0, bob, 1);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(payerKey, digest);
        bytes32 highS = bytes32(SECP256K1_N - uint256(s));
        bytes memory twin = abi.encodePacked(r, highS, v == 27 ? uint8(28) : uint8(27));
        vm.assertEq(_recover(digest, abi.encodePacked(r, s, v)), payer);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS));
        vm.prank(bob);
        lottery.redeem(lotId, bob, 0, 1, twin);
        (bytes32 cr, bytes32 vs) = vm.signCompact(payerKey, digest);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 64));
        vm.prank(bob);
        lottery.redeem(lotId, bob, 0, 1, abi.encodePacked(cr, vs));
        // The same refusals hold where covers are claimed.
        ILottery.Ticket memory a = ILottery.Ticket(0, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS));
        lottery.claimCover(lotId, a, twin);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 64));
        lottery.claimCover(lotId, a, abi.encodePacked(cr, vs));
    }

    function testTheSeedCanBePinnedWhileReadableAndIsLostOtherwise() public {
        uint256 lotId = _create(SIZE);
        _expectStatus(lotId, ILottery.Status.Open, ILottery.Status.Closed);
        lottery.pinSeed(lotId);
        uint256 seedBlock = _close(lotId);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotterySeedNotMined.selector, lotId, seedBlock));
        lottery.pinSeed(lotId);
        bytes32 seed = keccak256("seed block");
        vm.roll(seedBlock + 200);
        vm.setBlockhash(seedBlock, seed);
        vm.assertEq(lottery.seedOf(lotId), seed);
        vm.expectEmit(address(lottery));
        emit ILottery.SeedPinned(lotId, seedBlock, seed);
        vm.prank(bob); // anyone
        lottery.pinSeed(lotId);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotterySeedAlreadyPinned.selector, lotId));
        lottery.pinSeed(lotId);
        // Long after BLOCKHASH forgot it, the pinned hash still gives the same draw.
        vm.roll(seedBlock + 5_000);
        vm.setBlockhash(seedBlock, bytes32(0));
        vm.assertEq(lottery.seedOf(lotId), seed);
        vm.prank(payer);
        lottery.reveal(lotId, SECRET);
        vm.assertEq(lottery.getLot(lotId).winningIndex, _winning(seed, lotId, SIZE));

        // Unpinned and forgotten: no reveal and no redraw (a redraw would be a second draw for the payer).
        uint256 other = _create(SIZE);
        uint256 otherSeedBlock = _close(other);
        vm.roll(otherSeedBlock + 257);
        vm.setBlockhash(otherSeedBlock, keccak256("forgotten"));
        vm.assertEq(lottery.seedOf(other), bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotterySeedExpired.selector, other, otherSeedBlock));
        lottery.pinSeed(other);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotterySeedExpired.selector, other, otherSeedBlock));
        vm.prank(payer);
        lottery.reveal(other, SECRET);
        // A readable block whose hash the test chain never set reads as zero: refused the same way.
        uint256 third = _create(SIZE);
        uint256 thirdSeedBlock = _close(third);
        vm.roll(thirdSeedBlock + 1);
        vm.setBlockhash(thirdSeedBlock, bytes32(0));
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotterySeedExpired.selector, third, thirdSeedBlock));
        lottery.pinSeed(third);
    }

    function testARevealAfterItsWindowIsRefused() public {
        uint256 lotId = _create(SIZE);
        uint256 seedBlock = _close(lotId);
        (uint256 revealDeadline,,) = lottery.deadlines(lotId);
        vm.roll(seedBlock + 1);
        vm.setBlockhash(seedBlock, keccak256("b"));
        vm.warp(revealDeadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryRevealWindowClosed.selector, lotId, revealDeadline));
        vm.prank(payer);
        lottery.reveal(lotId, SECRET);
        vm.assertEq(uint256(lottery.phase(lotId)), uint256(ILottery.Phase.Sharing));
    }
}

/// @dev A withheld reveal: equal sharing among registered holders, and why withholding never pays the payer.
contract LotterySharingTest is LotteryFixture {
    function _withhold(uint256 lotId) private returns (uint256 revealDeadline, uint256 shareDeadline) {
        if (lottery.getLot(lotId).status == ILottery.Status.Open) _close(lotId);
        (revealDeadline,, shareDeadline) = lottery.deadlines(lotId);
        vm.warp(revealDeadline + 1);
    }

    function _register(uint256 lotId, address payee, uint32 from, uint32 count) private {
        ILottery.TicketClaim[] memory claims = new ILottery.TicketClaim[](count);
        for (uint32 i = 0; i < count; i++) {
            claims[i] = _claim(lotId, from + i, payee, from + i);
        }
        vm.prank(payee);
        lottery.registerTickets(lotId, payee, claims);
    }

    function testAWithheldRevealSharesTheLotEquallyAmongRegisteredHolders() public {
        uint256 lotId = _create(SIZE);
        ILottery.TicketClaim[] memory one = new ILottery.TicketClaim[](1);
        one[0] = _claim(lotId, 3, carol, 3);
        _expectStatus(lotId, ILottery.Status.Open, ILottery.Status.Closed);
        vm.prank(carol);
        lottery.registerTickets(lotId, carol, one);
        _close(lotId);
        (uint256 revealDeadline,, uint256 shareDeadline) = lottery.deadlines(lotId);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryRevealWindowOpen.selector, lotId, revealDeadline));
        vm.prank(carol);
        lottery.registerTickets(lotId, carol, one);
        _withhold(lotId);

        _register(lotId, bob, 0, 3);
        vm.expectEmit(address(lottery));
        emit ILottery.TicketRegistered(lotId, 3, carol, 3, one[0].signature);
        vm.prank(carol);
        lottery.registerTickets(lotId, carol, one);
        vm.assertEq(lottery.registeredBy(lotId, bob), 3);
        vm.assertTrue(lottery.isRegistered(lotId, 3));
        vm.assertEq(lottery.getLot(lotId).registered, SIZE);

        // Each index once, within the lot, signed by the payer for the caller, at least one ticket.
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryTicketRegistered.selector, lotId, 3));
        vm.prank(carol);
        lottery.registerTickets(lotId, carol, one);
        ILottery.TicketClaim[] memory bad = new ILottery.TicketClaim[](1);
        bad[0] = _claim(lotId, SIZE, carol, 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryIndexOutOfRange.selector, lotId, SIZE, SIZE));
        vm.prank(carol);
        lottery.registerTickets(lotId, carol, bad);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryEmptyRegistration.selector, lotId));
        vm.prank(carol);
        lottery.registerTickets(lotId, carol, new ILottery.TicketClaim[](0));
        uint256 other = _create(SIZE);
        _withhold(other);
        one[0] = _claim(other, 0, bob, 0);
        address recovered = _recover(lottery.ticketDigest(other, 0, carol, 0), one[0].signature);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, other, recovered));
        vm.prank(carol);
        lottery.registerTickets(other, carol, one);

        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryShareWindowOpen.selector, lotId, shareDeadline));
        vm.prank(bob);
        lottery.withdrawShare(lotId, bob);
        vm.warp(shareDeadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryShareWindowClosed.selector, lotId, shareDeadline));
        vm.prank(carol);
        lottery.registerTickets(lotId, carol, one);

        vm.expectEmit(address(lottery));
        emit ILottery.ShareWithdrawn(lotId, bob, 3, 3 * LOT / SIZE);
        vm.prank(bob);
        lottery.withdrawShare(lotId, bob);
        vm.prank(carol);
        lottery.withdrawShare(lotId, carol);
        vm.assertEq(token.balanceOf(bob), 3 * LOT / SIZE);
        vm.assertEq(token.balanceOf(carol), LOT / SIZE);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNothingToWithdraw.selector, lotId, bob));
        vm.prank(bob);
        lottery.withdrawShare(lotId, bob);

        // The fine is burned; nothing goes back to the payer.
        uint256 payerBefore = token.balanceOf(payer);
        uint256 supplyBefore = token.totalSupply();
        vm.expectEmit(address(lottery));
        emit ILottery.LotFinished(lotId, 0, LOT);
        lottery.finish(lotId);
        vm.assertEq(token.balanceOf(payer), payerBefore);
        vm.assertEq(token.totalSupply(), supplyBefore - LOT);
        vm.assertEq(uint256(lottery.phase(lotId)), uint256(ILottery.Phase.Finished));
    }

    function testSharesRoundDownAndTheRemainderIsBurned() public {
        uint256 lotId = _create(SIZE);
        _withhold(lotId);
        _register(lotId, bob, 0, 3); // 3 tickets: 0.4 ether / 3 does not divide
        (,, uint256 shareDeadline) = lottery.deadlines(lotId);
        vm.warp(shareDeadline + 1);
        uint256 supplyBefore = token.totalSupply();
        lottery.finish(lotId); // finishing first does not stop the withdrawals
        vm.prank(bob);
        lottery.withdrawShare(lotId, bob);
        uint256 share = LOT / 3;
        vm.assertEq(token.balanceOf(bob), 3 * share);
        vm.assertEq(token.totalSupply(), supplyBefore - (LOT + (LOT - 3 * share)));
        vm.assertEq(token.balanceOf(address(lottery)), 0);
    }

    function testIfNobodyRegisteredTheLotGoesBackButTheFineIsBurned() public {
        uint256 lotId = _create(SIZE);
        uint256 payerBefore = token.balanceOf(payer);
        (, uint256 shareDeadline) = _withhold(lotId);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryFinishTooEarly.selector, lotId, shareDeadline));
        lottery.finish(lotId);
        vm.warp(shareDeadline + 1);
        vm.assertEq(uint256(lottery.phase(lotId)), uint256(ILottery.Phase.Settling));
        uint256 supplyBefore = token.totalSupply();
        lottery.finish(lotId);
        vm.assertEq(token.balanceOf(payer), payerBefore + LOT);
        vm.assertEq(token.totalSupply(), supplyBefore - LOT);
    }

    /// A withheld reveal forfeits the fine and the sharing remainder; they must leave the total supply, not sit at
    /// an address nobody is known to hold the key of, whether holders registered or not.
    function test_Attack_ForfeitedFineStaysInCirculationAtADeadAddress() public {
        uint256 shared = _create(SIZE);
        uint256 unshared = _create(SIZE);
        _close(shared);
        _close(unshared);
        _withhold(shared);
        _register(shared, bob, 0, 3);
        (,, uint256 shareDeadline) = lottery.deadlines(shared);
        vm.warp(shareDeadline + 1);

        uint256 burned = LOT + (LOT - 3 * (LOT / 3));
        uint256 supplyBefore = token.totalSupply();
        vm.expectEmit(address(lottery));
        emit ILottery.LotFinished(shared, 0, burned);
        lottery.finish(shared);
        vm.assertEq(token.totalSupply(), supplyBefore - burned, "supply falls by the fine and the remainder");

        supplyBefore = token.totalSupply();
        vm.expectEmit(address(lottery));
        emit ILottery.LotFinished(unshared, LOT, LOT);
        lottery.finish(unshared);
        vm.assertEq(token.totalSupply(), supplyBefore - LOT, "supply falls by the fine");
        vm.assertEq(token.balanceOf(BURN), 0, "nothing parked at the dead address");
    }

    /// @dev Withholding never pays the payer. Revealing costs it the lot value L when an index it issued wins and
    /// nothing otherwise, so at most L. Withholding costs at least L in every case: the holders who register share
    /// the whole lot and the fine L is burned. Even when the payer's own addresses register every index it
    /// never issued and take back part of the lot, the burned L remains, so withholding costs the payer at least
    /// L and at least what revealing would have cost, whatever the draw and whoever registers.
    function testWithholdingNeverPaysThePayer(uint8 issuedMask, bytes32 seed, bool sybilsRegister) public {
        uint32 size = 8;
        vm.assume(issuedMask != 0);
        vm.assume(seed != 0);
        uint256 lotValue = size * uint256(VALUE);
        uint256 start = token.balanceOf(payer) + token.balanceOf(sybil);
        uint256 lotId = _create(size);
        uint256 snapshot = vm.snapshotState();

        // Revealing.
        uint256 winner = _closeAndReveal(lotId, seed);
        bool issuedWins = (issuedMask >> winner) & 1 == 1;
        if (issuedWins) {
            bytes memory sig = _sig(lotId, uint32(winner), bob, winner);
            vm.prank(bob);
            lottery.redeem(lotId, bob, uint32(winner), winner, sig);
        }
        (, uint256 claimDeadline,) = lottery.deadlines(lotId);
        vm.warp(claimDeadline + 1);
        lottery.finish(lotId);
        uint256 revealCost = start - token.balanceOf(payer) - token.balanceOf(sybil);
        vm.assertEq(revealCost, issuedWins ? lotValue : 0);
        vm.revertToState(snapshot);

        // Withholding (the payer saw the draw and kept it).
        (, uint256 shareDeadline) = _withhold(lotId);
        for (uint32 i = 0; i < size; i++) {
            bool issued = (issuedMask >> i) & 1 == 1;
            if (!issued && !sybilsRegister) continue;
            address holder = issued ? bob : sybil;
            ILottery.TicketClaim[] memory claims = new ILottery.TicketClaim[](1);
            claims[0] = _claim(lotId, i, holder, i);
            vm.prank(holder);
            lottery.registerTickets(lotId, holder, claims);
        }
        vm.warp(shareDeadline + 1);
        vm.prank(bob);
        lottery.withdrawShare(lotId, bob);
        if (sybilsRegister && issuedMask != 0xff) {
            vm.prank(sybil);
            lottery.withdrawShare(lotId, sybil);
        }
        lottery.finish(lotId);
        uint256 withholdCost = start - token.balanceOf(payer) - token.balanceOf(sybil);
        vm.assertGe(withholdCost, lotValue, "withholding costs at least the lot");
        vm.assertGe(withholdCost, revealCost, "withholding never beats revealing");
        if (!sybilsRegister) vm.assertEq(withholdCost, 2 * lotValue); // the whole lot plus the burned fine
    }
}

/// @dev The draw cannot be ground: payees send nothing that enters it, and the payer fixed its secret before the
/// seed block existed.
contract LotteryDrawTest is LotteryFixture {
    /// @dev Whatever payees do before the reveal (which payee holds which index, which nonces they chose, in which
    /// order they act, whether and when one pins the seed, how many blocks pass), the winning index is the one the
    /// secret and the seed block's hash give.
    function testPayeesCannotGrindTheDraw(uint256 nonceSeed, uint8 holders, bool pinEarly, uint8 extraBlocks) public {
        uint256 lotId = _create(SIZE);
        bytes32 seed = keccak256("fixed block");
        uint256 seedBlock = _close(lotId);
        uint256 snapshot = vm.snapshotState();
        vm.roll(seedBlock + 1);
        vm.setBlockhash(seedBlock, seed);
        vm.prank(payer);
        lottery.reveal(lotId, SECRET);
        uint256 expected = lottery.getLot(lotId).winningIndex;
        vm.revertToState(snapshot);

        vm.roll(seedBlock + 1 + (extraBlocks % 100));
        vm.setBlockhash(seedBlock, seed);
        if (pinEarly) lottery.pinSeed(lotId);
        // Payees try to redeem their tickets before the reveal, in an order and with nonces of their choosing.
        for (uint32 i = 0; i < SIZE; i++) {
            uint32 index = uint32((i + nonceSeed % SIZE) % SIZE);
            address payee = (holders >> index) & 1 == 1 ? bob : carol;
            uint256 nonce = uint256(keccak256(abi.encode(nonceSeed, index)));
            bytes memory sig = _sig(lotId, index, payee, nonce);
            _expectStatus(lotId, ILottery.Status.Closed, ILottery.Status.Revealed);
            vm.prank(payee);
            lottery.redeem(lotId, payee, index, nonce, sig);
        }
        vm.prank(payer);
        lottery.reveal(lotId, SECRET);
        uint256 winner = lottery.getLot(lotId).winningIndex;
        vm.assertEq(winner, expected);
        vm.assertEq(winner, _winning(seed, lotId, SIZE));

        // And the holder of that index, whoever it is and whatever its nonce, is the one paid.
        address holder = (holders >> winner) & 1 == 1 ? bob : carol;
        uint256 winningNonce = uint256(keccak256(abi.encode(nonceSeed, winner)));
        bytes memory winningSig = _sig(lotId, uint32(winner), holder, winningNonce);
        vm.prank(holder);
        lottery.redeem(lotId, holder, uint32(winner), winningNonce, winningSig);
        vm.assertEq(token.balanceOf(holder), LOT);
    }

    /// @dev The payer cannot pick the seed either: it is the hash of the block after the close, whenever the reveal
    /// comes, and the secret is bound by the commitment made at creation.
    function testThePayerCannotChooseTheSeedBlockOrTheSecret(bytes32 otherSecret, uint8 wait) public {
        vm.assume(otherSecret != SECRET);
        uint256 lotId = _create(SIZE);
        uint256 seedBlock = _close(lotId);
        vm.assertEq(seedBlock, block.number + 1);
        vm.roll(seedBlock + 1 + (wait % 200));
        for (uint256 b = seedBlock - 1; b < block.number; b++) {
            vm.setBlockhash(b, keccak256(abi.encode("block", b)));
        }
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSecret.selector, lotId));
        vm.prank(payer);
        lottery.reveal(lotId, otherSecret);
        vm.prank(payer);
        lottery.reveal(lotId, SECRET);
        vm.assertEq(
            lottery.getLot(lotId).winningIndex, _winning(keccak256(abi.encode("block", seedBlock)), lotId, SIZE)
        );
    }
}

/// @dev Double issue: covered payees robbed of the winning (or a registered) index are paid from their own cover,
/// whoever sends the claim; the payer's own addresses draw on nothing but covers it funded for them.
contract LotteryDoubleIssueTest is LotteryFixture {
    uint256 internal sybil2Key = 0x5B2;

    function _finishAndCost(uint256 lotId, uint256 start) internal returns (uint256) {
        (, uint256 claimDeadline,) = lottery.deadlines(lotId);
        vm.warp(claimDeadline + 1);
        lottery.finish(lotId);
        return start - token.balanceOf(payer) - token.balanceOf(sybil) - token.balanceOf(vm.addr(sybil2Key));
    }

    /// @dev 14. The payer signs every index three times (bob, carol, its own address), redeems the winning index
    /// from its own address and tries to take a reward from a second address: there is none to take, and bob and
    /// carol, both robbed of the winning index, are each paid the lot value from their own cover.
    function test_Attack_PayerOverIssuesTicketsAndTakesTheDoubleIssueReward() public {
        address sybil2 = vm.addr(sybil2Key);
        uint256 start = token.balanceOf(payer);
        uint256 lotId = _create(SIZE, _list(bob, carol));
        uint256 w = _closeAndReveal(lotId, _seedFor(lotId, SIZE, 1));
        bytes memory bobs = _sig(lotId, uint32(w), bob, 1);
        bytes memory carols = _sig(lotId, uint32(w), carol, 2);
        bytes memory own = _sig(lotId, uint32(w), sybil, 3);
        bytes memory own2 = _sig(lotId, uint32(w), sybil2, 4);
        vm.prank(sybil);
        lottery.redeem(lotId, sybil, uint32(w), 3, own);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotCovered.selector, lotId, sybil2));
        vm.prank(sybil2);
        lottery.claimCover(lotId, ILottery.Ticket(uint32(w), sybil2, 4), own2);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryAlreadyRedeemed.selector, lotId));
        vm.prank(sybil2);
        lottery.redeem(lotId, sybil2, uint32(w), 4, own2);
        vm.expectEmit(address(lottery));
        emit ILottery.CoverPaid(lotId, w, bob, 1, LOT);
        vm.prank(bob);
        lottery.redeem(lotId, bob, uint32(w), 1, bobs);
        vm.prank(carol);
        lottery.claimCover(lotId, ILottery.Ticket(uint32(w), carol, 2), carols);
        vm.assertEq(token.balanceOf(bob), LOT, "bob, robbed of the winning index, is paid");
        vm.assertEq(token.balanceOf(carol), LOT, "carol, robbed of the winning index, is paid");
        vm.assertEq(_finishAndCost(lotId, start), 2 * LOT, "two payees served for the whole lot: two lots");
    }

    /// @dev 15. The payer signs the winning index to its own address after the reveal and redeems it first: the
    /// covered winner is paid the lot value all the same, so robbing costs what paying the winner costs.
    function test_Attack_PayerRobsTheWinnerAtNoExtraCost() public {
        uint256 start = token.balanceOf(payer);
        uint256 lotId = _create(SIZE, _list(bob));
        bytes memory bobs = _sig(lotId, 2, bob, 22);
        _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        bytes memory stolen = _sig(lotId, 2, sybil, 666);
        vm.prank(sybil);
        lottery.redeem(lotId, sybil, 2, 666, stolen);
        vm.prank(bob);
        lottery.redeem(lotId, bob, 2, 22, bobs);
        vm.assertEq(token.balanceOf(bob), LOT, "the winner is paid");
        vm.assertFalse(lottery.isCovered(lotId, bob));
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotCovered.selector, lotId, bob));
        vm.prank(bob);
        lottery.redeem(lotId, bob, 2, 22, bobs);
        vm.assertEq(_finishAndCost(lotId, start), LOT, "exactly what paying the winner costs");
    }

    /// @dev 16. Dave copies bob's claim from the mempool and sends it first: bob is paid, dave gets nothing.
    function test_Attack_ProofOfDoubleIssueIsFrontRun() public {
        uint256 lotId = _create(SIZE, _list(bob));
        bytes memory bobs = _sig(lotId, 2, bob, 22);
        _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        bytes memory stolen = _sig(lotId, 2, sybil, 666);
        vm.prank(sybil);
        lottery.redeem(lotId, sybil, 2, 666, stolen);
        vm.prank(dave);
        lottery.claimCover(lotId, ILottery.Ticket(2, bob, 22), bobs);
        vm.assertEq(token.balanceOf(dave), 0, "the front-runner gets nothing");
        vm.assertEq(token.balanceOf(bob), LOT, "the robbed payee is paid whoever sends the claim");
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotCovered.selector, lotId, bob));
        lottery.claimCover(lotId, ILottery.Ticket(2, bob, 22), bobs);
    }

    function testWhatIsNotARobberyIsRefused() public {
        uint256 lotId = _create(SIZE, _list(bob, carol));
        bytes memory bobs = _sig(lotId, 2, bob, 22);
        bytes memory carols = _sig(lotId, 1, carol, 1);
        // Nothing drawn yet: nobody was robbed.
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotRobbed.selector, lotId, 2, bob));
        lottery.claimCover(lotId, ILottery.Ticket(2, bob, 22), bobs);
        _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        // Drawn but not redeemed: the holder redeems, it does not claim.
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotRobbed.selector, lotId, 2, bob));
        lottery.claimCover(lotId, ILottery.Ticket(2, bob, 22), bobs);
        vm.prank(bob);
        lottery.redeem(lotId, bob, 2, 22, bobs);
        // The redeemer itself, with another nonce, was not robbed (its cover was used by its redemption); nor is
        // the holder of a losing index.
        vm.assertFalse(lottery.isCovered(lotId, bob));
        bytes memory again = _sig(lotId, 2, bob, 23);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotCovered.selector, lotId, bob));
        lottery.claimCover(lotId, ILottery.Ticket(2, bob, 23), again);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotCovered.selector, lotId, bob));
        vm.prank(bob);
        lottery.redeem(lotId, bob, 2, 23, again);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotRobbed.selector, lotId, 1, carol));
        lottery.claimCover(lotId, ILottery.Ticket(1, carol, 1), carols);
        // Uncovered, foreign-signed, beyond the lot, after the window.
        bytes memory daves = _sig(lotId, 2, dave, 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotCovered.selector, lotId, dave));
        lottery.claimCover(lotId, ILottery.Ticket(2, dave, 1), daves);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(sybilKey, lottery.ticketDigest(lotId, 2, carol, 5));
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, sybil));
        lottery.claimCover(lotId, ILottery.Ticket(2, carol, 5), abi.encodePacked(r, s, v));
        bytes memory beyond = _sig(lotId, SIZE, carol, 5);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryIndexOutOfRange.selector, lotId, SIZE, SIZE));
        lottery.claimCover(lotId, ILottery.Ticket(SIZE, carol, 5), beyond);
        bytes memory carols2 = _sig(lotId, 2, carol, 2);
        (, uint256 claimDeadline,) = lottery.deadlines(lotId);
        vm.warp(claimDeadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryClaimWindowClosed.selector, lotId, claimDeadline));
        lottery.claimCover(lotId, ILottery.Ticket(2, carol, 2), carols2);
        // Unpaid covers go back with the fine.
        uint256 before = token.balanceOf(payer);
        vm.expectEmit(address(lottery));
        emit ILottery.LotFinished(lotId, 3 * LOT, 0);
        lottery.finish(lotId);
        vm.assertEq(token.balanceOf(payer), before + 3 * LOT);
        vm.assertEq(token.balanceOf(address(lottery)), 0);
    }

    /// @dev In sharing, the payer's address registers an index it had issued to bob: bob's registration of it
    /// counts as robbed and is paid a share from his cover, whoever sends the claim, once per index.
    function testARobbedRegistrationIsPaidAShareFromTheCover() public {
        uint256 start = token.balanceOf(payer);
        uint256 lotId = _create(SIZE, _list(bob));
        _close(lotId);
        (uint256 revealDeadline,, uint256 shareDeadline) = lottery.deadlines(lotId);
        vm.warp(revealDeadline + 1);
        ILottery.TicketClaim[] memory claims = new ILottery.TicketClaim[](1);
        claims[0] = _claim(lotId, 0, sybil, 5);
        vm.prank(sybil);
        lottery.registerTickets(lotId, sybil, claims);
        ILottery.TicketClaim[] memory bobs = new ILottery.TicketClaim[](2);
        bobs[0] = _claim(lotId, 0, bob, 1);
        bobs[1] = _claim(lotId, 1, bob, 2);
        vm.expectEmit(address(lottery));
        emit ILottery.RobbedShareOwed(lotId, 0, bob, 1);
        vm.prank(bob);
        lottery.registerTickets(lotId, bob, bobs);
        vm.assertEq(lottery.robbedBy(lotId, bob), 1);
        vm.assertEq(lottery.registeredBy(lotId, bob), 1);
        // Once per index, whatever the nonce or the sender; an uncovered payee is simply refused.
        bytes memory other = _sig(lotId, 0, bob, 9);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryRobbedTicketCounted.selector, lotId, 0, bob));
        vm.prank(dave);
        lottery.claimCover(lotId, ILottery.Ticket(0, bob, 9), other);
        ILottery.TicketClaim[] memory carols = new ILottery.TicketClaim[](1);
        carols[0] = _claim(lotId, 0, carol, 3);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryTicketRegistered.selector, lotId, 0));
        vm.prank(carol);
        lottery.registerTickets(lotId, carol, carols);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotRobbed.selector, lotId, 1, bob));
        lottery.claimCover(lotId, ILottery.Ticket(1, bob, 2), bobs[1].signature);

        vm.warp(shareDeadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryShareWindowClosed.selector, lotId, shareDeadline));
        lottery.claimCover(lotId, ILottery.Ticket(0, bob, 9), other);
        lottery.finish(lotId);
        vm.prank(bob);
        lottery.withdrawShare(lotId, bob);
        vm.prank(sybil);
        lottery.withdrawShare(lotId, sybil);
        vm.assertEq(token.balanceOf(bob), LOT, "bob is paid his two tickets' shares");
        vm.assertEq(token.balanceOf(address(lottery)), 0);
        uint256 cost = start - token.balanceOf(payer) - token.balanceOf(sybil);
        vm.assertEq(cost, 2 * LOT, "what withholding costs when bob registers both: the lot and the fine");
    }

    /// @dev Whatever indices the payer issues a second time (to carol, covered) and whether it also signs the
    /// winning index to its own address and redeems first, every covered holder of the winning index is paid the
    /// lot value; over all draws the payer pays exactly ticketValue per ticket a covered payee accepted, what an
    /// honest lot costs per ticket. Issuing an index twice never lowers the price of a payment.
    function testAPayerIsNeverBetterOffForIssuingAnIndexTwice(uint8 twiceMask, bool robFirst) public {
        uint32 size = 8;
        uint256 tickets = size;
        for (uint256 i = 0; i < size; i++) {
            if ((twiceMask >> i) & 1 == 1) tickets++;
        }
        uint256 total;
        for (uint256 w = 0; w < size; w++) {
            uint256 snapshot = vm.snapshotState();
            uint256 start = token.balanceOf(payer);
            uint256 lotId = _create(size, _list(bob, carol));
            _closeAndReveal(lotId, _seedFor(lotId, size, w));
            if (robFirst) {
                bytes memory own = _sig(lotId, uint32(w), sybil, 7);
                vm.prank(sybil);
                lottery.redeem(lotId, sybil, uint32(w), 7, own);
            }
            bytes memory bobs = _sig(lotId, uint32(w), bob, w);
            vm.prank(bob);
            lottery.redeem(lotId, bob, uint32(w), w, bobs);
            if ((twiceMask >> w) & 1 == 1) {
                bytes memory carols = _sig(lotId, uint32(w), carol, w);
                vm.prank(carol);
                lottery.redeem(lotId, carol, uint32(w), w, carols);
                vm.assertEq(token.balanceOf(carol), size * uint256(VALUE));
            }
            vm.assertEq(token.balanceOf(bob), size * uint256(VALUE));
            total += _finishAndCost(lotId, start);
            vm.revertToState(snapshot);
        }
        // Expected cost over the uniform draw = total / size; per ticket accepted = ticketValue.
        vm.assertEq(total, tickets * size * uint256(VALUE));
    }
}
