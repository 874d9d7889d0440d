// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PaymentFunding} from "../libraries/PaymentFunding.sol";

/// @title Probabilistic micropayments (μP2P scheme 3)
/// @notice A payer funds a lot of `lotSize` tickets worth `ticketValue` each (the lot value L = lotSize ×
/// ticketValue), a fine of L, and a cover of L for each payee it names, and commits to a secret. Tickets never touch
/// the chain while they are used: each is an EIP-712 message signed by the payer and bound to (chain id, contract,
/// lot, index, payee, nonce), one index per payment. The payer closes the lot; the winning index is
/// `keccak256(abi.encode(secret, blockhash(closeBlock + 1), lotId)) % lotSize`, revealed by the payer. The first
/// holder of the winning index to redeem is paid L from the lot; every covered payee holding another ticket for
/// that index is paid L from its own cover. So a lot costs four transactions (fund, close, reveal, redeem)
/// whatever the number of payments, plus one to return the fine and the covers.
///
/// Faults and what they cost the payer:
/// - the reveal is withheld past its deadline: L is shared equally among the ticket holders who register their
///   tickets in the sharing window, and the fine L is burned (the token must be ERC20Burnable: burning lowers
///   its total supply);
/// - an index signed for two (payee, nonce): nobody is robbed unless that index is drawn (or registered for
///   sharing by another payee); then each covered payee it robbed is paid what its ticket is worth from its own
///   cover, whoever sends the claim. Issuing an index k times to covered payees thus costs k L when it wins, what
///   k distinct indices cost: a payer is never better off for issuing an index twice, and a covered winner is
///   always paid.
///
/// Operator keys (see {IOperatorRegistry}). The key that signs a lot's tickets is bound when the lot is created:
/// the payer itself or an operator the payer authorized for ROLE_PAYER at that moment; only tickets that key signed
/// count, and revoking it later voids none of them. Calls that move the payer's money (funding a lot, covering
/// payees) are the payer's own; routine calls accept an operator for the owner's role: the payer's ROLE_PAYER
/// operator closes early, a payee's ROLE_PAYEE operator redeems, registers and withdraws for its payee. Tokens go
/// to the payee or the payer, never to an operator.
interface ILottery {
    /// @notice Stored life cycle of a lot. Deadlines move it too: see {phase}.
    enum Status {
        None,
        Open, // funded; the payer issues tickets off-chain
        Closed, // no more tickets; the draw waits for the payer's reveal (or, past the reveal window, is shared)
        Revealed, // the winning index is known; its holder may redeem in the claim window
        Redeemed, // the winner was paid
        Finished // the payer was refunded what was left; only share withdrawals remain
    }

    /// @notice Where a lot stands at the current time, for the apps.
    enum Phase {
        None,
        Issuing, // Open: tickets may be issued and accepted
        Drawing, // Closed, reveal window open
        Claiming, // Revealed or Redeemed, claim window open
        Sharing, // Closed, reveal window over without a reveal, sharing window open
        Settling, // last window over: finish refunds the payer; sharers withdraw
        Finished
    }

    /// @notice A lot as stored (four slots; the fourth is written only by sharing and covers paid out).
    struct Lot {
        address payer;
        uint32 lotSize;
        /// @dev Meaningful once `revealed`.
        uint32 winningIndex;
        Status status;
        bool revealed;
        /// @dev Payees covered with one lot value each.
        uint16 covered;
        uint96 ticketValue;
        /// @dev Unix time after which anyone may close the lot (the payer may close it earlier).
        uint40 closeBy;
        /// @dev Unix time the lot was closed; every later deadline counts from it.
        uint40 closedAt;
        /// @dev The block whose hash seeds the draw: the one after the close.
        uint40 seedBlock;
        /// @dev Zero if the payer signs the lot's tickets, else the id of the operator key bound to it (see
        /// {signerOf}).
        uint40 signerKey;
        bytes32 commitment;
        /// @dev Tickets registered for sharing, and how many of them were paid out.
        uint32 registered;
        uint32 withdrawn;
        /// @dev Covers that paid out a lot value to a robbed holder of the winning index.
        uint16 coversPaid;
        /// @dev Shares owed from covers to robbed payees in sharing, and how many of them were paid out.
        uint32 robbed;
        uint32 robbedWithdrawn;
    }

