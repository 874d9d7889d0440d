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
/// @notice See {ILottery}. Unlike the seed's code, a ticket index is accepted once, tickets are bound to this
/// chain, contract, lot and payee, and the winner is not drawn from block data alone: the payer committed to its
/// secret before any ticket existed, and the block whose hash joins it is mined only after the lot closed.
///
/// Draw positions follow redemption order; the winning position is
/// `uint256(keccak256(abi.encode(secret, blockhash(drawBlock), lotId))) % redeemed`. Nothing a payee sends enters
/// that value, and every redemption is over before `drawBlock` exists, so there is nothing for a payee to grind.
contract Lottery is ILottery, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Most blocks the EVM keeps hashes for, hence the longest reveal window.
    uint256 public constant MAX_REVEAL_WINDOW_BLOCKS = 256;

    bytes32 private constant TICKET_TYPEHASH =
        keccak256("Ticket(uint256 lotId,uint32 index,address payee,uint256 nonce)");

    IERC20 private immutable _token;
    uint64 private immutable _revealWindowBlocks;

    uint256 private _lastLotId;
    mapping(uint256 lotId => Lot) private _lots;
    mapping(uint256 lotId => Batch[]) private _batches;
    mapping(uint256 lotId => mapping(uint256 word => uint256 bits)) private _used;

    /// @param token_ the platform token every payment is made in.
    /// @param revealWindowBlocks_ blocks after the draw block in which the payer must reveal (1 to 256).
    constructor(IERC20 token_, uint64 revealWindowBlocks_) EIP712("Tabula Lottery", "1") {
        if (revealWindowBlocks_ == 0 || revealWindowBlocks_ > MAX_REVEAL_WINDOW_BLOCKS) {
            revert LotteryInvalidRevealWindow(revealWindowBlocks_);
        }
        _token = token_;
        _revealWindowBlocks = revealWindowBlocks_;
    }

    /// @notice The token payments are made in.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice Blocks after the draw block in which the payer must reveal.
    function revealWindowBlocks() external view returns (uint64) {
        return _revealWindowBlocks;
    }

    /// @inheritdoc ILottery
    function createLot(uint32 lotSize, uint128 ticketValue, bytes32 commitment, uint64 fillDeadline)
        external
        nonReentrant
        returns (uint256 lotId)
    {
        lotId = _createLot(lotSize, ticketValue, commitment, fillDeadline);
    }

    /// @inheritdoc ILottery
    function createLotWithPermit(
        uint32 lotSize,
        uint128 ticketValue,
        bytes32 commitment,
        uint64 fillDeadline,
        PaymentFunding.Permit calldata permit
    ) external nonReentrant returns (uint256 lotId) {
        PaymentFunding.applyPermit(address(_token), msg.sender, address(this), permit);
        lotId = _createLot(lotSize, ticketValue, commitment, fillDeadline);
    }

    /// @inheritdoc ILottery
    function redeemTickets(uint256 lotId, TicketClaim[] calldata tickets) external {
        Lot storage lot = _lots[lotId];
        Status status = lot.status;
        uint256 lotSize = lot.lotSize;
        uint256 redeemed = lot.redeemed;
        if (status != Status.Filling) {
            if (status != Status.None && redeemed == lotSize) revert LotteryLotFull(lotId);
            revert LotteryUnexpectedStatus(lotId, status, Status.Filling);
        }
        if (block.timestamp >= lot.fillDeadline) revert LotteryFillDeadlinePassed(lotId, lot.fillDeadline);
        uint256 count = tickets.length;
        if (count == 0) revert LotteryEmptyRedemption(lotId);

        _useTickets(lotId, lot.payer, lotSize, tickets);

        uint256 batchIndex = _batches[lotId].length;
        _batches[lotId].push(
            Batch({payee: msg.sender, start: uint32(redeemed), count: uint32(count), shareClaimed: false})
        );
        redeemed += count;
        lot.redeemed = uint32(redeemed);
        emit TicketsRedeemed(lotId, msg.sender, batchIndex, count);
        if (redeemed == lotSize) _close(lotId, lot, redeemed, lotSize);
    }

    /// @inheritdoc ILottery
    function closeLot(uint256 lotId) external nonReentrant {
        Lot storage lot = _lots[lotId];
        if (lot.status != Status.Filling) revert LotteryUnexpectedStatus(lotId, lot.status, Status.Filling);
        if (block.timestamp < lot.fillDeadline) revert LotteryStillFilling(lotId, lot.fillDeadline);
        uint256 refunded = _close(lotId, lot, lot.redeemed, lot.lotSize);
        if (refunded != 0) _token.safeTransfer(lot.payer, refunded);
    }

    /// @inheritdoc ILottery
    function reveal(uint256 lotId, bytes32 secret) external nonReentrant {
        Lot storage lot = _lots[lotId];
        if (lot.status != Status.Closed) revert LotteryUnexpectedStatus(lotId, lot.status, Status.Closed);
        uint256 drawBlock = lot.drawBlock;
        if (block.number <= drawBlock) revert LotteryRevealTooEarly(lotId, drawBlock);
        uint256 lastBlock = drawBlock + _revealWindowBlocks;
        if (block.number > lastBlock) revert LotteryRevealWindowClosed(lotId, lastBlock);
        if (keccak256(abi.encode(lot.payer, secret)) != lot.commitment) revert LotteryWrongSecret(lotId);

        uint256 redeemed = lot.redeemed;
        uint256 position = uint256(keccak256(abi.encode(secret, blockhash(drawBlock), lotId))) % redeemed;
        address winner = _batches[lotId][_batchAt(lotId, position)].payee;
        uint256 amount = redeemed * lot.ticketValue;
        lot.status = Status.Drawn;
        emit WinnerDrawn(lotId, winner, position, amount);
        _token.safeTransfer(winner, amount);
    }

    /// @inheritdoc ILottery
    function claimShare(uint256 lotId, uint256 batchIndex) external nonReentrant {
        Lot storage lot = _lots[lotId];
        Status status = lot.status;
        if (status == Status.Closed) {
            uint256 lastBlock = lot.drawBlock + _revealWindowBlocks;
            if (block.number <= lastBlock) revert LotteryRevealWindowOpen(lotId, lastBlock);
            lot.status = Status.Shared;
            emit LotShared(lotId);
        } else if (status != Status.Shared) {
            revert LotteryUnexpectedStatus(lotId, status, Status.Shared);
        }
        Batch[] storage batches = _batches[lotId];
        if (batchIndex >= batches.length) revert LotteryUnknownBatch(lotId, batchIndex);
        Batch storage batch = batches[batchIndex];
        if (batch.shareClaimed) revert LotteryShareClaimed(lotId, batchIndex);
        batch.shareClaimed = true;
        uint256 amount = uint256(batch.count) * lot.ticketValue;
        emit ShareClaimed(lotId, batchIndex, batch.payee, amount);
        _token.safeTransfer(batch.payee, amount);
    }

    /// @inheritdoc ILottery
    function getLot(uint256 lotId) external view returns (Lot memory) {
        return _lots[lotId];
    }

    /// @inheritdoc ILottery
    function getBatch(uint256 lotId, uint256 batchIndex) external view returns (Batch memory) {
        Batch[] storage batches = _batches[lotId];
        if (batchIndex >= batches.length) revert LotteryUnknownBatch(lotId, batchIndex);
        return batches[batchIndex];
    }

    /// @inheritdoc ILottery
    function batchCount(uint256 lotId) external view returns (uint256) {
        return _batches[lotId].length;
    }

    /// @inheritdoc ILottery
    function isTicketUsed(uint256 lotId, uint256 index) external view returns (bool) {
        return _used[lotId][index >> 8] & (1 << (index & 0xff)) != 0;
    }

    /// @inheritdoc ILottery
    function ticketDigest(uint256 lotId, uint32 index, address payee, uint256 nonce) external view returns (bytes32) {
        return _ticketDigest(lotId, index, payee, nonce);
    }

    /// @inheritdoc ILottery
    function lastRevealBlock(uint256 lotId) external view returns (uint256) {
        uint256 drawBlock = _lots[lotId].drawBlock;
        return drawBlock == 0 ? 0 : drawBlock + _revealWindowBlocks;
    }

    function _createLot(uint32 lotSize, uint128 ticketValue, bytes32 commitment, uint64 fillDeadline)
        private
        returns (uint256 lotId)
    {
        if (lotSize == 0 || ticketValue == 0 || commitment == bytes32(0) || fillDeadline <= block.timestamp) {
            revert LotteryInvalidTerms();
        }
        lotId = ++_lastLotId;
        _lots[lotId] = Lot({
            payer: msg.sender,
            lotSize: lotSize,
            redeemed: 0,
            status: Status.Filling,
            ticketValue: ticketValue,
            fillDeadline: fillDeadline,
            drawBlock: 0,
            commitment: commitment
        });
        emit LotCreated(lotId, msg.sender, lotSize, ticketValue, commitment, fillDeadline);
        _token.safeTransferFrom(msg.sender, address(this), uint256(lotSize) * ticketValue);
    }

    /// @dev Ends redemption. The draw uses the hash of the next block, unknown to whoever closed the lot; unissued
    /// tickets are returned (the caller transfers). A lot nobody redeemed into is finished at once.
    function _close(uint256 lotId, Lot storage lot, uint256 redeemed, uint256 lotSize)
        private
        returns (uint256 refunded)
    {
        uint256 drawBlock = block.number + 1;
        refunded = (lotSize - redeemed) * lot.ticketValue;
        lot.drawBlock = uint64(drawBlock);
        lot.status = redeemed == 0 ? Status.Drawn : Status.Closed;
        emit LotClosed(lotId, redeemed, drawBlock, refunded);
    }

    /// @dev Marks each ticket's index used and checks the payer signed it for the caller.
    function _useTickets(uint256 lotId, address payer, uint256 lotSize, TicketClaim[] calldata tickets) private {
        mapping(uint256 => uint256) storage used = _used[lotId];
        uint256 count = tickets.length;
        for (uint256 i = 0; i < count; ++i) {
            TicketClaim calldata ticket = tickets[i];
            uint256 index = ticket.index;
            // Indices are below lotSize and each is used once, so a lot can never take more than lotSize tickets.
            if (index >= lotSize) revert LotteryIndexOutOfRange(lotId, index, lotSize);
            uint256 word = index >> 8;
            uint256 mask = 1 << (index & 0xff);
            uint256 bits = used[word];
            if (bits & mask != 0) revert LotteryTicketUsed(lotId, index);
            used[word] = bits | mask;
            bytes32 digest = _ticketDigest(lotId, index, msg.sender, ticket.nonce);
            address signer = PaymentSignatures.recover(digest, ticket.signature);
            if (signer != payer) revert LotteryWrongSigner(lotId, signer);
        }
    }

    /// @dev Index of the batch holding draw `position` (batches are in position order).
    function _batchAt(uint256 lotId, uint256 position) private view returns (uint256) {
        Batch[] storage batches = _batches[lotId];
        uint256 low = 0;
        uint256 high = batches.length - 1;
        while (low < high) {
            uint256 mid = (low + high + 1) / 2;
            if (batches[mid].start <= position) low = mid;
            else high = mid - 1;
        }
        return low;
    }

    function _ticketDigest(uint256 lotId, uint256 index, address payee, uint256 nonce) private view returns (bytes32) {
        return _hashTypedDataV4(keccak256(abi.encode(TICKET_TYPEHASH, lotId, index, payee, nonce)));
    }
}
