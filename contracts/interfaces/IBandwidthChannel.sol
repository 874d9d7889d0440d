// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PaymentFunding} from "../libraries/PaymentFunding.sol";

/// @title Bandwidth payment channels (Tachyon)
/// @notice A payer deposits tokens for a payee's bandwidth at a price per MB with a loss tolerance. Both sides sign
/// cumulative usage units off-chain; the last unit both signed settles the channel after a challenge window. When
/// the two sides' own claims differ by more than the tolerance, the payee is paid the lower count, the payer is
/// charged the payee's count and the difference is burned, so that lying never pays. The token must be
/// ERC20Burnable: burning lowers its total supply.
///
/// Each side binds the key that signs its units: the payer when it opens, the payee when it confirms. A bound key
/// is the owner itself or an operator the owner authorized for its role in the {IOperatorRegistry} at that moment
/// (ROLE_PAYER for the payer, ROLE_PAYEE for the payee). Every unit of the channel is checked against the two
/// bound keys, never the owners, and revoking or expiry of the operator afterwards changes nothing for the
/// channel. Routine calls (confirm, close, submitClaim, blacklist, reclaim) accept the owner or its live operator
/// for its role; tokens only ever move to or from the owners.
interface IBandwidthChannel {
    /// @notice Life cycle of a channel.
    enum Status {
        None,
        Opened, // funded by the payer, waiting for the payee's confirmation
        Active, // confirmed: usage units are being exchanged off-chain
        Closing, // a closing unit was submitted; the challenge window runs
        Settled, // paid out
        Reclaimed // never confirmed; the deposit went back to the payer
    }

    /// @notice One usage unit (EIP-712 `Usage`). Signed by both sides it is the agreed count; signed by one side
    /// it is that side's own claim.
    struct Usage {
        uint256 channelId;
        /// @dev Strictly increasing per unit; the highest sequence wins.
        uint64 sequence;
        /// @dev Cumulative bytes sent plus received since the channel opened.
        uint128 totalBytes;
        /// @dev Unix time (s) the unit was made.
        uint64 time;
        /// @dev EIP-712 digest of the other side's last unit; required each time the count passes a 5 MB mark
        /// (zero in between), it chains the two sides' units into one record of evidence.
        bytes32 link;
    }

    /// @notice A channel as stored (six slots; confirm writes only the first).
    /// @notice One channel of a batch opened in one transaction ({openBatch}): the arguments of {open}.
    struct Opening {
        address payee;
        address payerSigner;
        uint96 deposit;
        uint96 pricePerMB;
        uint96 lossToleranceBytes;
    }

    struct Channel {
        /// @dev The key that signs the payee's units, bound at confirm (zero before): the payee or its ROLE_PAYEE
        /// operator.
        address payeeSigner;
        Status status;
        /// @dev Confirmation deadline while Opened, end of the challenge window while Closing (unix s).
        uint40 deadline;
        uint40 openedAt;
        address payee;
        uint96 lossToleranceBytes;
        address payer;
        uint96 deposit;
        /// @dev The key that signs the payer's units, bound at open: the payer or its ROLE_PAYER operator.
        address payerSigner;
        /// @dev Token base units per MB (10^6 bytes).
        uint96 pricePerMB;
        uint64 agreedBytes;
        uint64 agreedSequence;
        /// @dev A side's own claim counts only while its sequence is above `agreedSequence`; otherwise the agreed
        /// unit is that side's claim too.
        uint64 payerSequence;
        uint64 payeeSequence;
        uint128 payerBytes;
        uint128 payeeBytes;
    }

    /// @notice What {settle} pays out, as computed from a closing channel.
    struct Settlement {
        uint256 paid;
        uint256 refunded;
        uint256 burned;
        bool disputed;
    }

    /// @notice A proxy route's upstream leg: what the proxy must lock for the payee and at what price.
    struct Route {
        uint96 amount;
        uint96 pricePerMB;
        uint256 downstreamId;
    }

