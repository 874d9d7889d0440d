// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ILottery} from "./interfaces/ILottery.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {PaymentFunding} from "./libraries/PaymentFunding.sol";
import {PaymentSignatures} from "./libraries/PaymentSignatures.sol";

/// @title Probabilistic micropayment lots
/// @notice See {ILottery}. Only the winning ticket touches the chain: a lot of any size costs fund, close, reveal
/// and one redemption (plus the return of the fine and covers), so the gas per payment falls as 1 / lotSize.
///
/// The draw. `winningIndex = keccak256(abi.encode(secret, blockhash(seedBlock), lotId)) % lotSize` with
/// `seedBlock = closeBlock + 1`. The payer committed to `secret` at creation, before any ticket existed, and the
/// seed block is mined only after the close, so when the payer closes it cannot know the outcome; payees send
/// nothing that enters it; a block producer, who could steer the block hash, does not know the secret. Block
/// hashes are readable for 256 blocks: {pinSeed} keeps the hash for a later reveal. If it was neither pinned nor
/// revealed in time, there is no redraw (a redraw would give the payer, who learns the outcome first, a second
/// draw): the payer has withheld the reveal.
///
/// Withheld reveal. The whole lot goes to the ticket holders who register, and the fine L is burned with the
/// token's ERC20Burnable `burn`, so the total supply falls by exactly that amount. The payer's own addresses can
/// register the indices it never issued and take back part of the lot, at most (lotSize - issued) / lotSize of
/// it, but the burned L alone already makes withholding cost at least L, the most an honest lot costs. So a payer that learned the outcome first never gains by keeping it from the chain.
///
/// Double issue (one index signed for two (payee, nonce)). A payer can sign any index for any address at any time,
/// its own included, even after it learned the draw, so no proof between two tickets can say who was robbed and no
/// first-come reward is safe from the payer's own addresses. Instead each payee the payer covers has one lot value
/// held for it alone: a covered payee whose ticket for the winning index finds another payee's ticket redeemed
/// is paid L from its own cover (by {redeem} itself, or by {claimCover} sent by anyone; the money goes to the
/// ticket's payee either way), and one whose index another payee registered for sharing is owed a share from it.
/// Ex post only the winning index (or a registered one) robs anyone, and every robbed covered payee is paid what
/// its ticket was worth, so issuing an index k times to covered payees costs k L when it wins: what k distinct
/// indices cost. The payer's own addresses can only ever draw on covers the payer funded for them, never on
/// another payee's. A payee serves only for a lot that covers it ({isCovered}; the app's TicketBook checks it).
///
/// Operator keys. A lot's tickets are signed by one key, bound when the lot is created: the payer itself, or a key
/// the payer authorized for ROLE_PAYER in the {IOperatorRegistry} at that moment. An operator key is stored once
/// per (payer, key), under the id of the first lot that bound it, and each lot keeps that id next to its ticket
/// value, so a payer's later lots with the same key write no slot the payer's own key would not. Revoking the
/// key or letting it expire afterwards changes nothing for the lots already bound to it.
contract Lottery is ILottery, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice The fine for a withheld reveal, in lot values, funded with the lot and burned on that fault.
    uint256 public constant FINE_LOTS = 1;
    /// @notice Blocks back for which BLOCKHASH returns a hash.
    uint256 public constant BLOCKHASH_HISTORY_BLOCKS = 256;

    uint8 private constant _ROLE_PAYER = 4;
    uint8 private constant _ROLE_PAYEE = 8;

    bytes32 private constant TICKET_TYPEHASH =
        keccak256("Ticket(uint256 lotId,uint32 index,address payee,uint256 nonce)");

    IERC20 private immutable _token;
    IOperatorRegistry private immutable _operators;
    uint40 private immutable _revealWindowSeconds;
    uint40 private immutable _claimWindowSeconds;
    uint40 private immutable _shareWindowSeconds;

    uint256 private _lastLotId;
    mapping(uint256 lotId => Lot) private _lots;
    mapping(uint256 lotId => bytes32) private _pinnedSeeds;
    mapping(uint256 lotId => mapping(uint256 index => address payee)) private _registeredPayees;
    mapping(uint256 lotId => mapping(address payee => uint256)) private _registeredBy;
    mapping(uint256 lotId => mapping(address payee => Cover)) private _covers;
    mapping(uint256 lotId => mapping(address payee => mapping(uint256 word => uint256 bits))) private _robbedIndices;
    mapping(address payer => mapping(address signer => uint40 key)) private _signerKeys;
    mapping(uint256 key => address signer) private _keySigners;

    /// @dev A payee's cover in one lot: held; used once it paid out a lot value or its payee redeemed the lot
    /// itself; robbed tickets owed a share each.
    struct Cover {
        bool held;
        bool used;
        uint32 robbed;
    }

    /// @param token_ the platform token every payment is made in; it must be ERC20Burnable (forfeits are burned).
    /// @param operators_ the registry of operator keys payers and payees authorize.
    /// @param revealWindowSeconds_ time after the close in which the payer must reveal.
    /// @param claimWindowSeconds_ time after the reveal deadline in which the winner must redeem (so at least
    /// this long after the reveal), and a robbed covered payee claims its cover.
    /// @param shareWindowSeconds_ time after the reveal deadline in which holders register for sharing a lot
    /// whose reveal was withheld.
    constructor(
        IERC20 token_,
        IOperatorRegistry operators_,
        uint40 revealWindowSeconds_,
        uint40 claimWindowSeconds_,
        uint40 shareWindowSeconds_
    ) EIP712("Tabula Lottery", "1") {
        if (revealWindowSeconds_ == 0 || claimWindowSeconds_ == 0 || shareWindowSeconds_ == 0) {
            revert LotteryInvalidWindows();
        }
        if (address(operators_) == address(0)) revert LotteryZeroAddress();
        _token = token_;
        _operators = operators_;
        _revealWindowSeconds = revealWindowSeconds_;
        _claimWindowSeconds = claimWindowSeconds_;
        _shareWindowSeconds = shareWindowSeconds_;
    }

    /// @notice The token payments are made in.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice The registry of operator keys this contract accepts.
    function operators() external view returns (IOperatorRegistry) {
        return _operators;
    }

    /// @notice The reveal, claim and sharing windows, in seconds.
    function windows() external view returns (uint256 revealSeconds, uint256 claimSeconds, uint256 shareSeconds) {
        return (_revealWindowSeconds, _claimWindowSeconds, _shareWindowSeconds);
    }

    /// @inheritdoc ILottery
    function createLot(
        uint32 lotSize,
        uint128 ticketValue,
        bytes32 commitment,
        uint40 closeBy,
        address[] calldata covered,
        address signer
    ) external nonReentrant returns (uint256 lotId) {
        lotId = _createLot(lotSize, ticketValue, commitment, closeBy, covered, signer);
    }

    /// @inheritdoc ILottery
    function createLotWithPermit(
        uint32 lotSize,
        uint128 ticketValue,
        bytes32 commitment,
        uint40 closeBy,
        address[] calldata covered,
        address signer,
        PaymentFunding.Permit calldata permit
    ) external nonReentrant returns (uint256 lotId) {
        PaymentFunding.applyPermit(address(_token), msg.sender, address(this), permit);
        lotId = _createLot(lotSize, ticketValue, commitment, closeBy, covered, signer);
    }

    /// @inheritdoc ILottery
    function coverPayees(uint256 lotId, address[] calldata payees) external nonReentrant {
        Lot storage lot = _lots[lotId];
        if (lot.status != Status.Open) revert LotteryUnexpectedStatus(lotId, lot.status, Status.Open);
        if (msg.sender != lot.payer) revert LotteryNotPayer(lotId, msg.sender);
        uint256 amount = _cover(lotId, lot, payees);
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @inheritdoc ILottery
    function closeLot(uint256 lotId) external {
        Lot storage lot = _lots[lotId];
        if (lot.status != Status.Open) revert LotteryUnexpectedStatus(lotId, lot.status, Status.Open);
        address payer = lot.payer;
        if (msg.sender != payer && block.timestamp <= lot.closeBy) {
            if (!_operators.actsFor(payer, msg.sender, _ROLE_PAYER)) revert LotteryStillIssuing(lotId, lot.closeBy);
        }
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
    function redeem(uint256 lotId, address payee, uint32 index, uint256 nonce, bytes calldata signature)
        external
        nonReentrant
    {
        if (msg.sender != payee) _requireOperator(payee, _ROLE_PAYEE);
        Lot storage lot = _lots[lotId];
        Status status = lot.status;
        if (status != Status.Revealed && status != Status.Redeemed) {
            revert LotteryUnexpectedStatus(lotId, status, Status.Revealed);
        }
        uint256 claimDeadline = uint256(lot.closedAt) + _revealWindowSeconds + _claimWindowSeconds;
        if (block.timestamp > claimDeadline) revert LotteryClaimWindowClosed(lotId, claimDeadline);
        uint256 lotSize = lot.lotSize;
        if (index >= lotSize) revert LotteryIndexOutOfRange(lotId, index, lotSize);
        if (index != lot.winningIndex) revert LotteryNotWinningIndex(lotId, index, lot.winningIndex);
        _checkSigner(lotId, lot, index, payee, nonce, signature);

        Cover storage cover = _covers[lotId][payee];
        if (status == Status.Redeemed) {
            // Another ticket for this index was paid first: a covered payee it robbed is paid from its cover.
            if (!cover.held) revert LotteryAlreadyRedeemed(lotId);
            _payCover(lotId, lot, cover, index, payee, nonce);
            return;
        }
        lot.status = Status.Redeemed;
        // Paid the lot, the payee was robbed of nothing: its cover is used.
        if (cover.held) cover.used = true;
        uint256 amount = lotSize * lot.ticketValue;
        emit WinnerPaid(lotId, index, payee, nonce, signature, amount);
        _token.safeTransfer(payee, amount);
    }

    /// @inheritdoc ILottery
    function registerTickets(uint256 lotId, address payee, TicketClaim[] calldata tickets) external {
        if (msg.sender != payee) _requireOperator(payee, _ROLE_PAYEE);
        Lot storage lot = _lots[lotId];
        if (lot.status != Status.Closed) revert LotteryUnexpectedStatus(lotId, lot.status, Status.Closed);
        uint256 revealDeadline = uint256(lot.closedAt) + _revealWindowSeconds;
        if (block.timestamp <= revealDeadline) revert LotteryRevealWindowOpen(lotId, revealDeadline);
        uint256 shareDeadline = revealDeadline + _shareWindowSeconds;
        if (block.timestamp > shareDeadline) revert LotteryShareWindowClosed(lotId, shareDeadline);
        uint256 count = tickets.length;
        if (count == 0) revert LotteryEmptyRegistration(lotId);

        uint256 registered = _registerAll(lotId, lot, payee, tickets);
        lot.registered += uint32(registered);
        _registeredBy[lotId][payee] += registered;
    }

    /// @inheritdoc ILottery
    function withdrawShare(uint256 lotId, address payee) external nonReentrant {
        if (msg.sender != payee) _requireOperator(payee, _ROLE_PAYEE);
        Lot storage lot = _lots[lotId];
        uint256 tickets = _registeredBy[lotId][payee];
        Cover storage cover = _covers[lotId][payee];
        uint256 robbed = cover.robbed;
        if (tickets + robbed == 0) revert LotteryNothingToWithdraw(lotId, payee);
        // Tickets are only registered into a closed, unrevealed lot, so `shareDeadline` is this lot's.
        uint256 shareDeadline = uint256(lot.closedAt) + _revealWindowSeconds + _shareWindowSeconds;
        if (block.timestamp <= shareDeadline) revert LotteryShareWindowOpen(lotId, shareDeadline);
        uint256 amount = (tickets + robbed) * _shareOf(lot);
        _registeredBy[lotId][payee] = 0;
        cover.robbed = 0;
        lot.withdrawn += uint32(tickets);
        lot.robbedWithdrawn += uint32(robbed);
        emit ShareWithdrawn(lotId, payee, tickets + robbed, amount);
        _token.safeTransfer(payee, amount);
    }

    /// @inheritdoc ILottery
    function claimCover(uint256 lotId, Ticket calldata ticket, bytes calldata signature) external nonReentrant {
        Lot storage lot = _lots[lotId];
        uint256 lotSize = lot.lotSize;
        if (ticket.index >= lotSize) revert LotteryIndexOutOfRange(lotId, ticket.index, lotSize);
        _checkSigner(lotId, lot, ticket.index, ticket.payee, ticket.nonce, signature);
        if (!_covers[lotId][ticket.payee].held) revert LotteryNotCovered(lotId, ticket.payee);
        Status status = lot.status;
        if (status == Status.Redeemed) _claimRobbedWinner(lotId, lot, ticket);
        else if (status == Status.Closed) _claimRobbedShare(lotId, lot, ticket);
        else revert LotteryNotRobbed(lotId, ticket.index, ticket.payee);
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
        uint256 fine = FINE_LOTS * lotValue;
        uint256 coverLeft = (uint256(lot.covered) - lot.coversPaid) * lotValue;
        uint256 refunded;
        uint256 burned;
        if (status == Status.Closed) {
            // The reveal was withheld: the fine is burned and the lot stays with the sharers, less the rounding of
            // lotValue / registered, burned too. If nobody registered, no ticket holder is owed anything and the
            // lot goes back. Covers keep the shares owed to robbed payees and return the rest.
            burned = fine;
            uint256 registered = lot.registered;
            if (registered == 0) {
                refunded = lotValue + coverLeft;
            } else {
                uint256 share = _shareOf(lot);
                burned += lotValue - share * registered;
                refunded = coverLeft - share * lot.robbed;
            }
        } else {
            // Revealed: the fine and unpaid covers go back, and the lot too if nobody redeemed the winning index.
            refunded = fine + coverLeft + (status == Status.Revealed ? lotValue : 0);
        }
        lot.status = Status.Finished;
        emit LotFinished(lotId, refunded, burned);
        if (refunded != 0) _token.safeTransfer(lot.payer, refunded);
        if (burned != 0) ERC20Burnable(address(_token)).burn(burned);
    }

    /// @inheritdoc ILottery
    function getLot(uint256 lotId) external view returns (Lot memory) {
        return _lots[lotId];
    }

    /// @inheritdoc ILottery
    function signerOf(uint256 lotId) external view returns (address) {
        Lot storage lot = _lots[lotId];
        uint256 key = lot.signerKey;
        return key == 0 ? lot.payer : _keySigners[key];
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
        return _registeredPayees[lotId][index] != address(0);
    }

    /// @inheritdoc ILottery
    function isCovered(uint256 lotId, address payee) external view returns (bool) {
        Cover storage cover = _covers[lotId][payee];
        return cover.held && !cover.used;
    }

    /// @inheritdoc ILottery
    function robbedBy(uint256 lotId, address payee) external view returns (uint256) {
        return _covers[lotId][payee].robbed;
    }

    /// @inheritdoc ILottery
    function ticketDigest(uint256 lotId, uint32 index, address payee, uint256 nonce) external view returns (bytes32) {
        return _ticketDigest(lotId, index, payee, nonce);
    }

    /// @inheritdoc ILottery
    function depositFor(uint32 lotSize, uint128 ticketValue, uint256 covered) public pure returns (uint256) {
        return (1 + FINE_LOTS + covered) * lotSize * ticketValue;
    }

    function _createLot(
        uint32 lotSize,
        uint128 ticketValue,
        bytes32 commitment,
        uint40 closeBy,
        address[] calldata covered,
        address signer
    ) private returns (uint256 lotId) {
        if (lotSize == 0 || ticketValue == 0 || commitment == bytes32(0) || closeBy <= block.timestamp) {
            revert LotteryInvalidTerms();
        }
        if (ticketValue > type(uint96).max) revert LotteryTicketValueTooLarge(ticketValue, type(uint96).max);
        lotId = ++_lastLotId;
        Lot storage lot = _lots[lotId];
        lot.payer = msg.sender;
        lot.lotSize = lotSize;
        lot.status = Status.Open;
        lot.ticketValue = uint96(ticketValue);
        lot.closeBy = closeBy;
        if (signer != msg.sender) lot.signerKey = _bindSigner(lotId, signer);
        lot.commitment = commitment;
        uint256 lotValue = uint256(lotSize) * ticketValue;
        emit LotCreated(lotId, msg.sender, lotSize, ticketValue, FINE_LOTS * lotValue, commitment, closeBy);
        uint256 covers = _cover(lotId, lot, covered);
        _token.safeTransferFrom(msg.sender, address(this), (1 + FINE_LOTS) * lotValue + covers);
    }

    /// @dev Binds `signer`, an operator key the caller authorized for ROLE_PAYER, to lot `lotId` and returns its key:
    /// the id of the caller's first lot it signed.
    function _bindSigner(uint256 lotId, address signer) private returns (uint40 key) {
        if (signer == address(0) || !_operators.actsFor(msg.sender, signer, _ROLE_PAYER)) {
            revert LotteryUnauthorizedSigner(msg.sender, signer);
        }
        key = _signerKeys[msg.sender][signer];
        if (key == 0) {
            if (lotId > type(uint40).max) revert LotteryTooManyLots(lotId);
            key = uint40(lotId);
            _signerKeys[msg.sender][signer] = key;
            _keySigners[key] = signer;
        }
    }

    /// @dev Holds one lot value for each of `payees` (none covered before) and returns what they add up to.
    function _cover(uint256 lotId, Lot storage lot, address[] calldata payees) private returns (uint256 amount) {
        uint256 lotValue = uint256(lot.lotSize) * lot.ticketValue;
        uint256 count = payees.length;
        for (uint256 i = 0; i < count; ++i) {
            address payee = payees[i];
            Cover storage cover = _covers[lotId][payee];
            if (payee == address(0) || cover.held) revert LotteryInvalidCover(lotId, payee);
            cover.held = true;
            emit PayeeCovered(lotId, payee, lotValue);
        }
        amount = count * lotValue;
        uint256 total = lot.covered + count;
        if (total > type(uint16).max) revert LotteryInvalidCover(lotId, address(0));
        lot.covered = uint16(total);
    }

    /// @dev Pays `payee`, robbed of the winning index, one lot value from its cover (unless it was used).
    function _payCover(uint256 lotId, Lot storage lot, Cover storage cover, uint256 index, address payee, uint256 nonce)
        private
    {
        if (cover.used) revert LotteryNotCovered(lotId, payee);
        uint256 amount = uint256(lot.lotSize) * lot.ticketValue;
        cover.used = true;
        lot.coversPaid += 1;
        emit CoverPaid(lotId, index, payee, nonce, amount);
        _token.safeTransfer(payee, amount);
    }

    /// @dev {claimCover} once the lot was redeemed: a ticket for the winning index is paid from its payee's cover.
    function _claimRobbedWinner(uint256 lotId, Lot storage lot, Ticket calldata ticket) private {
        uint256 claimDeadline = uint256(lot.closedAt) + _revealWindowSeconds + _claimWindowSeconds;
        if (block.timestamp > claimDeadline) revert LotteryClaimWindowClosed(lotId, claimDeadline);
        if (ticket.index != lot.winningIndex) revert LotteryNotRobbed(lotId, ticket.index, ticket.payee);
        _payCover(lotId, lot, _covers[lotId][ticket.payee], ticket.index, ticket.payee, ticket.nonce);
    }

    /// @dev {claimCover} in the sharing window: a ticket whose index another payee registered is owed a share.
    function _claimRobbedShare(uint256 lotId, Lot storage lot, Ticket calldata ticket) private {
        uint256 revealDeadline = uint256(lot.closedAt) + _revealWindowSeconds;
        if (block.timestamp <= revealDeadline) revert LotteryRevealWindowOpen(lotId, revealDeadline);
        uint256 shareDeadline = revealDeadline + _shareWindowSeconds;
        if (block.timestamp > shareDeadline) revert LotteryShareWindowClosed(lotId, shareDeadline);
        address holder = _registeredPayees[lotId][ticket.index];
        if (holder == address(0) || holder == ticket.payee) revert LotteryNotRobbed(lotId, ticket.index, ticket.payee);
        _countRobbed(lotId, lot, ticket.index, ticket.payee, ticket.nonce);
    }

    /// @dev Counts `payee`'s ticket for `index`, registered by another payee, as owed a share from its cover (once
    /// per index and payee, whatever the nonce).
    function _countRobbed(uint256 lotId, Lot storage lot, uint256 index, address payee, uint256 nonce) private {
        mapping(uint256 => uint256) storage counted = _robbedIndices[lotId][payee];
        uint256 word = index >> 8;
        uint256 mask = 1 << (index & 0xff);
        uint256 bits = counted[word];
        if (bits & mask != 0) revert LotteryRobbedTicketCounted(lotId, index, payee);
        counted[word] = bits | mask;
        _covers[lotId][payee].robbed += 1;
        lot.robbed += 1;
        emit RobbedShareOwed(lotId, index, payee, nonce);
    }

    /// @dev Registers each ticket's index for `payee` after checking the lot's signer signed it for `payee`; an
    /// index another payee registered first counts, for a covered `payee`, as robbed. Returns the tickets registered.
    function _registerAll(uint256 lotId, Lot storage lot, address payee, TicketClaim[] calldata tickets)
        private
        returns (uint256 registered)
    {
        mapping(uint256 => address) storage holders = _registeredPayees[lotId];
        address signer = _signerOf(lot);
        bool covered = _covers[lotId][payee].held;
        for (uint256 i = 0; i < tickets.length; ++i) {
            TicketClaim calldata ticket = tickets[i];
            uint256 index = ticket.index;
            // Indices are below lotSize and each counts once, so no lot shares among more than lotSize tickets.
            if (index >= lot.lotSize) revert LotteryIndexOutOfRange(lotId, index, lot.lotSize);
            _checkSigner(lotId, signer, index, payee, ticket.nonce, ticket.signature);
            address holder = holders[index];
            if (holder == address(0)) {
                holders[index] = payee;
                ++registered;
                emit TicketRegistered(lotId, index, payee, ticket.nonce, ticket.signature);
            } else if (holder != payee && covered) {
                _countRobbed(lotId, lot, index, payee, ticket.nonce);
            } else {
                revert LotteryTicketRegistered(lotId, index);
            }
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

    /// @dev Reverts unless the key bound to the lot signed ticket (lotId, index, payee, nonce).
    function _checkSigner(
        uint256 lotId,
        Lot storage lot,
        uint256 index,
        address payee,
        uint256 nonce,
        bytes calldata signature
    ) private view {
        address recovered = PaymentSignatures.recover(_ticketDigest(lotId, index, payee, nonce), signature);
        uint256 key = lot.signerKey;
        if (recovered != (key == 0 ? lot.payer : _keySigners[key])) revert LotteryWrongSigner(lotId, recovered);
    }

    /// @dev Reverts unless `signer` signed ticket (lotId, index, payee, nonce) in the one accepted encoding.
    function _checkSigner(
        uint256 lotId,
        address signer,
        uint256 index,
        address payee,
        uint256 nonce,
        bytes calldata signature
    ) private view {
        address recovered = PaymentSignatures.recover(_ticketDigest(lotId, index, payee, nonce), signature);
        if (recovered != signer) revert LotteryWrongSigner(lotId, recovered);
    }

    /// @dev The key bound to sign the lot's tickets: the payer, unless the lot keeps an operator key's id.
    function _signerOf(Lot storage lot) private view returns (address) {
        uint256 key = lot.signerKey;
        return key == 0 ? lot.payer : _keySigners[key];
    }

    /// @dev Reverts unless the caller, not `owner` itself (callers compare that first, so the owner needs no call to
    /// the registry), is an operator `owner` authorized for `role` that has not expired.
    function _requireOperator(address owner, uint8 role) private view {
        if (!_operators.actsFor(owner, msg.sender, role)) revert LotteryNotOperator(owner, msg.sender, role);
    }

    function _ticketDigest(uint256 lotId, uint256 index, address payee, uint256 nonce) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(TICKET_TYPEHASH, lotId, index, payee, nonce)));
    }
}
