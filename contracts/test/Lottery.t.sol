// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ILottery} from "../interfaces/ILottery.sol";
import {PaymentFunding} from "../libraries/PaymentFunding.sol";
import {Lottery} from "../Lottery.sol";
import {Token} from "../Token.sol";
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
        lottery = new Lottery(IERC20(address(token)), REVEAL_WINDOW, CLAIM_WINDOW, SHARE_WINDOW);
        token.transfer(payer, 1_000 ether);
        vm.prank(payer);
        token.approve(address(lottery), type(uint256).max);
    }

    function _create(uint32 size) internal returns (uint256 lotId) {
        vm.prank(payer);
        lotId = lottery.createLot(size, VALUE, keccak256(abi.encode(payer, SECRET)), closeBy);
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

/// @dev Lottery rules: funding with a bond, closing, commit-reveal draw with a pinned seed, the single winning
/// redemption, the claim window, sharing after a withheld reveal, and the payer's refund.
contract LotteryTest is LotteryFixture {
    function testCreateLotFundsTheLotAndTheBondUpFront() public {
        uint256 before = token.balanceOf(payer);
        vm.expectEmit(address(lottery));
        emit ILottery.LotCreated(1, payer, SIZE, VALUE, 2 * LOT, keccak256(abi.encode(payer, SECRET)), closeBy);
        uint256 lotId = _create(SIZE);
        vm.assertEq(token.balanceOf(payer), before - 3 * LOT);
        vm.assertEq(token.balanceOf(address(lottery)), 3 * LOT);
        vm.assertEq(lottery.depositFor(SIZE, VALUE), 3 * LOT);
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
        vm.startPrank(payer);
        vm.expectRevert(ILottery.LotteryInvalidTerms.selector);
        lottery.createLot(0, VALUE, SECRET, closeBy);
        vm.expectRevert(ILottery.LotteryInvalidTerms.selector);
        lottery.createLot(SIZE, 0, SECRET, closeBy);
        vm.expectRevert(ILottery.LotteryInvalidTerms.selector);
        lottery.createLot(SIZE, VALUE, bytes32(0), closeBy);
        vm.expectRevert(ILottery.LotteryInvalidTerms.selector);
        lottery.createLot(SIZE, VALUE, SECRET, uint40(block.timestamp));
        vm.stopPrank();
    }

    function testWindowsMustBeNonZero() public {
        vm.expectRevert(ILottery.LotteryInvalidWindows.selector);
        new Lottery(IERC20(address(token)), 0, 1, 1);
        vm.expectRevert(ILottery.LotteryInvalidWindows.selector);
        new Lottery(IERC20(address(token)), 1, 0, 1);
        vm.expectRevert(ILottery.LotteryInvalidWindows.selector);
        new Lottery(IERC20(address(token)), 1, 1, 0);
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
        uint256 value = lottery.depositFor(SIZE, VALUE);
        uint256 deadline = block.timestamp + 1 hours;
        bytes32 structHash = keccak256(
            abi.encode(
                keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)"),
                owner,
                address(lottery),
                value,
                token.nonces(owner),
                deadline
            )
        );
        (uint8 v, bytes32 r, bytes32 s) =
            vm.sign(key, keccak256(abi.encodePacked(hex"1901", token.DOMAIN_SEPARATOR(), structHash)));
        bytes32 commitment = keccak256(abi.encode(owner, SECRET));
        vm.prank(owner);
        uint256 lotId = lottery.createLotWithPermit(SIZE, VALUE, commitment, closeBy, PaymentFunding.Permit(value, deadline, v, r, s));
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
        lottery.redeem(lotId, 2, 22, bobs.signature);
        vm.assertEq(_closeAndReveal(lotId, _seedFor(lotId, SIZE, 2)), 2);

        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotWinningIndex.selector, lotId, 3, 2));
        vm.prank(carol);
        lottery.redeem(lotId, 3, 33, carols.signature);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryIndexOutOfRange.selector, lotId, SIZE, SIZE));
        vm.prank(carol);
        lottery.redeem(lotId, SIZE, 33, carols.signature);

        uint256 before = token.balanceOf(bob);
        vm.expectEmit(address(lottery));
        emit ILottery.WinnerPaid(lotId, 2, bob, 22, bobs.signature, LOT);
        vm.prank(bob);
        lottery.redeem(lotId, 2, 22, bobs.signature);
        vm.assertEq(token.balanceOf(bob), before + LOT);
        vm.assertEq(uint256(lottery.getLot(lotId).status), uint256(ILottery.Status.Redeemed));

        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryAlreadyRedeemed.selector, lotId));
        vm.prank(bob);
        lottery.redeem(lotId, 2, 22, bobs.signature);

        // The payer gets its bond back once the claim window is over.
        (, uint256 claimDeadline,) = lottery.deadlines(lotId);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryFinishTooEarly.selector, lotId, claimDeadline));
        lottery.finish(lotId);
        vm.warp(claimDeadline + 1);
        vm.assertEq(uint256(lottery.phase(lotId)), uint256(ILottery.Phase.Settling));
        uint256 payerBefore = token.balanceOf(payer);
        vm.expectEmit(address(lottery));
        emit ILottery.LotFinished(lotId, 2 * LOT, 0);
        lottery.finish(lotId);
        vm.assertEq(token.balanceOf(payer), payerBefore + 2 * LOT);
        vm.assertEq(token.balanceOf(address(lottery)), 0);
        vm.assertEq(uint256(lottery.phase(lotId)), uint256(ILottery.Phase.Finished));
        _expectStatus(lotId, ILottery.Status.Finished, ILottery.Status.Revealed);
        vm.prank(bob);
        lottery.redeem(lotId, 2, 22, bobs.signature);
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
        lottery.redeem(lotId, 1, 1, late);
        // The payer never issued index 1 (or its holder slept): the whole deposit comes back.
        lottery.finish(lotId);
        vm.assertEq(token.balanceOf(payer), payerBefore + 3 * LOT);
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
        lottery.redeem(lotId, 0, 7, sig);

        // A ticket of one lot presented in another.
        recovered = _recover(lottery.ticketDigest(otherLot, 0, bob, 7), sig);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, otherLot, recovered));
        vm.prank(bob);
        lottery.redeem(otherLot, 0, 7, sig);

        // Another nonce than the one signed.
        recovered = _recover(lottery.ticketDigest(lotId, 0, bob, 8), sig);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, recovered));
        vm.prank(bob);
        lottery.redeem(lotId, 0, 8, sig);

        // Signed for another contract.
        Lottery other = new Lottery(IERC20(address(token)), REVEAL_WINDOW, CLAIM_WINDOW, SHARE_WINDOW);
        sig = _sig(other, lotId, 0, bob, 7);
        recovered = _recover(lottery.ticketDigest(lotId, 0, bob, 7), sig);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, recovered));
        vm.prank(bob);
        lottery.redeem(lotId, 0, 7, sig);

        // Signed on another chain.
        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        sig = _sig(lotId, 0, bob, 7);
        vm.chainId(chain);
        recovered = _recover(lottery.ticketDigest(lotId, 0, bob, 7), sig);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, recovered));
        vm.prank(bob);
        lottery.redeem(lotId, 0, 7, sig);

        // Signed by someone else than the payer.
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(sybilKey, lottery.ticketDigest(lotId, 0, bob, 7));
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, sybil));
        vm.prank(bob);
        lottery.redeem(lotId, 0, 7, abi.encodePacked(r, s, v));

        // The right ticket still works.
        sig = _sig(lotId, 0, bob, 7);
        vm.prank(bob);
        lottery.redeem(lotId, 0, 7, sig);
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
        lottery.redeem(lotId, 0, 1, twin);
        (bytes32 cr, bytes32 vs) = vm.signCompact(payerKey, digest);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 64));
        vm.prank(bob);
        lottery.redeem(lotId, 0, 1, abi.encodePacked(cr, vs));
        // The same refusals hold where tickets are registered and where double issues are proven.
        ILottery.Ticket memory a = ILottery.Ticket(0, bob, 1);
        ILottery.Ticket memory b = ILottery.Ticket(0, carol, 1);
        bytes memory sigB = _sig(lotId, 0, carol, 1);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureS.selector, highS));
        lottery.proveDoubleIssue(lotId, a, twin, b, sigB);
        vm.expectRevert(abi.encodeWithSelector(ECDSA.ECDSAInvalidSignatureLength.selector, 64));
        lottery.proveDoubleIssue(lotId, a, abi.encodePacked(cr, vs), b, sigB);
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
        lottery.registerTickets(lotId, claims);
    }

    function testAWithheldRevealSharesTheLotEquallyAmongRegisteredHolders() public {
        uint256 lotId = _create(SIZE);
        ILottery.TicketClaim[] memory one = new ILottery.TicketClaim[](1);
        one[0] = _claim(lotId, 3, carol, 3);
        _expectStatus(lotId, ILottery.Status.Open, ILottery.Status.Closed);
        vm.prank(carol);
        lottery.registerTickets(lotId, one);
        _close(lotId);
        (uint256 revealDeadline,, uint256 shareDeadline) = lottery.deadlines(lotId);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryRevealWindowOpen.selector, lotId, revealDeadline));
        vm.prank(carol);
        lottery.registerTickets(lotId, one);
        _withhold(lotId);

        _register(lotId, bob, 0, 3);
        vm.expectEmit(address(lottery));
        emit ILottery.TicketRegistered(lotId, 3, carol, 3, one[0].signature);
        vm.prank(carol);
        lottery.registerTickets(lotId, one);
        vm.assertEq(lottery.registeredBy(lotId, bob), 3);
        vm.assertTrue(lottery.isRegistered(lotId, 3));
        vm.assertEq(lottery.getLot(lotId).registered, SIZE);

        // Each index once, within the lot, signed by the payer for the caller, at least one ticket.
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryTicketRegistered.selector, lotId, 3));
        vm.prank(carol);
        lottery.registerTickets(lotId, one);
        ILottery.TicketClaim[] memory bad = new ILottery.TicketClaim[](1);
        bad[0] = _claim(lotId, SIZE, carol, 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryIndexOutOfRange.selector, lotId, SIZE, SIZE));
        vm.prank(carol);
        lottery.registerTickets(lotId, bad);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryEmptyRegistration.selector, lotId));
        vm.prank(carol);
        lottery.registerTickets(lotId, new ILottery.TicketClaim[](0));
        uint256 other = _create(SIZE);
        _withhold(other);
        one[0] = _claim(other, 0, bob, 0);
        address recovered = _recover(lottery.ticketDigest(other, 0, carol, 0), one[0].signature);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, other, recovered));
        vm.prank(carol);
        lottery.registerTickets(other, one);

        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryShareWindowOpen.selector, lotId, shareDeadline));
        vm.prank(bob);
        lottery.withdrawShare(lotId);
        vm.warp(shareDeadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryShareWindowClosed.selector, lotId, shareDeadline));
        vm.prank(carol);
        lottery.registerTickets(lotId, one);

        vm.expectEmit(address(lottery));
        emit ILottery.ShareWithdrawn(lotId, bob, 3, 3 * LOT / SIZE);
        vm.prank(bob);
        lottery.withdrawShare(lotId);
        vm.prank(carol);
        lottery.withdrawShare(lotId);
        vm.assertEq(token.balanceOf(bob), 3 * LOT / SIZE);
        vm.assertEq(token.balanceOf(carol), LOT / SIZE);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNothingToWithdraw.selector, lotId, bob));
        vm.prank(bob);
        lottery.withdrawShare(lotId);

        // The payer gets one lot value of its bond back; the other is burned.
        uint256 payerBefore = token.balanceOf(payer);
        vm.expectEmit(address(lottery));
        emit ILottery.LotFinished(lotId, LOT, LOT);
        lottery.finish(lotId);
        vm.assertEq(token.balanceOf(payer), payerBefore + LOT);
        vm.assertEq(token.balanceOf(BURN), LOT);
        vm.assertEq(uint256(lottery.phase(lotId)), uint256(ILottery.Phase.Finished));
    }

    function testSharesRoundDownAndTheRemainderIsBurned() public {
        uint256 lotId = _create(SIZE);
        _withhold(lotId);
        _register(lotId, bob, 0, 3); // 3 tickets: 0.4 ether / 3 does not divide
        (,, uint256 shareDeadline) = lottery.deadlines(lotId);
        vm.warp(shareDeadline + 1);
        lottery.finish(lotId); // finishing first does not stop the withdrawals
        vm.prank(bob);
        lottery.withdrawShare(lotId);
        uint256 share = LOT / 3;
        vm.assertEq(token.balanceOf(bob), 3 * share);
        vm.assertEq(token.balanceOf(BURN), LOT + (LOT - 3 * share));
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
        lottery.finish(lotId);
        vm.assertEq(token.balanceOf(payer), payerBefore + 2 * LOT);
        vm.assertEq(token.balanceOf(BURN), LOT);
    }

    /// @dev Withholding never pays the payer. Revealing costs it the lot value L when an index it issued wins and
    /// nothing otherwise, so at most L. Withholding costs at least L in every case: the holders who register share
    /// the whole lot and one L of the bond is burned. Even when the payer's own addresses register every index it
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
            lottery.redeem(lotId, uint32(winner), winner, sig);
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
            lottery.registerTickets(lotId, claims);
        }
        vm.warp(shareDeadline + 1);
        vm.prank(bob);
        lottery.withdrawShare(lotId);
        if (sybilsRegister && issuedMask != 0xff) {
            vm.prank(sybil);
            lottery.withdrawShare(lotId);
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
            lottery.redeem(lotId, index, nonce, sig);
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
        lottery.redeem(lotId, uint32(winner), winningNonce, winningSig);
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

/// @dev Double issue: the proof's reward and burn, its refusals, and why it never pays the payer.
contract LotteryDoubleIssueTest is LotteryFixture {
    function _pair(uint256 lotId, uint32 index, address payeeA, address payeeB)
        private
        view
        returns (ILottery.Ticket memory a, bytes memory sigA, ILottery.Ticket memory b, bytes memory sigB)
    {
        a = ILottery.Ticket(index, payeeA, 1);
        b = ILottery.Ticket(index, payeeB, 2);
        sigA = _sig(lotId, index, payeeA, 1);
        sigB = _sig(lotId, index, payeeB, 2);
    }

    function testAProvenDoubleIssuePaysTheProverAndBurnsALotAndTheLotGoesOn() public {
        uint256 lotId = _create(SIZE);
        (ILottery.Ticket memory a, bytes memory sigA, ILottery.Ticket memory b, bytes memory sigB) =
            _pair(lotId, 1, bob, carol);
        vm.expectEmit(address(lottery));
        emit ILottery.DoubleIssueProven(lotId, 1, dave, LOT, LOT);
        vm.prank(dave); // anyone who saw both tickets
        lottery.proveDoubleIssue(lotId, a, sigA, b, sigB);
        vm.assertEq(token.balanceOf(dave), LOT);
        vm.assertEq(token.balanceOf(BURN), LOT);
        vm.assertTrue(lottery.getLot(lotId).doubleIssued);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryDoubleIssueAlreadyProven.selector, lotId));
        lottery.proveDoubleIssue(lotId, b, sigB, a, sigA);

        // The draw goes on: the winner of another index is paid, and the payer gets no bond back.
        uint256 payerBefore = token.balanceOf(payer);
        uint256 winner = _closeAndReveal(lotId, _seedFor(lotId, SIZE, 3));
        bytes memory sig = _sig(lotId, uint32(winner), bob, 9);
        vm.prank(bob);
        lottery.redeem(lotId, uint32(winner), 9, sig);
        vm.assertEq(token.balanceOf(bob), LOT);
        (, uint256 claimDeadline,) = lottery.deadlines(lotId);
        vm.warp(claimDeadline + 1);
        lottery.finish(lotId);
        vm.assertEq(token.balanceOf(payer), payerBefore);
        vm.assertEq(token.balanceOf(address(lottery)), 0);
    }

    function testWhatIsNotADoubleIssueIsRefused() public {
        uint256 lotId = _create(SIZE);
        (ILottery.Ticket memory a, bytes memory sigA, ILottery.Ticket memory b, bytes memory sigB) =
            _pair(lotId, 1, bob, carol);
        _expectStatus(7, ILottery.Status.None, ILottery.Status.Open);
        lottery.proveDoubleIssue(7, a, sigA, b, sigB);
        // The same ticket twice.
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotADoubleIssue.selector, lotId));
        lottery.proveDoubleIssue(lotId, a, sigA, a, sigA);
        // Two tickets for different indices.
        ILottery.Ticket memory c = ILottery.Ticket(2, carol, 2);
        bytes memory sigC = _sig(lotId, 2, carol, 2);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryNotADoubleIssue.selector, lotId));
        lottery.proveDoubleIssue(lotId, a, sigA, c, sigC);
        // One payee, two nonces: a double issue too (refused below only for the forged signature).
        ILottery.Ticket memory d = ILottery.Ticket(1, bob, 5);
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(sybilKey, lottery.ticketDigest(lotId, 1, bob, 5));
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, sybil));
        lottery.proveDoubleIssue(lotId, a, sigA, d, abi.encodePacked(r, s, v));
        // A signature that does not match its ticket.
        address recovered = _recover(lottery.ticketDigest(lotId, 1, carol, 2), sigA);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryWrongSigner.selector, lotId, recovered));
        lottery.proveDoubleIssue(lotId, a, sigA, b, sigA);
        // Beyond the lot: no payee takes such tickets, so no one was cheated.
        (a, sigA, b, sigB) = _pair(lotId, SIZE, bob, carol);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryIndexOutOfRange.selector, lotId, SIZE, SIZE));
        lottery.proveDoubleIssue(lotId, a, sigA, b, sigB);
        // After the lot's last window.
        (a, sigA, b, sigB) = _pair(lotId, 0, bob, carol);
        _closeAndReveal(lotId, keccak256("x"));
        (, uint256 claimDeadline,) = lottery.deadlines(lotId);
        vm.warp(claimDeadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryProofWindowClosed.selector, lotId, claimDeadline));
        lottery.proveDoubleIssue(lotId, a, sigA, b, sigB);
        lottery.finish(lotId);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryProofWindowClosed.selector, lotId, claimDeadline));
        lottery.proveDoubleIssue(lotId, a, sigA, b, sigB);
    }

    /// @dev The payer, having seen the draw, signs the winning index again for its own address and redeems first.
    /// The robbed holder proves the double issue from the logged ticket and is made whole by the bond; the payer
    /// has paid the lot to itself, and lost 2 L of bond: worse than paying the winner.
    function testAPayerRobbingTheWinnerPaysTheVictimAndLosesMore() public {
        uint256 start = token.balanceOf(payer);
        uint256 lotId = _create(SIZE);
        bytes memory bobs = _sig(lotId, 2, bob, 22);
        _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        bytes memory stolen = _sig(lotId, 2, sybil, 666);
        vm.prank(sybil);
        lottery.redeem(lotId, 2, 666, stolen);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryAlreadyRedeemed.selector, lotId));
        vm.prank(bob);
        lottery.redeem(lotId, 2, 22, bobs);

        vm.prank(bob);
        lottery.proveDoubleIssue(lotId, ILottery.Ticket(2, bob, 22), bobs, ILottery.Ticket(2, sybil, 666), stolen);
        vm.assertEq(token.balanceOf(bob), LOT, "the victim is made whole");
        (, uint256 claimDeadline,) = lottery.deadlines(lotId);
        vm.warp(claimDeadline + 1);
        lottery.finish(lotId);
        uint256 cost = start - token.balanceOf(payer) - token.balanceOf(sybil);
        vm.assertEq(cost, 2 * LOT); // honest: LOT
    }

    /// @dev Same robbery, but the payer also proves its own double issue (two of its addresses) before the victim,
    /// keeping the reward. The burned lot value still makes it cost exactly what paying the winner costs.
    function testAPayerProvingItsOwnDoubleIssueGainsNothing() public {
        uint256 start = token.balanceOf(payer);
        uint256 lotId = _create(SIZE);
        bytes memory bobs = _sig(lotId, 2, bob, 22);
        _closeAndReveal(lotId, _seedFor(lotId, SIZE, 2));
        bytes memory stolen = _sig(lotId, 2, sybil, 666);
        bytes memory again = _sig(lotId, 2, sybil, 667);
        vm.startPrank(sybil);
        lottery.redeem(lotId, 2, 666, stolen);
        lottery.proveDoubleIssue(lotId, ILottery.Ticket(2, sybil, 666), stolen, ILottery.Ticket(2, sybil, 667), again);
        vm.stopPrank();
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryDoubleIssueAlreadyProven.selector, lotId));
        vm.prank(bob);
        lottery.proveDoubleIssue(lotId, ILottery.Ticket(2, bob, 22), bobs, ILottery.Ticket(2, sybil, 666), stolen);
        (, uint256 claimDeadline,) = lottery.deadlines(lotId);
        vm.warp(claimDeadline + 1);
        lottery.finish(lotId);
        uint256 cost = start - token.balanceOf(payer) - token.balanceOf(sybil);
        vm.assertEq(cost, LOT);
    }

    /// @dev In sharing, the payer's address registers an index it had issued to bob, so bob cannot register it;
    /// bob proves the double issue from the logged registration and is paid a lot value, more than the share.
    function testADoubleIssueSeenInSharingIsProvenThere() public {
        uint256 lotId = _create(SIZE);
        _close(lotId);
        (uint256 revealDeadline,, uint256 shareDeadline) = lottery.deadlines(lotId);
        vm.warp(revealDeadline + 1);
        ILottery.TicketClaim[] memory claims = new ILottery.TicketClaim[](1);
        claims[0] = _claim(lotId, 0, sybil, 5);
        vm.prank(sybil);
        lottery.registerTickets(lotId, claims);
        ILottery.TicketClaim[] memory bobs = new ILottery.TicketClaim[](1);
        bobs[0] = _claim(lotId, 0, bob, 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryTicketRegistered.selector, lotId, 0));
        vm.prank(bob);
        lottery.registerTickets(lotId, bobs);
        vm.prank(bob);
        lottery.proveDoubleIssue(
            lotId, ILottery.Ticket(0, bob, 1), bobs[0].signature, ILottery.Ticket(0, sybil, 5), claims[0].signature
        );
        vm.assertEq(token.balanceOf(bob), LOT);
        vm.warp(shareDeadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ILottery.LotteryProofWindowClosed.selector, lotId, shareDeadline));
        lottery.proveDoubleIssue(
            lotId, ILottery.Ticket(0, bob, 1), bobs[0].signature, ILottery.Ticket(0, sybil, 5), claims[0].signature
        );
        // The fine was burned with the proof: finishing burns nothing more and refunds nothing.
        uint256 burned = token.balanceOf(BURN);
        vm.expectEmit(address(lottery));
        emit ILottery.LotFinished(lotId, 0, 0);
        lottery.finish(lotId);
        vm.assertEq(token.balanceOf(BURN), burned);
        vm.prank(sybil);
        lottery.withdrawShare(lotId);
        vm.assertEq(token.balanceOf(address(lottery)), 0);
    }
}