    /// @notice A payer opened channel `channelId` to `payee`; `payerSigner` signs the payer's units.
    event ChannelOpened(
        uint256 indexed channelId,
        address indexed payer,
        address indexed payee,
        address payerSigner,
        uint256 deposit,
        uint256 pricePerMB,
        uint256 lossToleranceBytes,
        uint256 confirmDeadline
    );
    /// @notice The payee accepted the channel; `payeeSigner` signs the payee's units.
    event ChannelConfirmed(uint256 indexed channelId, address indexed payee, address payeeSigner);
    /// @notice The payee did not confirm in time and the payer took the deposit back.
    event ChannelReclaimed(uint256 indexed channelId, address indexed payer, uint256 amount);
    /// @notice A side started closing with the unit at `sequence`.
    event ChannelClosing(
        uint256 indexed channelId, address indexed by, uint64 sequence, uint256 totalBytes, uint256 challengeDeadline
    );
    /// @notice A later unit signed by both sides replaced the agreed one.
    event ChannelChallenged(uint256 indexed channelId, address indexed by, uint64 sequence, uint256 totalBytes);
    /// @notice A side's own signed claim was recorded.
    event UsageClaimed(uint256 indexed channelId, address indexed signer, uint64 sequence, uint256 totalBytes);
    /// @notice The channel was paid out.
    event ChannelSettled(uint256 indexed channelId, uint256 paid, uint256 refunded, uint256 burned, bool disputed);
    /// @notice `by` distrusts `against`: no channel between them opens any more, and the network may read this.
    event Blacklisted(address indexed by, address indexed against, uint256 indexed channelId);
    /// @notice A payer opened a route through `proxy`; `channelId` is the upstream leg payer → proxy.
    event RouteOpened(uint256 indexed channelId, address indexed payer, address indexed proxy, uint256 amount);
    /// @notice The proxy opened the downstream leg proxy → payee of route `upstreamId`.
    event RouteLegOpened(uint256 indexed upstreamId, uint256 indexed downstreamId, address indexed payee);