    /// @notice A ticket as the payer signs it (the lot is given separately).
    struct Ticket {
        uint32 index;
        address payee;
        uint256 nonce;
    }

    /// @notice A ticket its payee presents (the payee is named in the call).
    struct TicketClaim {
        uint32 index;
        uint256 nonce;
        bytes signature;
    }

    /// @notice A payer funded lot `lotId` with `lotSize` × `ticketValue` plus the fine of one lot value.
    event LotCreated(
        uint256 indexed lotId,
        address indexed payer,
        uint256 lotSize,
        uint256 ticketValue,
        uint256 fine,
        bytes32 commitment,
        uint256 closeBy
    );
    /// @notice `payee` is covered: one lot value is held for it alone, paid if another ticket robs it.
    event PayeeCovered(uint256 indexed lotId, address indexed payee, uint256 cover);
    /// @notice No more tickets; the draw uses the hash of `seedBlock`; the payer reveals until `revealDeadline`.
    event LotClosed(uint256 indexed lotId, address closedBy, uint256 seedBlock, uint256 revealDeadline);
    /// @notice The seed block's hash was kept before BLOCKHASH forgets it.
    event SeedPinned(uint256 indexed lotId, uint256 seedBlock, bytes32 seed);
    /// @notice The payer revealed; the holder of `winningIndex` may redeem until `claimDeadline`.
    event LotRevealed(uint256 indexed lotId, uint256 winningIndex, bytes32 seed, uint256 claimDeadline);
    /// @notice The winning ticket was redeemed and `payee` paid `amount`. The ticket is logged so that anyone
    /// holding another ticket for the same index can prove the double issue.
    event WinnerPaid(
        uint256 indexed lotId, uint256 index, address indexed payee, uint256 nonce, bytes signature, uint256 amount
    );
    /// @notice `payee` registered ticket `index` for sharing (logged for the same reason as {WinnerPaid}).
    event TicketRegistered(uint256 indexed lotId, uint256 index, address indexed payee, uint256 nonce, bytes signature);
    /// @notice `payee` withdrew its share: `tickets` registered or robbed tickets worth `amount`.
    event ShareWithdrawn(uint256 indexed lotId, address indexed payee, uint256 tickets, uint256 amount);
    /// @notice `payee`'s ticket for the winning index was robbed by another redeemed ticket: it was paid `amount`
    /// from its cover.
    event CoverPaid(uint256 indexed lotId, uint256 index, address indexed payee, uint256 nonce, uint256 amount);
    /// @notice `payee`'s ticket for `index` was robbed by another payee's registration: it is owed a share from its
    /// cover, paid with its other shares.
    event RobbedShareOwed(uint256 indexed lotId, uint256 index, address indexed payee, uint256 nonce);
    /// @notice The lot is over: `refunded` went back to the payer and `burned` was burned (the total supply fell
    /// by it).
    event LotFinished(uint256 indexed lotId, uint256 refunded, uint256 burned);

