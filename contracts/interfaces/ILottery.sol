// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PaymentFunding} from "../libraries/PaymentFunding.sol";

/// @title Probabilistic micropayments (μP2P scheme 3)
/// @notice A payer funds a lot of `lotSize` tickets worth `ticketValue` each and commits to a secret. Tickets are
/// EIP-712 messages signed by the payer and bound to (chain id, contract, lot, index, payee, nonce); payees redeem
/// them into the lot, each index once, until it is full (or its fill deadline passes). The winner is drawn from the
/// payer's secret and the hash of the block after the lot closed, so neither the payer (who cannot know that
/// block) nor a block producer or payee (who cannot know the secret) can steer it. The winner is paid the whole
/// lot; a payer who does not reveal in time forfeits the draw and the lot is shared among the ticket holders.
interface ILottery {
    /// @notice Life cycle of a lot.
    enum Status {
        None,
        Filling, // tickets are being redeemed
        Closed, // full or past its fill deadline; waiting for the reveal
        Drawn, // the winner was paid
        Shared // the payer did not reveal in time; every holder may claim its tickets' value
    }

    /// @notice A lot as stored.
    struct Lot {
        address payer;
        uint32 lotSize;
        uint32 redeemed;
        Status status;
        uint128 ticketValue;
        uint64 fillDeadline;
        /// @dev The block whose hash seeds the draw; zero while filling.
        uint64 drawBlock;
        bytes32 commitment;
    }

    /// @notice One redemption transaction: `count` tickets of `payee` at draw positions [start, start + count).
    struct Batch {
        address payee;
        uint32 start;
        uint32 count;
        bool shareClaimed;
    }

    /// @notice A ticket presented for redemption by its payee (the caller).
    struct TicketClaim {
        uint32 index;
        uint256 nonce;
        bytes signature;
    }

    /// @notice A payer funded lot `lotId`.
    event LotCreated(
        uint256 indexed lotId,
        address indexed payer,
        uint256 lotSize,
        uint256 ticketValue,
        bytes32 commitment,
        uint256 fillDeadline
    );
    /// @notice `payee` redeemed `count` tickets as batch `batchIndex`.
    event TicketsRedeemed(uint256 indexed lotId, address indexed payee, uint256 batchIndex, uint256 count);
    /// @notice No more tickets; the draw uses the hash of `drawBlock`. `refunded` went back for unissued tickets.
    event LotClosed(uint256 indexed lotId, uint256 redeemed, uint256 drawBlock, uint256 refunded);
    /// @notice The payer revealed; `winner` holding draw position `position` was paid `amount`.
    event WinnerDrawn(uint256 indexed lotId, address indexed winner, uint256 position, uint256 amount);
    /// @notice The reveal did not come in time; holders now claim their share.
    event LotShared(uint256 indexed lotId);
    /// @notice Batch `batchIndex`'s payee was paid its share.
    event ShareClaimed(uint256 indexed lotId, uint256 indexed batchIndex, address indexed payee, uint256 amount);

    /// @notice Zero size or value, zero commitment, a fill deadline not in the future.
    error LotteryInvalidTerms();
    /// @notice The reveal window is zero or longer than the 256 blocks whose hashes the EVM keeps.
    error LotteryInvalidRevealWindow(uint256 revealWindowBlocks);
    /// @notice The lot is not in the status this call needs.
    error LotteryUnexpectedStatus(uint256 lotId, Status actual, Status expected);
    /// @notice Every ticket of the lot has been redeemed.
    error LotteryLotFull(uint256 lotId);
    /// @notice The fill deadline has passed: no more tickets.
    error LotteryFillDeadlinePassed(uint256 lotId, uint256 fillDeadline);
    /// @notice The lot is neither full nor past its fill deadline.
    error LotteryStillFilling(uint256 lotId, uint256 fillDeadline);
    /// @notice The redemption names no ticket.
    error LotteryEmptyRedemption(uint256 lotId);
    /// @notice The ticket index is not below the lot size.
    error LotteryIndexOutOfRange(uint256 lotId, uint256 index, uint256 lotSize);
    /// @notice This ticket index was redeemed before (or twice in this batch).
    error LotteryTicketUsed(uint256 lotId, uint256 index);
    /// @notice The ticket is not signed by the lot's payer for the caller.
    error LotteryWrongSigner(uint256 lotId, address signer);
    /// @notice The revealed secret does not match the commitment.
    error LotteryWrongSecret(uint256 lotId);
    /// @notice The draw block is not mined yet.
    error LotteryRevealTooEarly(uint256 lotId, uint256 drawBlock);
    /// @notice The reveal window is over.
    error LotteryRevealWindowClosed(uint256 lotId, uint256 lastRevealBlock);
    /// @notice The reveal window is still open.
    error LotteryRevealWindowOpen(uint256 lotId, uint256 lastRevealBlock);
    /// @notice No such batch in the lot.
    error LotteryUnknownBatch(uint256 lotId, uint256 batchIndex);
    /// @notice This batch's share was paid already.
    error LotteryShareClaimed(uint256 lotId, uint256 batchIndex);

    /// @notice Funds a lot of `lotSize` tickets worth `ticketValue` each, committing to a secret:
    /// `commitment = keccak256(abi.encode(msg.sender, secret))`.
    function createLot(uint32 lotSize, uint128 ticketValue, bytes32 commitment, uint64 fillDeadline)
        external
        returns (uint256 lotId);

    /// @notice {createLot} after applying an EIP-2612 permit, so no separate approval transaction is needed.
    function createLotWithPermit(
        uint32 lotSize,
        uint128 ticketValue,
        bytes32 commitment,
        uint64 fillDeadline,
        PaymentFunding.Permit calldata permit
    ) external returns (uint256 lotId);

    /// @notice The caller (payee) redeems its tickets into the lot; the one filling the lot closes it.
    function redeemTickets(uint256 lotId, TicketClaim[] calldata tickets) external;

    /// @notice After the fill deadline, closes a lot that is not full and refunds its unissued tickets.
    function closeLot(uint256 lotId) external;

    /// @notice Reveals the secret after the draw block: pays the winner the whole lot.
    function reveal(uint256 lotId, bytes32 secret) external;

    /// @notice After the reveal window passed without a reveal, pays batch `batchIndex`'s payee its tickets' value.
    function claimShare(uint256 lotId, uint256 batchIndex) external;

    /// @notice The lot as stored.
    function getLot(uint256 lotId) external view returns (Lot memory);

    /// @notice A batch of the lot.
    function getBatch(uint256 lotId, uint256 batchIndex) external view returns (Batch memory);

    /// @notice Number of batches redeemed into the lot.
    function batchCount(uint256 lotId) external view returns (uint256);

    /// @notice Whether ticket `index` of the lot was redeemed.
    function isTicketUsed(uint256 lotId, uint256 index) external view returns (bool);

    /// @notice The EIP-712 digest the payer signs for a ticket.
    function ticketDigest(uint256 lotId, uint32 index, address payee, uint256 nonce) external view returns (bytes32);

    /// @notice Last block in which the payer may reveal (zero while filling).
    function lastRevealBlock(uint256 lotId) external view returns (uint256);
}