    /// @notice Payee is zero or the caller itself.
    error BandwidthChannelInvalidPayee(address payee);
    /// @notice Deposit or price is zero.
    error BandwidthChannelInvalidTerms(uint256 deposit, uint256 pricePerMB);
    /// @notice One side has blacklisted the other.
    error BandwidthChannelBlacklisted(address payer, address payee);
    /// @notice The payee already holds the maximum number of open channels.
    error BandwidthChannelPayeeFull(address payee, uint256 openChannels);
    /// @notice The channel is not in the status this call needs.
    error BandwidthChannelUnexpectedStatus(uint256 channelId, Status actual, Status expected);
    /// @notice Only the channel's payer (or, where the call allows it, its live ROLE_PAYER operator) may do this.
    error BandwidthChannelNotPayer(uint256 channelId, address caller);
    /// @notice Only the channel's payee (or, where the call allows it, its live ROLE_PAYEE operator) may do this.
    error BandwidthChannelNotPayee(uint256 channelId, address caller);
    /// @notice Only the channel's payer or payee, or a live operator of either for its role, may do this.
    error BandwidthChannelNotParty(uint256 channelId, address caller);
    /// @notice The confirmation window is over.
    error BandwidthChannelConfirmWindowClosed(uint256 channelId, uint256 deadline);
    /// @notice The confirmation window is still open.
    error BandwidthChannelConfirmWindowOpen(uint256 channelId, uint256 deadline);
    /// @notice The challenge window is over.
    error BandwidthChannelChallengeWindowClosed(uint256 channelId, uint256 deadline);
    /// @notice The challenge window is still open.
    error BandwidthChannelChallengeWindowOpen(uint256 channelId, uint256 deadline);
    /// @notice The unit belongs to another channel.
    error BandwidthChannelWrongChannel(uint256 channelId, uint256 usageChannelId);
    /// @notice The unit is not newer than the one already recorded.
    error BandwidthChannelStaleUsage(uint256 channelId, uint64 sequence, uint64 recordedSequence);
    /// @notice The unit's time is before the channel opened or in the future.
    error BandwidthChannelInvalidTime(uint256 channelId, uint64 time);
    /// @notice The "no usage" unit (sequence 0) must count zero bytes and carry no signatures.
    error BandwidthChannelInvalidEmptyUsage(uint256 channelId);
    /// @notice The signature is not by the expected side's bound key.
    error BandwidthChannelWrongSigner(uint256 channelId, address expected, address signer);
    /// @notice A one-sided claim was signed by neither side's bound key.
    error BandwidthChannelNotSignedByParty(uint256 channelId, address signer);
    /// @notice The claim's link is not the digest of the linked unit.
    error BandwidthChannelLinkMismatch(uint256 channelId, bytes32 link, bytes32 linkedDigest);
    /// @notice The claim counts fewer bytes than the unit both sides signed.
    error BandwidthChannelClaimBelowAgreed(uint256 channelId, uint256 totalBytes, uint256 agreedBytes);
    /// @notice The claim counts more than the tolerance above the highest count the other side signed.
    error BandwidthChannelClaimTooHigh(uint256 channelId, uint256 totalBytes, uint256 maxBytes);
    /// @notice The claim's sequence jumps more than 2 above the highest sequence the other side signed.
    error BandwidthChannelClaimSequenceTooHigh(uint256 channelId, uint64 sequence, uint256 maxSequence);
    /// @notice The channel was never confirmed, so it records no relation between its two sides.
    error BandwidthChannelNotConfirmed(uint256 channelId, Status status);
    /// @notice The channel's deposit is below the minimum that lets one side blacklist the other.
    error BandwidthChannelDepositTooSmall(uint256 channelId, uint256 deposit, uint256 minDeposit);
    /// @notice The upstream channel is not a route, or its downstream leg is already open.
    error BandwidthChannelInvalidRoute(uint256 upstreamId);
    /// @notice A constructor address is zero.
    error BandwidthChannelZeroAddress();
    /// @notice `signer` is neither `owner` nor an operator `owner` authorized for `role` that has not expired (a
    /// zero `signer` never is), so it cannot be bound as the owner's signing key.
    error BandwidthChannelNotOperator(address owner, address signer, uint8 role);
    /// @notice The payee's signing key would be the payer or the payer's bound key: one key would sign both sides.
    error BandwidthChannelSharedSigner(uint256 channelId, address signer);
    /// @notice A byte count does not fit the agreed count's stored type (uint64).
    error BandwidthChannelCountTooLarge(uint256 channelId, uint256 totalBytes);
    /// @notice A route's upstream lock or price (110 % of `amount` and `pricePerMB`) does not fit the stored type
    /// (uint96).
    error BandwidthChannelRouteTooLarge(uint256 amount, uint256 pricePerMB);
    /// @notice A batch opens at least one channel and at most `MAX_BATCH_OPENINGS`.
    error BandwidthChannelInvalidBatch(uint256 openings);

    /// @notice Opens a channel to `payee`, pulling `deposit` tokens from the caller (the payer, never an operator:
    /// opening moves the owner's money). `payerSigner` is bound as the key that signs the payer's units: the
    /// caller itself or its ROLE_PAYER operator, live now.
    function open(address payee, address payerSigner, uint96 deposit, uint96 pricePerMB, uint96 lossToleranceBytes)
        external
        returns (uint256 channelId);

    /// @notice {open} after applying an EIP-2612 permit, so no separate approval transaction is needed.
    function openWithPermit(
        address payee,
        address payerSigner,
        uint96 deposit,
        uint96 pricePerMB,
        uint96 lossToleranceBytes,
        PaymentFunding.Permit calldata permit
    ) external returns (uint256 channelId);

    /// @notice Opens each of `openings` as {open} would, in order, with consecutive ids from the one returned: a
    /// download pays several hosts in one transaction. One refused opening refuses the whole batch.
    function openBatch(Opening[] calldata openings) external returns (uint256 firstChannelId);

    /// @notice {openBatch} after applying one EIP-2612 permit for the sum of the deposits.
    function openBatchWithPermit(Opening[] calldata openings, PaymentFunding.Permit calldata permit)
        external
        returns (uint256 firstChannelId);

    /// @notice Opens the upstream leg of a route payer → proxy → payee for `amount` at `pricePerMB`: the caller
    /// locks 110% of `amount` for the proxy, whose upstream price is 110% of `pricePerMB`; the proxy pays the
    /// payee `pricePerMB` on its own downstream leg and keeps the 10% as its fee. `payerSigner` signs the
    /// caller's units on the upstream leg, as in {open}.
    function openRoute(
        address proxy,
        address payerSigner,
        uint96 amount,
        uint96 pricePerMB,
        uint96 lossToleranceBytes
    ) external returns (uint256 upstreamId);

