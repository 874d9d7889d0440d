// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IBandwidthChannel} from "./interfaces/IBandwidthChannel.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {PaymentFunding} from "./libraries/PaymentFunding.sol";
import {PaymentSignatures} from "./libraries/PaymentSignatures.sol";

/// @title Tachyon bandwidth channels
/// @notice See {IBandwidthChannel}. Every usage unit is an EIP-712 message of this contract on this chain that
/// names its channel, and a channel names its payer and payee and the two keys bound to sign for them, so a unit is
/// bound to (chain id, contract, channel, payer, payee, sequence) and cannot be replayed anywhere else.
///
/// Operator keys: the payer binds its signing key at open and the payee at confirm, each the owner itself or its
/// live operator in the {IOperatorRegistry} for its role. Units are checked against the bound keys only, so a later
/// revocation or expiry never voids a unit someone was paid with; routine calls check the registry each time, so a
/// revoked operator can no longer make them. Tokens only move to or from the payer and the payee.
///
/// Settlement, with A the agreed count (last unit both signed), Cr the payer's own claim and Ce the payee's:
/// - |Ce - Cr| <= tolerance: the payee is paid A and the payer charged A;
/// - otherwise: the payee is paid min(Ce, Cr), the payer is charged Ce, the difference is burned (the token's
///   total supply falls by it).
/// A payer who under-claims is still charged the payee's count; a payee who over-claims is still paid the payer's
/// lower count; so neither side gains by lying. A one-sided claim counts at least A (it never undoes what both
/// signed), at most the tolerance above the highest count the other side signed (A, or a linked unit of the
/// other side), and its sequence at most 2 above the highest sequence the other side signed, so a later unit both
/// signed still outranks it. Against an honest side that claims its own count, a liar's claim therefore stays
/// within the tolerance: it is never disputed and burns nothing.
contract BandwidthChannel is IBandwidthChannel, EIP712, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Most confirmed channels one payee may hold open at a time (the seed's Sybil limit).
    uint256 public constant MAX_OPEN_CHANNELS_PER_PAYEE = 5;
    /// @notice Bytes in one MB, the unit prices are quoted in.
    uint256 public constant BYTES_PER_MB = 1_000_000;
    /// @notice Every this many bytes a unit must carry the digest of the other side's last unit (checked
    /// off-chain by the side that countersigns; on-chain a claim's link is checked whenever it names a unit).
    uint256 public constant LINK_INTERVAL_BYTES = 5 * BYTES_PER_MB;
    /// @notice A route's upstream leg locks and prices this percentage of the downstream amount.
    uint256 public constant PROXY_LOCK_PERCENT = 110;
    /// @notice Most channels one batch opens (a download pays at most one host per shard it reads).
    uint256 public constant MAX_BATCH_OPENINGS = 32;
    /// @notice Most a one-sided claim's sequence may exceed the highest sequence the other side signed.
    uint64 public constant MAX_CLAIM_SEQUENCE_STEP = 2;
    /// @notice Smallest deposit of a confirmed channel through which one side may blacklist the other.
    uint256 public constant MIN_BLACKLIST_DEPOSIT = 1e18;

    bytes32 private constant USAGE_TYPEHASH =
        keccak256("Usage(uint256 channelId,uint64 sequence,uint128 totalBytes,uint64 time,bytes32 link)");

    uint8 private constant _ROLE_PAYER = 4;
    uint8 private constant _ROLE_PAYEE = 8;

    IERC20 private immutable _token;
    IOperatorRegistry private immutable _operators;
    uint64 private immutable _confirmWindowSeconds;
    uint64 private immutable _challengeWindowSeconds;

    uint256 private _lastChannelId;
    mapping(uint256 channelId => Channel) private _channels;
    mapping(uint256 upstreamId => Route) private _routes;
    mapping(address payee => uint256) private _openChannels;
    mapping(address by => mapping(address against => bool)) private _distrusts;

    /// @param token_ the platform token every payment is made in.
    /// @param operators_ the registry of operator keys payers and payees authorize.
    /// @param confirmWindowSeconds how long a payee has to confirm a new channel.
    /// @param challengeWindowSeconds how long the other side has to answer a close.
    constructor(
        IERC20 token_,
        IOperatorRegistry operators_,
        uint64 confirmWindowSeconds,
        uint64 challengeWindowSeconds
    ) EIP712("Tabula BandwidthChannel", "1") {
        if (address(token_) == address(0) || address(operators_) == address(0)) revert BandwidthChannelZeroAddress();
        _token = token_;
        _operators = operators_;
        _confirmWindowSeconds = confirmWindowSeconds;
        _challengeWindowSeconds = challengeWindowSeconds;
    }

    /// @notice The token payments are made in.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice The registry of operator keys this contract accepts.
    function operators() external view returns (IOperatorRegistry) {
        return _operators;
    }

    /// @notice Seconds a payee has to confirm, and seconds a close can be challenged.
    function windows() external view returns (uint64 confirmWindowSeconds, uint64 challengeWindowSeconds) {
        return (_confirmWindowSeconds, _challengeWindowSeconds);
    }

    /// @inheritdoc IBandwidthChannel
    function open(address payee, address payerSigner, uint96 deposit, uint96 pricePerMB, uint96 lossToleranceBytes)
        external
        nonReentrant
        returns (uint256 channelId)
    {
        channelId = _open(msg.sender, payerSigner, payee, deposit, pricePerMB, lossToleranceBytes);
    }

    /// @inheritdoc IBandwidthChannel
    function openWithPermit(
        address payee,
        address payerSigner,
        uint96 deposit,
        uint96 pricePerMB,
        uint96 lossToleranceBytes,
        PaymentFunding.Permit calldata permit
    ) external nonReentrant returns (uint256 channelId) {
        PaymentFunding.applyPermit(address(_token), msg.sender, address(this), permit);
        channelId = _open(msg.sender, payerSigner, payee, deposit, pricePerMB, lossToleranceBytes);
    }

    /// @inheritdoc IBandwidthChannel
    function openBatch(Opening[] calldata openings) external nonReentrant returns (uint256 firstChannelId) {
        firstChannelId = _openBatch(openings);
    }

    /// @inheritdoc IBandwidthChannel
    function openBatchWithPermit(Opening[] calldata openings, PaymentFunding.Permit calldata permit)
        external
        nonReentrant
        returns (uint256 firstChannelId)
    {
        PaymentFunding.applyPermit(address(_token), msg.sender, address(this), permit);
        firstChannelId = _openBatch(openings);
    }

    /// @inheritdoc IBandwidthChannel
    function openRoute(
        address proxy,
        address payerSigner,
        uint96 amount,
        uint96 pricePerMB,
        uint96 lossToleranceBytes
    ) external nonReentrant returns (uint256 upstreamId) {
        upstreamId = _openRoute(proxy, payerSigner, amount, pricePerMB, lossToleranceBytes);
    }

    /// @inheritdoc IBandwidthChannel
    function openRouteWithPermit(
        address proxy,
        address payerSigner,
        uint96 amount,
        uint96 pricePerMB,
        uint96 lossToleranceBytes,
        PaymentFunding.Permit calldata permit
    ) external nonReentrant returns (uint256 upstreamId) {
        PaymentFunding.applyPermit(address(_token), msg.sender, address(this), permit);
        upstreamId = _openRoute(proxy, payerSigner, amount, pricePerMB, lossToleranceBytes);
    }

    /// @inheritdoc IBandwidthChannel
    function openRouteLeg(uint256 upstreamId, address payee, address payerSigner)
        external
        nonReentrant
        returns (uint256 downstreamId)
    {
        downstreamId = _openRouteLeg(upstreamId, payee, payerSigner);
    }

    /// @inheritdoc IBandwidthChannel
    function openRouteLegWithPermit(
        uint256 upstreamId,
        address payee,
        address payerSigner,
        PaymentFunding.Permit calldata permit
    ) external nonReentrant returns (uint256 downstreamId) {
        PaymentFunding.applyPermit(address(_token), msg.sender, address(this), permit);
        downstreamId = _openRouteLeg(upstreamId, payee, payerSigner);
    }

    /// @inheritdoc IBandwidthChannel
    function confirm(uint256 channelId, address payeeSigner) external {
        Channel storage channel = _channels[channelId];
        address payee = channel.payee;
        if (msg.sender != payee && !_operators.actsFor(payee, msg.sender, _ROLE_PAYEE)) {
            revert BandwidthChannelNotPayee(channelId, msg.sender);
        }
        _requireStatus(channelId, channel.status, Status.Opened);
        if (block.timestamp > channel.deadline) revert BandwidthChannelConfirmWindowClosed(channelId, channel.deadline);
        // The sender was just checked: binding itself needs no second look-up.
        if (payeeSigner != msg.sender) _requireBindable(payee, payeeSigner, _ROLE_PAYEE);
        if (payeeSigner == channel.payer || payeeSigner == channel.payerSigner) {
            revert BandwidthChannelSharedSigner(channelId, payeeSigner);
        }
        uint256 openChannels = _openChannels[payee];
        if (openChannels >= MAX_OPEN_CHANNELS_PER_PAYEE) revert BandwidthChannelPayeeFull(payee, openChannels);
        _openChannels[payee] = openChannels + 1;
        channel.payeeSigner = payeeSigner;
        channel.status = Status.Active;
        channel.deadline = 0;
        emit ChannelConfirmed(channelId, payee, payeeSigner);
    }

    /// @inheritdoc IBandwidthChannel
    function reclaim(uint256 channelId) external nonReentrant {
        Channel storage channel = _channels[channelId];
        address payer = channel.payer;
        if (msg.sender != payer && !_operators.actsFor(payer, msg.sender, _ROLE_PAYER)) {
            revert BandwidthChannelNotPayer(channelId, msg.sender);
        }
        _requireStatus(channelId, channel.status, Status.Opened);
        if (block.timestamp <= channel.deadline) revert BandwidthChannelConfirmWindowOpen(channelId, channel.deadline);
        uint256 amount = channel.deposit;
        channel.status = Status.Reclaimed;
        emit ChannelReclaimed(channelId, payer, amount);
        _token.safeTransfer(payer, amount);
    }

    /// @inheritdoc IBandwidthChannel
    function close(
        uint256 channelId,
        Usage calldata usage,
        bytes calldata payerSignature,
        bytes calldata payeeSignature
    ) external {
        Channel storage channel = _channels[channelId];
        _partyOf(channelId, channel);
        _requireStatus(channelId, channel.status, Status.Active);
        if (usage.sequence == 0) {
            if (usage.totalBytes != 0 || payerSignature.length != 0 || payeeSignature.length != 0) {
                revert BandwidthChannelInvalidEmptyUsage(channelId);
            }
        } else {
            _verifyBothSigned(channelId, channel, usage, payerSignature, payeeSignature);
        }
        uint40 deadline = SafeCast.toUint40(block.timestamp + _challengeWindowSeconds);
        channel.status = Status.Closing;
        channel.deadline = deadline;
        channel.agreedSequence = usage.sequence;
        channel.agreedBytes = uint64(usage.totalBytes);
        emit ChannelClosing(channelId, msg.sender, usage.sequence, usage.totalBytes, deadline);
    }

    /// @inheritdoc IBandwidthChannel
    function challenge(
        uint256 channelId,
        Usage calldata usage,
        bytes calldata payerSignature,
        bytes calldata payeeSignature
    ) external {
        Channel storage channel = _channels[channelId];
        _requireChallengeWindow(channelId, channel);
        if (usage.sequence <= channel.agreedSequence) {
            revert BandwidthChannelStaleUsage(channelId, usage.sequence, channel.agreedSequence);
        }
        _verifyBothSigned(channelId, channel, usage, payerSignature, payeeSignature);
        channel.agreedSequence = usage.sequence;
        channel.agreedBytes = uint64(usage.totalBytes);
        emit ChannelChallenged(channelId, msg.sender, usage.sequence, usage.totalBytes);
    }

    /// @inheritdoc IBandwidthChannel
    function submitClaim(
        uint256 channelId,
        Usage calldata usage,
        bytes calldata signature,
        Usage calldata linked,
        bytes calldata linkedSignature
    ) external {
        Channel storage channel = _channels[channelId];
        _partyOf(channelId, channel);
        _requireChallengeWindow(channelId, channel);
        _checkUnit(channelId, channel, usage);
        address signer = PaymentSignatures.recover(_usageDigest(usage), signature);
        bool byPayer = signer == channel.payerSigner;
        if (!byPayer && signer != channel.payeeSigner) revert BandwidthChannelNotSignedByParty(channelId, signer);
        _requireNewerClaim(channelId, channel, usage.sequence, byPayer);
        _checkClaimBounds(
            channelId, channel, usage, linked, linkedSignature, byPayer ? channel.payeeSigner : channel.payerSigner
        );
        if (byPayer) {
            channel.payerSequence = usage.sequence;
            channel.payerBytes = usage.totalBytes;
        } else {
            channel.payeeSequence = usage.sequence;
            channel.payeeBytes = usage.totalBytes;
        }
        emit UsageClaimed(channelId, signer, usage.sequence, usage.totalBytes);
    }

    /// @inheritdoc IBandwidthChannel
    function settle(uint256 channelId) external nonReentrant {
        Channel storage channel = _channels[channelId];
        _requireStatus(channelId, channel.status, Status.Closing);
        if (block.timestamp <= channel.deadline) revert BandwidthChannelChallengeWindowOpen(channelId, channel.deadline);
        Settlement memory s = _settlement(channel);
        address payee = channel.payee;
        channel.status = Status.Settled;
        _openChannels[payee] -= 1;
        emit ChannelSettled(channelId, s.paid, s.refunded, s.burned, s.disputed);
        if (s.paid != 0) _token.safeTransfer(payee, s.paid);
        if (s.refunded != 0) _token.safeTransfer(channel.payer, s.refunded);
        if (s.burned != 0) ERC20Burnable(address(_token)).burn(s.burned);
    }

    /// @inheritdoc IBandwidthChannel
    function blacklist(uint256 channelId) external {
        Channel storage channel = _channels[channelId];
        bool byPayer = _partyOf(channelId, channel);
        Status status = channel.status;
        if (status != Status.Active && status != Status.Closing && status != Status.Settled) {
            revert BandwidthChannelNotConfirmed(channelId, status);
        }
        if (channel.deposit < MIN_BLACKLIST_DEPOSIT) {
            revert BandwidthChannelDepositTooSmall(channelId, channel.deposit, MIN_BLACKLIST_DEPOSIT);
        }
        (address by, address against) = byPayer ? (channel.payer, channel.payee) : (channel.payee, channel.payer);
        _distrusts[by][against] = true;
        emit Blacklisted(by, against, channelId);
    }

    /// @inheritdoc IBandwidthChannel
    function getChannel(uint256 channelId) external view returns (Channel memory) {
        return _channels[channelId];
    }

    /// @inheritdoc IBandwidthChannel
    function previewSettlement(uint256 channelId) external view returns (Settlement memory) {
        Channel storage channel = _channels[channelId];
        _requireStatus(channelId, channel.status, Status.Closing);
        return _settlement(channel);
    }

    /// @inheritdoc IBandwidthChannel
    function getRoute(uint256 upstreamId) external view returns (Route memory) {
        return _routes[upstreamId];
    }

    /// @inheritdoc IBandwidthChannel
    function usageDigest(Usage calldata usage) external view returns (bytes32) {
        return _usageDigest(usage);
    }

    /// @inheritdoc IBandwidthChannel
    function openChannelsOf(address payee) external view returns (uint256) {
        return _openChannels[payee];
    }

    /// @inheritdoc IBandwidthChannel
    function isBlacklisted(address by, address against) external view returns (bool) {
        return _distrusts[by][against];
    }

    function _openBatch(Opening[] calldata openings) private returns (uint256 firstChannelId) {
        uint256 count = openings.length;
        if (count == 0 || count > MAX_BATCH_OPENINGS) revert BandwidthChannelInvalidBatch(count);
        firstChannelId = _lastChannelId + 1;
        for (uint256 i = 0; i < count; i++) {
            Opening calldata o = openings[i];
            _open(msg.sender, o.payerSigner, o.payee, o.deposit, o.pricePerMB, o.lossToleranceBytes);
        }
    }

    function _openRoute(
        address proxy,
        address payerSigner,
        uint96 amount,
        uint96 pricePerMB,
        uint96 lossToleranceBytes
    ) private returns (uint256 upstreamId) {
        uint256 lockedAmount = uint256(amount) * PROXY_LOCK_PERCENT / 100;
        uint256 upstreamPrice = uint256(pricePerMB) * PROXY_LOCK_PERCENT / 100;
        if (lockedAmount > type(uint96).max || upstreamPrice > type(uint96).max) {
            revert BandwidthChannelRouteTooLarge(amount, pricePerMB);
        }
        upstreamId =
            _open(msg.sender, payerSigner, proxy, uint96(lockedAmount), uint96(upstreamPrice), lossToleranceBytes);
        _routes[upstreamId] = Route({amount: amount, pricePerMB: pricePerMB, downstreamId: 0});
        emit RouteOpened(upstreamId, msg.sender, proxy, amount);
    }

    function _openRouteLeg(uint256 upstreamId, address payee, address payerSigner)
        private
        returns (uint256 downstreamId)
    {
        Channel storage upstream = _channels[upstreamId];
        Route storage route = _routes[upstreamId];
        if (route.amount == 0 || route.downstreamId != 0) revert BandwidthChannelInvalidRoute(upstreamId);
        if (msg.sender != upstream.payee) revert BandwidthChannelNotPayee(upstreamId, msg.sender);
        _requireStatus(upstreamId, upstream.status, Status.Active);
        downstreamId = _lastChannelId + 1;
        route.downstreamId = downstreamId;
        _open(msg.sender, payerSigner, payee, route.amount, route.pricePerMB, upstream.lossToleranceBytes);
        emit RouteLegOpened(upstreamId, downstreamId, payee);
    }

    function _open(
        address payer,
        address payerSigner,
        address payee,
        uint96 deposit,
        uint96 pricePerMB,
        uint96 lossToleranceBytes
    ) private returns (uint256 channelId) {
        if (payee == address(0) || payee == payer) revert BandwidthChannelInvalidPayee(payee);
        if (deposit == 0 || pricePerMB == 0) revert BandwidthChannelInvalidTerms(deposit, pricePerMB);
        _requireBindable(payer, payerSigner, _ROLE_PAYER);
        if (_distrusts[payer][payee] || _distrusts[payee][payer]) revert BandwidthChannelBlacklisted(payer, payee);
        uint256 openChannels = _openChannels[payee];
        if (openChannels >= MAX_OPEN_CHANNELS_PER_PAYEE) revert BandwidthChannelPayeeFull(payee, openChannels);

        channelId = ++_lastChannelId;
        // The deadline is the later time: when it fits, so does the opening time.
        uint40 deadline = SafeCast.toUint40(block.timestamp + _confirmWindowSeconds);
        Channel storage channel = _channels[channelId];
        channel.status = Status.Opened;
        channel.deadline = deadline;
        channel.openedAt = uint40(block.timestamp);
        channel.payee = payee;
        channel.lossToleranceBytes = lossToleranceBytes;
        channel.payer = payer;
        channel.deposit = deposit;
        channel.payerSigner = payerSigner;
        channel.pricePerMB = pricePerMB;
        emit ChannelOpened(channelId, payer, payee, payerSigner, deposit, pricePerMB, lossToleranceBytes, deadline);
        _token.safeTransferFrom(payer, address(this), deposit);
    }

    function _verifyBothSigned(
        uint256 channelId,
        Channel storage channel,
        Usage calldata usage,
        bytes calldata payerSignature,
        bytes calldata payeeSignature
    ) private view {
        _checkUnit(channelId, channel, usage);
        if (usage.totalBytes > type(uint64).max) revert BandwidthChannelCountTooLarge(channelId, usage.totalBytes);
        bytes32 digest = _usageDigest(usage);
        address signer = PaymentSignatures.recover(digest, payerSignature);
        if (signer != channel.payerSigner) revert BandwidthChannelWrongSigner(channelId, channel.payerSigner, signer);
        signer = PaymentSignatures.recover(digest, payeeSignature);
        if (signer != channel.payeeSigner) revert BandwidthChannelWrongSigner(channelId, channel.payeeSigner, signer);
    }

    function _checkUnit(uint256 channelId, Channel storage channel, Usage calldata usage) private view {
        if (usage.channelId != channelId) revert BandwidthChannelWrongChannel(channelId, usage.channelId);
        if (usage.time < channel.openedAt || usage.time > block.timestamp) {
            revert BandwidthChannelInvalidTime(channelId, usage.time);
        }
    }

    /// @dev The highest sequence wins, and a one-sided claim only counts above the agreed unit.
    function _requireNewerClaim(uint256 channelId, Channel storage channel, uint64 sequence, bool byPayer)
        private
        view
    {
        uint64 recorded = byPayer ? channel.payerSequence : channel.payeeSequence;
        if (recorded < channel.agreedSequence) recorded = channel.agreedSequence;
        if (sequence <= recorded) revert BandwidthChannelStaleUsage(channelId, sequence, recorded);
    }

    /// @dev A claim counts at least the agreed bytes, at most the tolerance above the highest count the other side
    /// signed, and its sequence is at most {MAX_CLAIM_SEQUENCE_STEP} above the highest sequence the other side
    /// signed. The other side's signed counts are the agreed unit and, when `linkedSignature` is given, `linked`,
    /// which the claim must then name in its `link`.
    function _checkClaimBounds(
        uint256 channelId,
        Channel storage channel,
        Usage calldata usage,
        Usage calldata linked,
        bytes calldata linkedSignature,
        address otherSide
    ) private view {
        uint256 baseBytes = channel.agreedBytes;
        if (usage.totalBytes < baseBytes) revert BandwidthChannelClaimBelowAgreed(channelId, usage.totalBytes, baseBytes);
        uint256 baseSequence = channel.agreedSequence;
        if (linkedSignature.length != 0) {
            _checkUnit(channelId, channel, linked);
            bytes32 linkedDigest = _usageDigest(linked);
            if (usage.link != linkedDigest) revert BandwidthChannelLinkMismatch(channelId, usage.link, linkedDigest);
            address linkedSigner = PaymentSignatures.recover(linkedDigest, linkedSignature);
            if (linkedSigner != otherSide) revert BandwidthChannelWrongSigner(channelId, otherSide, linkedSigner);
            if (linked.totalBytes > baseBytes) baseBytes = linked.totalBytes;
            if (linked.sequence > baseSequence) baseSequence = linked.sequence;
        }
        uint256 maxBytes = baseBytes + channel.lossToleranceBytes;
        if (usage.totalBytes > maxBytes) revert BandwidthChannelClaimTooHigh(channelId, usage.totalBytes, maxBytes);
        uint256 maxSequence = baseSequence + MAX_CLAIM_SEQUENCE_STEP;
        if (usage.sequence > maxSequence) revert BandwidthChannelClaimSequenceTooHigh(channelId, usage.sequence, maxSequence);
    }

    function _settlement(Channel storage channel) private view returns (Settlement memory s) {
        uint256 agreed = channel.agreedBytes;
        uint64 agreedSequence = channel.agreedSequence;
        uint256 payerClaim = channel.payerSequence > agreedSequence ? _max(channel.payerBytes, agreed) : agreed;
        uint256 payeeClaim = channel.payeeSequence > agreedSequence ? _max(channel.payeeBytes, agreed) : agreed;
        uint256 difference = payerClaim > payeeClaim ? payerClaim - payeeClaim : payeeClaim - payerClaim;
        uint256 deposit = channel.deposit;
        uint256 charged;
        if (difference > channel.lossToleranceBytes) {
            s.disputed = true;
            uint256 lower = payerClaim < payeeClaim ? payerClaim : payeeClaim;
            charged = _cost(channel, payeeClaim, deposit);
            s.paid = _cost(channel, lower, deposit);
        } else {
            charged = _cost(channel, agreed, deposit);
            s.paid = charged;
        }
        s.burned = charged - s.paid;
        s.refunded = deposit - charged;
    }

    /// @dev Price of `totalBytes`, rounded down and capped at the deposit.
    function _cost(Channel storage channel, uint256 totalBytes, uint256 deposit) private view returns (uint256) {
        uint256 cost = totalBytes * channel.pricePerMB / BYTES_PER_MB;
        return cost < deposit ? cost : deposit;
    }

    function _max(uint256 a, uint256 b) private pure returns (uint256) {
        return a > b ? a : b;
    }

    function _usageDigest(Usage calldata usage) private view returns (bytes32) {
        return _hashTypedDataV4(
            keccak256(
                abi.encode(USAGE_TYPEHASH, usage.channelId, usage.sequence, usage.totalBytes, usage.time, usage.link)
            )
        );
    }

    /// @dev Whether the sender acts for the payer (true) or the payee (false): the owner itself, or its live
    /// operator for its role; reverts for anyone else. The payer's bound key, the usual operator sender, is asked
    /// about first.
    function _partyOf(uint256 channelId, Channel storage channel) private view returns (bool forPayer) {
        address payer = channel.payer;
        if (
            msg.sender == payer
                || (msg.sender == channel.payerSigner && _operators.actsFor(payer, msg.sender, _ROLE_PAYER))
        ) return true;
        address payee = channel.payee;
        if (msg.sender == payee || _operators.actsFor(payee, msg.sender, _ROLE_PAYEE)) return false;
        if (_operators.actsFor(payer, msg.sender, _ROLE_PAYER)) return true;
        revert BandwidthChannelNotParty(channelId, msg.sender);
    }

    /// @dev `signer` may be bound as `owner`'s signing key for `role`: nonzero, and the owner or its live operator.
    function _requireBindable(address owner, address signer, uint8 role) private view {
        if (signer != owner && (signer == address(0) || !_operators.actsFor(owner, signer, role))) {
            revert BandwidthChannelNotOperator(owner, signer, role);
        }
    }

    function _requireStatus(uint256 channelId, Status actual, Status expected) private pure {
        if (actual != expected) revert BandwidthChannelUnexpectedStatus(channelId, actual, expected);
    }

    function _requireChallengeWindow(uint256 channelId, Channel storage channel) private view {
        _requireStatus(channelId, channel.status, Status.Closing);
        if (block.timestamp > channel.deadline) revert BandwidthChannelChallengeWindowClosed(channelId, channel.deadline);
    }
}
