// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ILottery} from "./interfaces/ILottery.sol";
import {PaymentFunding} from "./libraries/PaymentFunding.sol";
import {PaymentSignatures} from "./libraries/PaymentSignatures.sol";

/// @title Probabilistic micropayment lots
/// @notice See {ILottery}. Only the winning ticket touches the chain: a lot of any size costs fund, close, reveal
/// and one redemption (plus the bond's return), so the gas per payment falls as 1 / lotSize.
///
/// The draw. `winningIndex = keccak256(abi.encode(secret, blockhash(seedBlock), lotId)) % lotSize` with
/// `seedBlock = closeBlock + 1`. The payer committed to `secret` at creation, before any ticket existed, and the
/// seed block is mined only after the close, so when the payer closes it cannot know the outcome; payees send
/// nothing that enters it; a block producer, who could steer the block hash, does not know the secret. Block
/// hashes are readable for 256 blocks: {pinSeed} keeps the hash for a later reveal. If it was neither pinned nor
/// revealed in time, there is no redraw (a redraw would give the payer, who learns the outcome first, a second
/// draw): the payer has withheld the reveal.
///
/// Why each fault costs the payer at least the lot value L, the most an honest lot costs (L when an issued index
/// wins, nothing when the winner is an index the payer never issued, which comes back to it after the window):
/// - Withheld reveal. The whole lot goes to the ticket holders who register, and one L of the bond is burned.
///   The payer's own addresses can register the indices it never issued and take back part of the lot, at most
///   (lotSize - issued) / lotSize of it, but the burned L alone already makes withholding cost at least L. So
///   a payer that learned the outcome first never gains by keeping it from the chain.
/// - Double issue (one index signed for two (payee, nonce)). The payer can always make one between two of its
///   own addresses, so the proof's reward may end up with the payer; that is why the bond is 2 L: one L rewards
///   the prover (it makes whole a winner robbed of its lot by a second ticket for its index, the most a double
///   issue can take from one payee), the other L is burned whoever proves. A payer who signs the winning index
///   again for itself, redeems it and proves its own double issue before the victim does still loses the
///   burned L, exactly what paying the winner would have cost. Signing an index twice for twice the service
///   costs, in expectation, P(the index wins) × 2 L = 2 × ticketValue, more than the ticket it bought. The lot
///   itself goes on (draw or sharing) unchanged, so honest holders of other indices keep their chances.
/// One bond covers one proof per lot: payees refuse tickets of a lot whose double issue was proven (the app's
/// TicketBook checks `doubleIssued`), and an index issued more than three times is beyond what it deters.
contract Lottery is ILottery, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Where forfeited value goes: nobody holds its key.
    address public constant BURN_ADDRESS = 0x000000000000000000000000000000000000dEaD;
    /// @notice The bond in lot values: one rewards a double-issue proof, one is burned for any fault.
    uint256 public constant BOND_LOTS = 2;
    /// @notice Blocks back for which BLOCKHASH returns a hash.
    uint256 public constant BLOCKHASH_HISTORY_BLOCKS = 256;

    bytes32 private constant TICKET_TYPEHASH =
        keccak256("Ticket(uint256 lotId,uint32 index,address payee,uint256 nonce)");

    IERC20 private immutable _token;
    uint40 private immutable _revealWindowSeconds;
    uint40 private immutable _claimWindowSeconds;
    uint40 private immutable _shareWindowSeconds;

    uint256 private _lastLotId;
    mapping(uint256 lotId => Lot) private _lots;
    mapping(uint256 lotId => bytes32) private _pinnedSeeds;
    mapping(uint256 lotId => mapping(uint256 word => uint256 bits)) private _registeredIndices;
    mapping(uint256 lotId => mapping(address payee => uint256)) private _registeredBy;

    /// @param token_ the platform token every payment is made in.
    /// @param revealWindowSeconds_ time after the close in which the payer must reveal.
    /// @param claimWindowSeconds_ time after the reveal deadline in which the winner must redeem (so at least
    /// this long after the reveal), and double issues can be proven.
    /// @param shareWindowSeconds_ time after the reveal deadline in which holders register for sharing a lot
    /// whose reveal was withheld.
    constructor(IERC20 token_, uint40 revealWindowSeconds_, uint40 claimWindowSeconds_, uint40 shareWindowSeconds_)
        EIP712("Tabula Lottery", "1")
    {
        if (revealWindowSeconds_ == 0 || claimWindowSeconds_ == 0 || shareWindowSeconds_ == 0) {
            revert LotteryInvalidWindows();
        }
        _token = token_;
        _revealWindowSeconds = revealWindowSeconds_;
        _claimWindowSeconds = claimWindowSeconds_;
        _shareWindowSeconds = shareWindowSeconds_;
    }

    /// @notice The token payments are made in.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice The reveal, claim and sharing windows, in seconds.
    function windows() external view returns (uint256 revealSeconds, uint256 claimSeconds, uint256 shareSeconds) {
        return (_revealWindowSeconds, _claimWindowSeconds, _shareWindowSeconds);
    }

    /// @inheritdoc ILottery
    function createLot(uint32 lotSize, uint128 ticketValue, bytes32 commitment, uint40 closeBy)
        external
        nonReentrant
        returns (uint256 lotId)
    {
        lotId = _createLot(lotSize, ticketValue, commitment, closeBy);
    }

    /// @inheritdoc ILottery
    function createLotWithPermit(
        uint32 lotSize,
        uint128 ticketValue,
        bytes32 commitment,
        uint40 closeBy,
        PaymentFunding.Permit calldata permit
    ) external nonReentrant returns (uint256 lotId) {
        PaymentFunding.applyPermit(address(_token), msg.sender, address(this), permit);
        lotId = _createLot(lotSize, ticketValue, commitment, closeBy);
    }

    /// @inheritdoc ILottery
    function closeLot(uint256 lotId) external {
        Lot storage lot = _lots[lotId];
        if (lot.status != Status.Open) revert LotteryUnexpectedStatus(lotId, lot.status, Status.Open);
        if (msg.sender != lot.payer && block.timestamp <= lot.closeBy) revert LotteryStillIssuing(lotId, lot.closeBy);
        uint256 seedBlock = block.number + 1;
        lot.status = Status.Closed;
        lot.closedAt = uint40(block.timestamp);
        lot.seedBlock = uint40(seedBlock);
        emit LotClosed(lotId, msg.sender, seedBlock, block.timestamp + _revealWindowSeconds);
    }

    /// @inheritdoc ILottery
    function pinSeed(uint256 lotId) external {
        Lot storage lot = _lots[lotId];
        if (lot.status != Status.Closed) revert LotteryUnexpectedStatus(lotId, lot.status, Status.Closed);
        uint256 seedBlock = lot.seedBlock;
        if (block.number <= seedBlock) revert LotterySeedNotMined(lotId, seedBlock);
        if (_pinnedSeeds[lotId] != 0) revert LotterySeedAlreadyPinned(lotId);
        bytes32 seed = blockhash(seedBlock);
        if (seed == 0) revert LotterySeedExpired(lotId, seedBlock);
        _pinnedSeeds[lotId] = seed;
        emit SeedPinned(lotId, seedBlock, seed);
    }

    /// @inheritdoc ILottery
    function reveal(uint256 lotId, bytes32 secret) external {
        Lot storage lot = _lots[lotId];
        if (lot.status != Status.Closed) revert LotteryUnexpectedStatus(lotId, lot.status, Status.Closed);
        uint256 revealDeadline = uint256(lot.closedAt) + _revealWindowSeconds;
        if (block.timestamp > revealDeadline) revert LotteryRevealWindowClosed(lotId, revealDeadline);
        uint256 seedBlock = lot.seedBlock;
        if (block.number <= seedBlock) revert LotterySeedNotMined(lotId, seedBlock);
        if (keccak256(abi.encode(lot.payer, secret)) != lot.commitment) revert LotteryWrongSecret(lotId);
        bytes32 seed = _seed(lotId, seedBlock);
        if (seed == 0) revert LotterySeedExpired(lotId, seedBlock);

        uint256 winningIndex = uint256(keccak256(abi.encode(secret, seed, lotId))) % lot.lotSize;
        lot.winningIndex = uint32(winningIndex);
        lot.revealed = true;
        lot.status = Status.Revealed;
        emit LotRevealed(lotId, winningIndex, seed, revealDeadline + _claimWindowSeconds);
    }

    /// @inheritdoc ILottery
    function redeem(uint256 lotId, uint32 index, uint256 nonce, bytes calldata signature) external nonReentrant {
        Lot storage lot = _lots[lotId];
        Status status = lot.status;
        if (status != Status.Revealed) {
            if (status == Status.Redeemed) revert LotteryAlreadyRedeemed(lotId);
            revert LotteryUnexpectedStatus(lotId, status, Status.Revealed);
        }
        uint256 claimDeadline = uint256(lot.closedAt) + _revealWindowSeconds + _claimWindowSeconds;
        if (block.timestamp > claimDeadline) revert LotteryClaimWindowClosed(lotId, claimDeadline);
        uint256 lotSize = lot.lotSize;
        if (index >= lotSize) revert LotteryIndexOutOfRange(lotId, index, lotSize);
        if (index != lot.winningIndex) revert LotteryNotWinningIndex(lotId, index, lot.winningIndex);
        _checkSigner(lotId, lot.payer, index, msg.sender, nonce, signature);

        lot.status = Status.Redeemed;
        uint256 amount = lotSize * lot.ticketValue;
        emit WinnerPaid(lotId, index, msg.sender, nonce, signature, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ILottery
    function registerTickets(uint256 lotId, TicketClaim[] calldata tickets) external {
        Lot storage lot = _lots[lotId];
        if (lot.status != Status.Closed) revert LotteryUnexpectedStatus(lotId, lot.status, Status.Closed);
        uint256 revealDeadline = uint256(lot.closedAt) + _revealWindowSeconds;
        if (block.timestamp <= revealDeadline) revert LotteryRevealWindowOpen(lotId, revealDeadline);
        uint256 shareDeadline = revealDeadline + _shareWindowSeconds;
        if (block.timestamp > shareDeadline) revert LotteryShareWindowClosed(lotId, shareDeadline);
        uint256 count = tickets.length;
        if (count == 0) revert LotteryEmptyRegistration(lotId);

        _registerAll(lotId, lot.payer, lot.lotSize, tickets);
        lot.registered += uint32(count);
        _registeredBy[lotId][msg.sender] += count;
    }

    /// @inheritdoc ILottery
    function withdrawShare(uint256 lotId) external nonReentrant {
        Lot storage lot = _lots[lotId];
        uint256 tickets = _registeredBy[lotId][msg.sender];
        if (tickets == 0) revert LotteryNothingToWithdraw(lotId, msg.sender);
        // Tickets are only registered into a closed, unrevealed lot, so `shareDeadline` is this lot's.
        uint256 shareDeadline = uint256(lot.closedAt) + _revealWindowSeconds + _shareWindowSeconds;
        if (block.timestamp <= shareDeadline) revert LotteryShareWindowOpen(lotId, shareDeadline);
        uint256 amount = tickets * _shareOf(lot);
        _registeredBy[lotId][msg.sender] = 0;
        lot.withdrawn += uint32(tickets);
        emit ShareWithdrawn(lotId, msg.sender, tickets, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc ILottery
    function proveDoubleIssue(uint256 lotId, Ticket calldata a, bytes calldata sigA, Ticket calldata b, bytes calldata sigB)
        external
        nonReentrant
    {
        Lot storage lot = _lots[lotId];
        Status status = lot.status;
        if (status == Status.None) revert LotteryUnexpectedStatus(lotId, status, Status.Open);
        if (status != Status.Open) {
            uint256 deadline = _lastDeadline(lot);
            if (block.timestamp > deadline) revert LotteryProofWindowClosed(lotId, deadline);
        }
        if (lot.doubleIssued) revert LotteryDoubleIssueAlreadyProven(lotId);
        if (a.index != b.index || (a.payee == b.payee && a.nonce == b.nonce)) revert LotteryNotADoubleIssue(lotId);
        uint256 lotSize = lot.lotSize;
        if (a.index >= lotSize) revert LotteryIndexOutOfRange(lotId, a.index, lotSize);
        address payer = lot.payer;
        _checkSigner(lotId, payer, a.index, a.payee, a.nonce, sigA);
        _checkSigner(lotId, payer, b.index, b.payee, b.nonce, sigB);

        lot.doubleIssued = true;
        uint256 lotValue = lotSize * lot.ticketValue;
        emit DoubleIssueProven(lotId, a.index, msg.sender, lotValue, lotValue);
        _token.safeTransfer(msg.sender, lotValue);
        _token.safeTransfer(BURN_ADDRESS, lotValue);
    }

    /// @inheritdoc ILottery
    function finish(uint256 lotId) external nonReentrant {
        Lot storage lot = _lots[lotId];
        Status status = lot.status;
        if (status != Status.Closed && status != Status.Revealed && status != Status.Redeemed) {
            revert LotteryUnexpectedStatus(lotId, status, Status.Closed);
        }
        uint256 deadline = _lastDeadline(lot);
        if (block.timestamp <= deadline) revert LotteryFinishTooEarly(lotId, deadline);

        uint256 lotValue = uint256(lot.lotSize) * lot.ticketValue;
        // What is left of the bond: all of it, or nothing once a double-issue proof spent it.
        uint256 bond = lot.doubleIssued ? 0 : BOND_LOTS * lotValue;
        uint256 refunded;
        uint256 burned;
        if (status == Status.Closed) {
            // The reveal was withheld: one lot value of the bond is burned (unless a proof burned it already)
            // and the lot stays with the sharers, less the rounding of lotValue / registered, burned too. If
            // nobody registered, no ticket holder is owed anything and the lot goes back.
            burned = bond / BOND_LOTS;
            refunded = bond - burned;
            uint256 registered = lot.registered;
            if (registered == 0) refunded += lotValue;
            else burned += lotValue - _shareOf(lot) * registered;
        } else {
            // Revealed: the bond goes back, and the lot too if nobody redeemed the winning index.
            refunded = bond + (status == Status.Revealed ? lotValue : 0);
        }
        lot.status = Status.Finished;
        emit LotFinished(lotId, refunded, burned);
        if (refunded != 0) _token.safeTransfer(lot.payer, refunded);
        if (burned != 0) _token.safeTransfer(BURN_ADDRESS, burned);
    }

    /// @inheritdoc ILottery
    function getLot(uint256 lotId) external view returns (Lot memory) {
        return _lots[lotId];
    }

    /// @inheritdoc ILottery
    function phase(uint256 lotId) external view returns (Phase) {
        Lot storage lot = _lots[lotId];
        Status status = lot.status;
        if (status == Status.None) return Phase.None;
        if (status == Status.Open) return Phase.Issuing;
        if (status == Status.Finished) return Phase.Finished;
        uint256 revealDeadline = uint256(lot.closedAt) + _revealWindowSeconds;
        if (block.timestamp > _lastDeadline(lot)) return Phase.Settling;
        if (status != Status.Closed) return Phase.Claiming;
        return block.timestamp <= revealDeadline ? Phase.Drawing : Phase.Sharing;
    }

    /// @inheritdoc ILottery
    function deadlines(uint256 lotId)
        external
        view
        returns (uint256 revealDeadline, uint256 claimDeadline, uint256 shareDeadline)
    {
        uint256 closedAt = _lots[lotId].closedAt;
        if (closedAt == 0) return (0, 0, 0);
        revealDeadline = closedAt + _revealWindowSeconds;
        return (revealDeadline, revealDeadline + _claimWindowSeconds, revealDeadline + _shareWindowSeconds);
    }

    /// @inheritdoc ILottery
    function seedOf(uint256 lotId) external view returns (bytes32) {
        uint256 seedBlock = _lots[lotId].seedBlock;
        if (seedBlock == 0 || block.number <= seedBlock) return 0;
        return _seed(lotId, seedBlock);
    }

    /// @inheritdoc ILottery
    function registeredBy(uint256 lotId, address payee) external view returns (uint256) {
        return _registeredBy[lotId][payee];
    }

    /// @inheritdoc ILottery
    function isRegistered(uint256 lotId, uint256 index) external view returns (bool) {
        return _registeredIndices[lotId][index >> 8] & (1 << (index & 0xff)) != 0;
    }

    /// @inheritdoc ILottery
    function ticketDigest(uint256 lotId, uint32 index, address payee, uint256 nonce) external view returns (bytes32) {
        return _ticketDigest(lotId, index, payee, nonce);
    }

    /// @inheritdoc ILottery
    function depositFor(uint32 lotSize, uint128 ticketValue) public pure returns (uint256) {
        return (1 + BOND_LOTS) * lotSize * ticketValue;
    }

    function _createLot(uint32 lotSize, uint128 ticketValue, bytes32 commitment, uint40 closeBy)
        private
        returns (uint256 lotId)
    {
        if (lotSize == 0 || ticketValue == 0 || commitment == bytes32(0) || closeBy <= block.timestamp) {
            revert LotteryInvalidTerms();
        }
        lotId = ++_lastLotId;
        Lot storage lot = _lots[lotId];
        lot.payer = msg.sender;
        lot.lotSize = lotSize;
        lot.status = Status.Open;
        lot.ticketValue = ticketValue;
        lot.closeBy = closeBy;
        lot.commitment = commitment;
        uint256 lotValue = uint256(lotSize) * ticketValue;
        emit LotCreated(lotId, msg.sender, lotSize, ticketValue, BOND_LOTS * lotValue, commitment, closeBy);
        _token.safeTransferFrom(msg.sender, address(this), depositFor(lotSize, ticketValue));
    }

    /// @dev Marks each ticket's index registered and checks the payer signed it for the caller.
    function _registerAll(uint256 lotId, address payer, uint256 lotSize, TicketClaim[] calldata tickets) private {
        mapping(uint256 => uint256) storage registered = _registeredIndices[lotId];
        uint256 count = tickets.length;
        for (uint256 i = 0; i < count; ++i) {
            TicketClaim calldata ticket = tickets[i];
            uint256 index = ticket.index;
            // Indices are below lotSize and each counts once, so no lot shares among more than lotSize tickets.
            if (index >= lotSize) revert LotteryIndexOutOfRange(lotId, index, lotSize);
            uint256 word = index >> 8;
            uint256 mask = 1 << (index & 0xff);
            uint256 bits = registered[word];
            if (bits & mask != 0) revert LotteryTicketRegistered(lotId, index);
            registered[word] = bits | mask;
            _checkSigner(lotId, payer, index, msg.sender, ticket.nonce, ticket.signature);
            emit TicketRegistered(lotId, index, msg.sender, ticket.nonce, ticket.signature);
        }
    }

    /// @dev The pinned seed, or the seed block's hash while BLOCKHASH still knows it; zero otherwise.
    function _seed(uint256 lotId, uint256 seedBlock) private view returns (bytes32 seed) {
        seed = _pinnedSeeds[lotId];
        if (seed == 0 && block.number - seedBlock <= BLOCKHASH_HISTORY_BLOCKS) seed = blockhash(seedBlock);
    }

    /// @dev The end of the lot's last window: the claim window once revealed, else the sharing window.
    function _lastDeadline(Lot storage lot) private view returns (uint256) {
        return uint256(lot.closedAt) + _revealWindowSeconds + (lot.revealed ? _claimWindowSeconds : _shareWindowSeconds);
    }

    /// @dev One registered ticket's share: the lot value over the tickets registered (rounded down).
    function _shareOf(Lot storage lot) private view returns (uint256) {
        return uint256(lot.lotSize) * lot.ticketValue / lot.registered;
    }

    /// @dev Reverts unless `payer` signed ticket (lotId, index, payee, nonce) in the one accepted encoding.
    function _checkSigner(
        uint256 lotId,
        address payer,
        uint256 index,
        address payee,
        uint256 nonce,
        bytes calldata signature
    ) private view {
        address signer = PaymentSignatures.recover(_ticketDigest(lotId, index, payee, nonce), signature);
        if (signer != payer) revert LotteryWrongSigner(lotId, signer);
    }

    function _ticketDigest(uint256 lotId, uint256 index, address payee, uint256 nonce) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(TICKET_TYPEHASH, lotId, index, payee, nonce)));
    }
}