    /// @notice {openRoute} after applying an EIP-2612 permit (for 110% of `amount`): one signature, one transaction.
    function openRouteWithPermit(
        address proxy,
        address payerSigner,
        uint96 amount,
        uint96 pricePerMB,
        uint96 lossToleranceBytes,
        PaymentFunding.Permit calldata permit
    ) external returns (uint256 upstreamId);

    /// @notice Called by the proxy itself on a confirmed route: opens the downstream leg proxy → `payee`, pulling
    /// the route's `amount` from the proxy; `payerSigner` signs the proxy's units on that leg, as in {open}.
    function openRouteLeg(uint256 upstreamId, address payee, address payerSigner)
        external
        returns (uint256 downstreamId);

    /// @notice {openRouteLeg} after applying an EIP-2612 permit (for the route's amount).
    function openRouteLegWithPermit(
        uint256 upstreamId,
        address payee,
        address payerSigner,
        PaymentFunding.Permit calldata permit
    ) external returns (uint256 downstreamId);

    /// @notice The payee (or its ROLE_PAYEE operator) accepts the channel before the confirmation deadline and
    /// binds `payeeSigner` as the key that signs the payee's units: the payee or its live ROLE_PAYEE operator,
    /// neither the payer nor the payer's bound key.
    function confirm(uint256 channelId, address payeeSigner) external;

    /// @notice The payer (or its ROLE_PAYER operator) takes the deposit back, to the payer, from a channel the
    /// payee did not confirm in time.
    function reclaim(uint256 channelId) external;

    /// @notice Either side (the payer, the payee, or a live operator of either for its role) starts closing with
    /// the last unit both bound keys signed (or the empty unit, sequence 0).
    function close(
        uint256 channelId,
        Usage calldata usage,
        bytes calldata payerSignature,
        bytes calldata payeeSignature
    ) external;

    /// @notice During the challenge window, anyone (either side, or a watchtower holding the unit for one) replaces
    /// the agreed unit with a later one both signed.
    function challenge(
        uint256 channelId,
        Usage calldata usage,
        bytes calldata payerSignature,
        bytes calldata payeeSignature
    ) external;

    /// @notice During the challenge window, either side (or a live operator of either for its role) records a unit
    /// signed by one side's bound key as that side's own claim. The claim counts at least the agreed bytes and at most the loss tolerance above the highest count the
    /// other side signed: the agreed unit, or `linked` when `linkedSignature` (the other side's signature of it) is
    /// given, in which case the claim's `link` must be `linked`'s digest. Its sequence is at most 2 above the
    /// highest sequence the other side signed (pass an empty `linkedSignature` to link nothing).
    function submitClaim(
        uint256 channelId,
        Usage calldata usage,
        bytes calldata signature,
        Usage calldata linked,
        bytes calldata linkedSignature
    ) external;

    /// @notice After the challenge window, pays the payee, refunds the payer and burns any disputed difference
    /// (the token's total supply falls by it); the payee's channel slot is free again.
    function settle(uint256 channelId) external;

    /// @notice Records on-chain that the caller's side distrusts the other side of `channelId`, a channel the payee
    /// confirmed with a deposit of at least 1 TAB. Sent by a side's live operator, it is recorded for the owner.
    function blacklist(uint256 channelId) external;

    /// @notice The channel as stored, with both bound signing keys.
    function getChannel(uint256 channelId) external view returns (Channel memory);

    /// @notice What {settle} would pay out now for a closing channel.
    function previewSettlement(uint256 channelId) external view returns (Settlement memory);

    /// @notice The route data of an upstream channel (zero amount if it is not a route).
    function getRoute(uint256 upstreamId) external view returns (Route memory);

    /// @notice The EIP-712 digest each side signs for `usage`.
    function usageDigest(Usage calldata usage) external view returns (bytes32);

    /// @notice How many confirmed, not yet settled channels `payee` holds (closing ones count: they still earn).
    function openChannelsOf(address payee) external view returns (uint256);

    /// @notice Whether `by` has blacklisted `against`.
    function isBlacklisted(address by, address against) external view returns (bool);
}