    /// @notice Zero size or value, zero commitment, or a close-by time not in the future.
    error LotteryInvalidTerms();
    /// @notice A covered payee is the zero address or covered already (or the lot would cover over 65535).
    error LotteryInvalidCover(uint256 lotId, address payee);
    /// @notice Only the lot's payer may do this.
    error LotteryNotPayer(uint256 lotId, address caller);
    /// @notice A window of the constructor is zero.
    error LotteryInvalidWindows();
    /// @notice The constructor was given no operator registry.
    error LotteryZeroAddress();
    /// @notice The ticket value does not fit the lot's 96 bits.
    error LotteryTicketValueTooLarge(uint256 ticketValue, uint256 max);
    /// @notice `signer` is neither `payer` nor an operator `payer` authorized for ROLE_PAYER that has not expired.
    error LotteryUnauthorizedSigner(address payer, address signer);
    /// @notice No further operator key can be stored: lot ids passed 40 bits.
    error LotteryTooManyLots(uint256 lotId);
    /// @notice `account` is neither `owner` nor an operator `owner` authorized for `role` that has not expired.
    error LotteryNotOperator(address owner, address account, uint8 role);
    /// @notice The lot is not in the status this call needs.
    error LotteryUnexpectedStatus(uint256 lotId, Status actual, Status expected);
    /// @notice Only the payer or its ROLE_PAYER operator may close the lot before `closeBy`.
    error LotteryStillIssuing(uint256 lotId, uint256 closeBy);
    /// @notice The seed block is not mined yet.
    error LotterySeedNotMined(uint256 lotId, uint256 seedBlock);
    /// @notice The seed block's hash is no longer readable and nobody pinned it: there is no draw to reveal.
    error LotterySeedExpired(uint256 lotId, uint256 seedBlock);
    /// @notice The seed was pinned before.
    error LotterySeedAlreadyPinned(uint256 lotId);
    /// @notice The revealed secret does not match the commitment.
    error LotteryWrongSecret(uint256 lotId);
    /// @notice The reveal window is over.
    error LotteryRevealWindowClosed(uint256 lotId, uint256 revealDeadline);
    /// @notice The reveal window is still open: no sharing yet.
    error LotteryRevealWindowOpen(uint256 lotId, uint256 revealDeadline);
    /// @notice The ticket index is not below the lot size: a ticket for a lot that is already full.
    error LotteryIndexOutOfRange(uint256 lotId, uint256 index, uint256 lotSize);
    /// @notice The ticket is not signed by the lot's bound signer ({signerOf}) for this lot and payee.
    error LotteryWrongSigner(uint256 lotId, address signer);
    /// @notice Only the winning index is paid.
    error LotteryNotWinningIndex(uint256 lotId, uint256 index, uint256 winningIndex);
    /// @notice The winning ticket was redeemed already.
    error LotteryAlreadyRedeemed(uint256 lotId);
    /// @notice The claim window is over.
    error LotteryClaimWindowClosed(uint256 lotId, uint256 claimDeadline);
    /// @notice The sharing window is over.
    error LotteryShareWindowClosed(uint256 lotId, uint256 shareDeadline);
    /// @notice The sharing window is still open: shares are not known yet.
    error LotteryShareWindowOpen(uint256 lotId, uint256 shareDeadline);
    /// @notice The registration names no ticket.
    error LotteryEmptyRegistration(uint256 lotId);
    /// @notice This ticket index was registered before (or twice in this call).
    error LotteryTicketRegistered(uint256 lotId, uint256 index);
    /// @notice The payee has no share (left) in this lot.
    error LotteryNothingToWithdraw(uint256 lotId, address payee);
    /// @notice The ticket's payee has no cover in this lot, or its cover was used: it paid out, or the payee was
    /// paid the lot itself.
    error LotteryNotCovered(uint256 lotId, address payee);
    /// @notice The ticket was not robbed: its index was not drawn and redeemed, or registered, by another payee.
    error LotteryNotRobbed(uint256 lotId, uint256 index, address payee);
    /// @notice This payee's robbed ticket for `index` was counted before.
    error LotteryRobbedTicketCounted(uint256 lotId, uint256 index, address payee);
    /// @notice The lot's last window (claim or sharing) is still open.
    error LotteryFinishTooEarly(uint256 lotId, uint256 deadline);

    /// @notice Funds a lot: transfers the lot value L = lotSize × ticketValue, the fine L and a cover L per
    /// covered payee from the caller, the payer, who commits to a secret with
    /// `commitment = keccak256(abi.encode(msg.sender, secret))`.
    /// @param closeBy unix time after which anyone may close the lot, so the funds cannot be held hostage.
    /// @param covered the payees covered from the start (more can be added with {coverPayees} while issuing).
    /// @param signer the key that signs the lot's tickets, bound for the lot's whole life: the payer itself, or an
    /// operator the payer authorized for ROLE_PAYER that has not expired.
    function createLot(
        uint32 lotSize,
        uint128 ticketValue,
        bytes32 commitment,
        uint40 closeBy,
        address[] calldata covered,
        address signer
    ) external returns (uint256 lotId);

    /// @notice {createLot} after applying an EIP-2612 permit, so no separate approval transaction is needed.
    function createLotWithPermit(
        uint32 lotSize,
        uint128 ticketValue,
        bytes32 commitment,
        uint40 closeBy,
        address[] calldata covered,
        address signer,
        PaymentFunding.Permit calldata permit
    ) external returns (uint256 lotId);

    /// @notice The payer covers more payees of an open lot, transferring one lot value for each.
    function coverPayees(uint256 lotId, address[] calldata payees) external;

    /// @notice Ends issuing: by the payer or its ROLE_PAYER operator at any time (the lot is full, or it stops
    /// paying), by anyone after `closeBy`. The draw is seeded by the next block's hash, which nobody knows yet.
    function closeLot(uint256 lotId) external;

    /// @notice Keeps the seed block's hash while BLOCKHASH still returns it (256 blocks), so that the payer can
    /// reveal later in the reveal window. Anyone may call it.
    function pinSeed(uint256 lotId) external;

    /// @notice Reveals the payer's secret (anyone holding it may send it) and fixes the winning index.
    function reveal(uint256 lotId, bytes32 secret) external;

    /// @notice Redeems `payee`'s ticket for the winning index and pays `payee` the whole lot; if another payee's
    /// ticket for that index was redeemed first, a covered `payee` is paid the lot value from its cover instead.
    /// Sent by `payee` or its ROLE_PAYEE operator.
    function redeem(uint256 lotId, address payee, uint32 index, uint256 nonce, bytes calldata signature) external;

    /// @notice After a withheld reveal, registers `payee`'s tickets for the equal sharing of the lot. A ticket
    /// whose index another payee registered first counts, for a covered `payee`, as robbed: it is paid a share
    /// from `payee`'s cover. Sent by `payee` or its ROLE_PAYEE operator.
    function registerTickets(uint256 lotId, address payee, TicketClaim[] calldata tickets) external;

    /// @notice After the sharing window, pays `payee` lot value / registered for each ticket it registered or was
    /// robbed of. Sent by `payee` or its ROLE_PAYEE operator.
    function withdrawShare(uint256 lotId, address payee) external;

    /// @notice Claims for `ticket.payee`, whoever sends it, what a robbed ticket is worth from the payee's cover:
    /// the lot value if its index won and another payee's ticket was redeemed, or (counted now, paid with its
    /// shares) one share if another payee registered its index for sharing.
    function claimCover(uint256 lotId, Ticket calldata ticket, bytes calldata signature) external;

    /// @notice After the claim (or sharing) window: refunds the payer what is left (an unclaimed lot, the fine,
    /// what covers did not pay) and burns what a withheld reveal forfeits. Anyone may call it.
    function finish(uint256 lotId) external;

    /// @notice The lot as stored.
    function getLot(uint256 lotId) external view returns (Lot memory);

    /// @notice The key whose signatures count as the lot's tickets: its payer or the operator key bound at
    /// creation (zero for an unknown lot).
    function signerOf(uint256 lotId) external view returns (address);

    /// @notice Where the lot stands now.
    function phase(uint256 lotId) external view returns (Phase);

    /// @notice The lot's deadlines (all zero until it is closed).
    function deadlines(uint256 lotId)
        external
        view
        returns (uint256 revealDeadline, uint256 claimDeadline, uint256 shareDeadline);

    /// @notice The draw's seed: the pinned hash, or the seed block's hash while readable; zero if unknown.
    function seedOf(uint256 lotId) external view returns (bytes32);

    /// @notice Tickets `payee` registered for sharing and not yet withdrew.
    function registeredBy(uint256 lotId, address payee) external view returns (uint256);

    /// @notice Whether ticket `index` was registered for sharing.
    function isRegistered(uint256 lotId, uint256 index) external view returns (bool);

    /// @notice Whether `payee` holds a cover in this lot that was not used (what a payee checks before it serves
    /// for the lot's tickets).
    function isCovered(uint256 lotId, address payee) external view returns (bool);

    /// @notice Robbed tickets `payee` is owed a share for and did not withdraw yet.
    function robbedBy(uint256 lotId, address payee) external view returns (uint256);

    /// @notice The EIP-712 digest the lot's signer signs for a ticket.
    function ticketDigest(uint256 lotId, uint32 index, address payee, uint256 nonce) external view returns (bytes32);

    /// @notice What {createLot} transfers: the lot value, the fine and `covered` covers, one lot value each.
    function depositFor(uint32 lotSize, uint128 ticketValue, uint256 covered) external pure returns (uint256);
}
