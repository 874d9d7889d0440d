// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";
import {SafeCast} from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import {IStorageMarket} from "./interfaces/IStorageMarket.sol";

/// @title StorageMarket
/// @notice The fair payment flow for storage (seeds 000/001 and 004), every step on-chain or verifiable:
///
/// 1. A host registers its libp2p peer id, capacity and price per GiB per epoch, and stakes at least
///    `minStake`. Staking lives in this contract (there is no separate Staking contract): stake backs the host's
///    deals, is slashed here, and leaves only through unbonding while the host backs no active deal.
/// 2. The host authorizes clients on-chain ({setClientAuthorization}) or declares open registration; a client
///    checks {isClientAuthorized} (and its transaction receipt) before paying.
/// 3. The client proposes a deal and escrows the whole price in the same call (EIP-2612 permit: one signature).
/// 4. The host checks the shard it received against the proposed Merkle root and signs the terms with EIP-712:
///    that signature σ is the storage receipt. Anyone may submit it with {acceptDeal}; {isValidReceipt} checks it
///    at any time later. σ binds chain id, this contract, the deal id, the client and every term.
/// 5. Anyone may {challenge} an active deal. The leaf to prove is drawn from the hash of the block after the
///    challenge, so neither the challenger nor the host can choose it. The host answers with the 256-byte chunk
///    and its Merkle proof within `auditWindowSeconds`; each answer releases the price for the time up to it.
/// 6. A missed answer lets anyone (normally the challenger) send the penalty transaction
///    {finalizeMissedAudit}: `slashShareBps` of the host's stake goes to the client, the deal ends, the unproven
///    part of the escrow goes back to the client.
/// 7. The client may end early ({endDeal}, pro-rata refund); a finished deal pays out ({completeDeal}).
///    Per-host counters (audits passed/failed, deals completed, times slashed) are public.
///
/// A protocol fee (fixed per deal when it is accepted) goes to the treasury from every host payment.
/// Parameters and treasury belong to the owner, which deployments set to the governance timelock.
///
/// Shard Merkle tree (the web app builds the same one; see contracts/README.md):
/// - the shard is cut into chunks of {LEAF_SIZE_BYTES}; the last chunk is zero-padded to full size;
///   `leafCount = ceil(shardSizeBytes / LEAF_SIZE_BYTES)`;
/// - leaf i = keccak256(uint64 i as 8 big-endian bytes ‖ chunk i) (264-byte preimage, single hash);
/// - parent = keccak256(min(a, b) ‖ max(a, b)) (OpenZeppelin's commutative hash, checked by {MerkleProof});
/// - levels are built left to right; an odd node at the end of a level moves up unchanged.
/// Because the pair hash is commutative, a proof alone does not say where a leaf sits; putting the index into
/// the leaf hash does, so a chunk proven for leaf i really is chunk i. A leaf preimage (264 bytes) can never be
/// confused with an inner node's (64 bytes), which is why one hash suffices.
contract StorageMarket is IStorageMarket, EIP712, Ownable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Bytes per Merkle leaf (audit chunk).
    /// @dev Chosen for the gas of {answerAudit} on a 1 GiB shard, where calldata dominates. With leaf size L the
    /// answer carries L bytes of chunk plus 32 bytes per tree level, log2(2^30 / L) levels: L = 64 -> 832 bytes,
    /// L = 256 -> 960 bytes, L = 1024 -> 1,664 bytes, L = 4096 -> 4,672 bytes. Encrypted chunks are all non-zero
    /// bytes, and since EIP-7623 a transaction that is mostly calldata pays at least 40 gas per such byte on top
    /// of the 21,000 base: 1,664 bytes already cost ~88k, 4 KiB leaves ~208k. 256 bytes (22 levels, ~70k gas in
    /// total, measured in contracts/test) is well under the 80k budget while keeping the tree 4 Mi leaves per
    /// GiB instead of 16 Mi for 64-byte leaves, which the browser has to hash and the host to keep.
    uint256 public constant LEAF_SIZE_BYTES = 256;
    /// @notice Largest shard a deal may cover: 2^32 - 1 leaves (just under 1 TiB).
    uint256 public constant MAX_SHARD_SIZE_BYTES = LEAF_SIZE_BYTES * type(uint32).max;
    /// @notice Longest deal, in seconds (five years of 365 days).
    uint256 public constant MAX_DURATION_SECONDS = 5 * 365 days;
    /// @notice Prices are quoted per GiB per epoch; an epoch is one day.
    uint256 public constant EPOCH_SECONDS = 1 days;
    uint256 public constant GIB_BYTES = 1 << 30;
    /// @notice Denominator of every basis-point share.
    uint256 public constant BPS = 10_000;
    uint256 public constant MAX_PROTOCOL_FEE_BPS = 2_000;
    uint256 public constant MIN_AUDIT_WINDOW_SECONDS = 30;
    uint256 public constant MAX_AUDIT_WINDOW_SECONDS = 7 days;
    uint256 public constant MAX_UNBONDING_DELAY_SECONDS = 90 days;

    /// @dev EIP-2935 block hash history (a ring of the last 8191 hashes) on chains that have it.
    address private constant _HISTORY_STORAGE = 0x0000F90827F1C53a10cb7A02335B175320002935;
    uint256 private constant _HISTORY_SERVE_WINDOW = 8191;

    /// @notice EIP-712 type of the storage receipt σ (`manifestCid` is hashed as EIP-712 `bytes`).
    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "StorageReceipt(uint256 dealId,address client,address host,bytes manifestCid,uint32 shardIndex,"
        "uint64 shardSizeBytes,bytes32 shardRoot,uint64 durationSeconds,uint256 price)"
    );

    struct HostRecord {
        uint128 stake;
        uint128 unbonding;
        uint64 capacityBytes;
        uint64 usedBytes;
        uint40 unbondingReadyAt;
        uint32 activeDeals;
        bool openRegistration;
        bool registered;
        uint256 pricePerGiBEpoch;
        bytes peerId;
    }

    /// @dev Packed so that {answerAudit} reads three deal slots and writes one. What the host has earned is not
    /// stored: it is the price's share of [startedAt, provenUntil] (see {_earnedAt}).
    struct DealRecord {
        // slot 0
        address host;
        uint32 leafCount;
        uint40 startedAt;
        uint16 protocolFeeBps;
        // slot 1
        uint96 price;
        uint40 provenUntil;
        uint40 endsAt;
        DealStatus status;
        // slot 2
        bytes32 shardRoot;
        // slot 3
        address client;
        uint96 claimed;
        // slot 4
        bytes32 receiptHash;
        // slot 5
        uint64 shardSizeBytes;
        uint64 durationSeconds;
    }

    struct AuditRecord {
        address challenger;
        uint48 seedBlock;
        uint40 deadline;
    }

    IERC20 private immutable _token;
    Parameters private _parameters;
    address private _treasury;
    uint256 private _nextDealId = 1;

    mapping(address host => HostRecord) private _hosts;
    mapping(address host => Reputation) private _reputation;
    mapping(address host => mapping(address client => bool)) private _authorized;
    mapping(uint256 dealId => DealRecord) private _deals;
    mapping(uint256 dealId => AuditRecord) private _audits;
    mapping(uint256 dealId => mapping(uint256 seedBlock => bytes32)) private _fixedSeeds;

    /// @param token_ the payment and staking token (needs EIP-2612 for the permit paths).
    /// @param initialOwner owner of parameters and treasury: the governance timelock.
    /// @param treasury_ receiver of protocol fees.
    /// @param initialParameters see {Parameters}.
    constructor(IERC20 token_, address initialOwner, address treasury_, Parameters memory initialParameters)
        EIP712("Tabula StorageMarket", "1")
        Ownable(initialOwner)
    {
        if (address(token_) == address(0)) revert StorageMarketZeroAddress();
        _token = token_;
        _setTreasury(treasury_);
        _setParameters(initialParameters);
    }

    // ================================================================== hosts and staking

    /// @inheritdoc IStorageMarket
    function registerHost(
        bytes calldata peerId,
        uint64 capacityBytes,
        uint256 pricePerGiBEpoch,
        bool openRegistration,
        uint256 stake,
        PermitSignature calldata permit
    ) external nonReentrant {
        HostRecord storage h = _hosts[msg.sender];
        if (h.registered) revert StorageMarketHostAlreadyRegistered(msg.sender);
        if (peerId.length == 0) revert StorageMarketEmptyPeerId();
        uint256 minStake = _parameters.minStake;
        if (stake < minStake) revert StorageMarketInsufficientStake(msg.sender, stake, minStake);

        h.registered = true;
        h.openRegistration = openRegistration;
        h.peerId = peerId;
        h.capacityBytes = capacityBytes;
        h.pricePerGiBEpoch = pricePerGiBEpoch;
        h.stake = stake.toUint128();
        // Also keeps the reputation slot non-zero, so the first passed audit does not pay for a fresh slot.
        _reputation[msg.sender].registeredAt = uint40(block.timestamp);
        emit HostRegistered(msg.sender, peerId, capacityBytes, pricePerGiBEpoch, stake);
        if (openRegistration) emit OpenRegistrationSet(msg.sender, true);

        _pull(msg.sender, stake, permit);
    }

    /// @inheritdoc IStorageMarket
    function updateHost(bytes calldata peerId, uint64 capacityBytes, uint256 pricePerGiBEpoch) external {
        HostRecord storage h = _registeredHost(msg.sender);
        if (peerId.length == 0) revert StorageMarketEmptyPeerId();
        h.peerId = peerId;
        h.capacityBytes = capacityBytes;
        h.pricePerGiBEpoch = pricePerGiBEpoch;
        emit HostUpdated(msg.sender, peerId, capacityBytes, pricePerGiBEpoch);
    }

    /// @inheritdoc IStorageMarket
    function addStake(uint256 amount, PermitSignature calldata permit) external nonReentrant {
        HostRecord storage h = _registeredHost(msg.sender);
        if (amount == 0) revert StorageMarketZeroAmount();
        uint256 stake = h.stake + amount;
        h.stake = stake.toUint128();
        emit StakeAdded(msg.sender, amount, stake);
        _pull(msg.sender, amount, permit);
    }

    /// @inheritdoc IStorageMarket
    /// @dev Stake backs every deal the host has, so none may be active. Unbonding stake is no longer slashable;
    /// the delay restarts for the whole unbonding amount on every call.
    function beginUnbonding(uint256 amount) external {
        HostRecord storage h = _registeredHost(msg.sender);
        if (amount == 0) revert StorageMarketZeroAmount();
        if (h.activeDeals != 0) revert StorageMarketHostHasActiveDeals(msg.sender, h.activeDeals);
        if (amount > h.stake) revert StorageMarketStakeExceeded(msg.sender, amount, h.stake);
        h.stake -= uint128(amount);
        uint256 unbonding = h.unbonding + amount;
        h.unbonding = uint128(unbonding);
        uint256 readyAt = block.timestamp + _parameters.unbondingDelaySeconds;
        h.unbondingReadyAt = uint40(readyAt);
        emit UnbondingStarted(msg.sender, amount, unbonding, readyAt);
    }

    /// @inheritdoc IStorageMarket
    function withdrawStake() external nonReentrant {
        HostRecord storage h = _hosts[msg.sender];
        uint256 amount = h.unbonding;
        if (amount == 0) revert StorageMarketNothingUnbonding(msg.sender);
        if (block.timestamp < h.unbondingReadyAt) {
            revert StorageMarketUnbondingNotReady(msg.sender, h.unbondingReadyAt);
        }
        if (h.activeDeals != 0) revert StorageMarketHostHasActiveDeals(msg.sender, h.activeDeals);
        h.unbonding = 0;
        emit StakeWithdrawn(msg.sender, amount);
        _token.safeTransfer(msg.sender, amount);
    }

    /// @inheritdoc IStorageMarket
    function setOpenRegistration(bool open) external {
        _registeredHost(msg.sender).openRegistration = open;
        emit OpenRegistrationSet(msg.sender, open);
    }

    /// @inheritdoc IStorageMarket
    /// @dev Step 3 of the fair payment flow: the host writes the client's address on-chain.
    function setClientAuthorization(address client, bool authorized) external {
        _registeredHost(msg.sender);
        if (client == address(0)) revert StorageMarketZeroAddress();
        _authorized[msg.sender][client] = authorized;
        emit ClientAuthorizationSet(msg.sender, client, authorized);
    }

    // ================================================================== deals

    /// @inheritdoc IStorageMarket
    /// @dev The caller is the client. The price must cover the host's current {quote}; the escrow is pulled with
    /// the permit if one is given (a failed permit, e.g. front-run, falls back to the existing allowance).
    function proposeDeal(DealTerms calldata terms, PermitSignature calldata permit)
        external
        nonReentrant
        returns (uint256 dealId)
    {
        HostRecord storage h = _hosts[terms.host];
        if (!h.registered) revert StorageMarketHostNotRegistered(terms.host);
        if (!h.openRegistration && !_authorized[terms.host][msg.sender]) {
            revert StorageMarketClientNotAuthorized(terms.host, msg.sender);
        }
        if (terms.shardSizeBytes == 0 || terms.shardSizeBytes > MAX_SHARD_SIZE_BYTES) {
            revert StorageMarketInvalidShardSize(terms.shardSizeBytes);
        }
        if (terms.durationSeconds == 0 || terms.durationSeconds > MAX_DURATION_SECONDS) {
            revert StorageMarketInvalidDuration(terms.durationSeconds);
        }
        uint256 required = _quote(h.pricePerGiBEpoch, terms.shardSizeBytes, terms.durationSeconds);
        if (terms.price < required) revert StorageMarketPriceTooLow(terms.price, required);

        dealId = _nextDealId++;
        DealRecord storage d = _deals[dealId];
        d.client = msg.sender;
        d.status = DealStatus.Proposed;
        d.host = terms.host;
        d.leafCount = uint32(Math.ceilDiv(terms.shardSizeBytes, LEAF_SIZE_BYTES));
        d.price = terms.price.toUint96();
        d.shardRoot = terms.shardRoot;
        d.receiptHash = _receiptStructHash(dealId, msg.sender, terms);
        d.shardSizeBytes = terms.shardSizeBytes;
        d.durationSeconds = terms.durationSeconds;
        emit DealProposed(dealId, msg.sender, terms.host, terms);

        _pull(msg.sender, terms.price, permit);
    }

    /// @inheritdoc IStorageMarket
    function cancelProposal(uint256 dealId) external nonReentrant {
        DealRecord storage d = _deals[dealId];
        _requireStatus(dealId, d, DealStatus.Proposed);
        if (msg.sender != d.client) revert StorageMarketNotDealClient(dealId, msg.sender);
        d.status = DealStatus.Cancelled;
        uint256 refund = d.price;
        emit DealCancelled(dealId, refund);
        _token.safeTransfer(d.client, refund);
    }

    /// @inheritdoc IStorageMarket
    /// @dev `signature` must be a 65-byte (r, s, v) EIP-712 signature by the host with a low s. 64-byte EIP-2098
    /// signatures are refused here explicitly, whatever the ECDSA library accepts, so σ has one encoding only.
    function acceptDeal(uint256 dealId, bytes calldata signature) external {
        DealRecord storage d = _deals[dealId];
        _requireStatus(dealId, d, DealStatus.Proposed);
        if (signature.length != 65) revert StorageMarketInvalidSignatureLength(signature.length);
        if (!_isHostSignature(d.host, _hashTypedDataV4(d.receiptHash), signature)) {
            revert StorageMarketInvalidReceiptSignature(dealId);
        }
        HostRecord storage h = _hosts[d.host];
        uint256 minStake = _parameters.minStake;
        if (h.stake < minStake) revert StorageMarketInsufficientStake(d.host, h.stake, minStake);
        uint256 available = h.capacityBytes > h.usedBytes ? h.capacityBytes - h.usedBytes : 0;
        if (d.shardSizeBytes > available) revert StorageMarketCapacityExceeded(d.host, d.shardSizeBytes, available);

        h.usedBytes += d.shardSizeBytes;
        h.activeDeals += 1;
        uint256 endsAt = block.timestamp + d.durationSeconds;
        d.status = DealStatus.Active;
        d.startedAt = uint40(block.timestamp);
        d.endsAt = uint40(endsAt);
        d.provenUntil = uint40(block.timestamp);
        d.protocolFeeBps = _parameters.protocolFeeBps;
        emit DealAccepted(dealId, d.host, signature, block.timestamp, endsAt);
    }

    // ================================================================== audits

    /// @inheritdoc IStorageMarket
    /// @dev The seed block is the next one; its hash does not exist when this call runs. One audit per deal is
    /// open at a time; a deal can be challenged until it ends.
    function challenge(uint256 dealId) external {
        DealRecord storage d = _deals[dealId];
        _requireStatus(dealId, d, DealStatus.Active);
        if (block.timestamp >= d.endsAt) revert StorageMarketDealExpired(dealId, d.endsAt);
        AuditRecord storage a = _audits[dealId];
        if (a.challenger != address(0)) revert StorageMarketAuditOpen(dealId);
        uint256 seedBlock = block.number + 1;
        uint256 deadline = block.timestamp + _parameters.auditWindowSeconds;
        a.challenger = msg.sender;
        a.seedBlock = uint48(seedBlock);
        a.deadline = uint40(deadline);
        emit AuditChallenged(dealId, msg.sender, seedBlock, deadline);
    }

    /// @inheritdoc IStorageMarket
    /// @dev Block hashes are readable for 256 blocks (8191 on chains with EIP-2935). A challenger who
    /// wants the draw to stand calls this while the hash is readable; if nobody did and it is gone, this draws a
    /// fresh seed block instead, again one nobody knows yet, so the audit can still be answered.
    function fixAuditSeed(uint256 dealId) external {
        AuditRecord storage a = _audits[dealId];
        if (a.challenger == address(0)) revert StorageMarketNoOpenAudit(dealId);
        uint256 seedBlock = a.seedBlock;
        if (block.number <= seedBlock) revert StorageMarketAuditSeedNotReady(dealId, seedBlock);
        if (_fixedSeeds[dealId][seedBlock] != 0) revert StorageMarketAuditSeedAlreadyFixed(dealId);
        bytes32 seed = _blockHash(seedBlock);
        if (seed != 0) {
            _fixedSeeds[dealId][seedBlock] = seed;
            emit AuditSeedFixed(dealId, seedBlock, seed);
        } else {
            uint256 next = block.number + 1;
            a.seedBlock = uint48(next);
            emit AuditSeedRedrawn(dealId, next);
        }
    }

    /// @inheritdoc IStorageMarket
    /// @dev `leaf` is chunk number {auditLeafIndex} of the shard, exactly {LEAF_SIZE_BYTES} long (the last chunk
    /// zero-padded); `proof` its sibling hashes from the leaf up. Payment accrues for the time up to now (or the
    /// deal's end); the host collects it with {claimEarnings} or at settlement.
    function answerAudit(uint256 dealId, bytes calldata leaf, bytes32[] calldata proof) external {
        AuditRecord memory a = _audits[dealId];
        if (a.challenger == address(0)) revert StorageMarketNoOpenAudit(dealId);
        DealRecord storage d = _deals[dealId];
        if (msg.sender != d.host) revert StorageMarketNotDealHost(dealId, msg.sender);
        if (block.timestamp > a.deadline) revert StorageMarketAuditWindowClosed(dealId, a.deadline);
        if (leaf.length != LEAF_SIZE_BYTES) revert StorageMarketInvalidLeafSize(leaf.length);
        uint256 leafIndex = _leafIndex(dealId, _auditSeed(dealId, a.seedBlock), d.leafCount);
        bytes32 leafHash = keccak256(abi.encodePacked(uint64(leafIndex), leaf));
        if (!MerkleProof.verifyCalldata(proof, d.shardRoot, leafHash)) {
            revert StorageMarketInvalidProof(dealId, leafIndex);
        }

        uint256 provenUntil = Math.min(block.timestamp, d.endsAt);
        uint256 earned = _earnedAt(d, provenUntil);
        d.provenUntil = uint40(provenUntil);
        delete _audits[dealId];
        _reputation[d.host].auditsPassed += 1;
        emit AuditAnswered(dealId, leafIndex, earned);
    }

    /// @inheritdoc IStorageMarket
    /// @dev Anyone may send it once the window has closed: every token it moves goes to the client, the host or
    /// the treasury, so the sender gains nothing, and a challenger who walked away cannot freeze the deal. The
    /// host keeps what earlier answers proved; the unproven rest of the escrow and the slashed stake go to the
    /// client.
    function finalizeMissedAudit(uint256 dealId) external nonReentrant {
        AuditRecord memory a = _audits[dealId];
        if (a.challenger == address(0)) revert StorageMarketNoOpenAudit(dealId);
        if (block.timestamp <= a.deadline) revert StorageMarketAuditWindowOpen(dealId, a.deadline);
        DealRecord storage d = _deals[dealId];
        HostRecord storage h = _hosts[d.host];
        uint256 slashed = uint256(h.stake) * _parameters.slashShareBps / BPS;
        h.stake -= uint128(slashed);
        Reputation storage r = _reputation[d.host];
        r.auditsFailed += 1;
        r.timesSlashed += 1;
        (uint256 hostPayment, uint256 refund) = _settle(dealId, d, d.provenUntil, DealStatus.Slashed);
        emit AuditMissed(dealId, a.challenger, slashed, refund, hostPayment);

        _token.safeTransfer(d.client, refund + slashed);
        _payHost(dealId, d, hostPayment);
    }

    // ================================================================== settlement

    /// @inheritdoc IStorageMarket
    /// @dev Not while an audit is open (it has to be answered or finalized first) and not after the end (then
    /// the deal is simply completed).
    function endDeal(uint256 dealId) external nonReentrant {
        DealRecord storage d = _deals[dealId];
        _requireStatus(dealId, d, DealStatus.Active);
        if (msg.sender != d.client) revert StorageMarketNotDealClient(dealId, msg.sender);
        if (block.timestamp >= d.endsAt) revert StorageMarketDealExpired(dealId, d.endsAt);
        if (_audits[dealId].challenger != address(0)) revert StorageMarketAuditOpen(dealId);
        (uint256 hostPayment, uint256 refund) = _settle(dealId, d, block.timestamp, DealStatus.Ended);
        emit DealEnded(dealId, hostPayment, refund);

        _token.safeTransfer(d.client, refund);
        _payHost(dealId, d, hostPayment);
    }

    /// @inheritdoc IStorageMarket
    function completeDeal(uint256 dealId) external nonReentrant {
        DealRecord storage d = _deals[dealId];
        _requireStatus(dealId, d, DealStatus.Active);
        if (block.timestamp < d.endsAt) revert StorageMarketDealNotFinished(dealId, d.endsAt);
        if (_audits[dealId].challenger != address(0)) revert StorageMarketAuditOpen(dealId);
        _reputation[d.host].dealsCompleted += 1;
        (uint256 hostPayment,) = _settle(dealId, d, d.endsAt, DealStatus.Completed);
        emit DealCompleted(dealId, hostPayment);

        _payHost(dealId, d, hostPayment);
    }

    /// @inheritdoc IStorageMarket
    /// @dev Anyone may trigger it; the tokens go to the host (minus the protocol fee).
    function claimEarnings(uint256 dealId) external nonReentrant {
        DealRecord storage d = _deals[dealId];
        _requireStatus(dealId, d, DealStatus.Active);
        uint256 earned = _earnedAt(d, d.provenUntil);
        uint256 amount = earned - d.claimed;
        if (amount == 0) revert StorageMarketNothingToClaim(dealId);
        d.claimed = uint96(earned);
        _payHost(dealId, d, amount);
    }

    // ================================================================== governance

    /// @inheritdoc IStorageMarket
    /// @dev Owner only (the timelock). Running deals keep the fee they were accepted with.
    function setParameters(Parameters calldata newParameters) external onlyOwner {
        _setParameters(newParameters);
    }

    /// @inheritdoc IStorageMarket
    function setTreasury(address newTreasury) external onlyOwner {
        _setTreasury(newTreasury);
    }

    // ================================================================== views

    /// @notice The token deals are paid and stakes are held in.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @inheritdoc IStorageMarket
    function parameters() external view returns (Parameters memory) {
        return _parameters;
    }

    /// @inheritdoc IStorageMarket
    function treasury() external view returns (address) {
        return _treasury;
    }

    /// @inheritdoc IStorageMarket
    function hostInfo(address host) external view returns (HostInfo memory) {
        HostRecord storage h = _hosts[host];
        return HostInfo({
            registered: h.registered,
            openRegistration: h.openRegistration,
            peerId: h.peerId,
            capacityBytes: h.capacityBytes,
            usedBytes: h.usedBytes,
            pricePerGiBEpoch: h.pricePerGiBEpoch,
            stake: h.stake,
            unbonding: h.unbonding,
            unbondingReadyAt: h.unbondingReadyAt,
            activeDeals: h.activeDeals
        });
    }

    /// @inheritdoc IStorageMarket
    function reputation(address host) external view returns (Reputation memory) {
        return _reputation[host];
    }

    /// @inheritdoc IStorageMarket
    /// @dev Step 7 of the fair payment flow: the client checks its registration before paying.
    function isClientAuthorized(address host, address client) external view returns (bool) {
        HostRecord storage h = _hosts[host];
        return h.registered && (h.openRegistration || _authorized[host][client]);
    }

    /// @inheritdoc IStorageMarket
    /// @dev price per GiB per epoch × size / GiB × duration / epoch, rounded up. Step 6: the payable.
    function quote(address host, uint256 shardSizeBytes, uint256 durationSeconds) external view returns (uint256) {
        return _quote(_hosts[host].pricePerGiBEpoch, shardSizeBytes, durationSeconds);
    }

    /// @inheritdoc IStorageMarket
    function dealInfo(uint256 dealId) external view returns (DealInfo memory) {
        DealRecord storage d = _deals[dealId];
        return DealInfo({
            status: d.status,
            client: d.client,
            host: d.host,
            shardRoot: d.shardRoot,
            shardSizeBytes: d.shardSizeBytes,
            durationSeconds: d.durationSeconds,
            leafCount: d.leafCount,
            price: d.price,
            earned: d.endsAt == 0 ? 0 : _earnedAt(d, d.provenUntil),
            claimed: d.claimed,
            startedAt: d.startedAt,
            endsAt: d.endsAt,
            provenUntil: d.provenUntil,
            protocolFeeBps: d.protocolFeeBps,
            receiptHash: d.receiptHash
        });
    }

    /// @inheritdoc IStorageMarket
    function auditInfo(uint256 dealId) external view returns (AuditInfo memory) {
        AuditRecord storage a = _audits[dealId];
        return AuditInfo({challenger: a.challenger, seedBlock: a.seedBlock, deadline: a.deadline});
    }

    /// @inheritdoc IStorageMarket
    /// @dev What the host's software calls to know which chunk to send; reverts while the seed is not drawn.
    function auditLeafIndex(uint256 dealId) external view returns (uint256) {
        AuditRecord storage a = _audits[dealId];
        if (a.challenger == address(0)) revert StorageMarketNoOpenAudit(dealId);
        return _leafIndex(dealId, _auditSeed(dealId, a.seedBlock), _deals[dealId].leafCount);
    }

    /// @inheritdoc IStorageMarket
    /// @dev The EIP-712 digest σ signs for a proposed (or later) deal.
    function receiptDigest(uint256 dealId) external view returns (bytes32) {
        return _hashTypedDataV4(_deals[dealId].receiptHash);
    }

    /// @inheritdoc IStorageMarket
    /// @dev Lets anyone holding the terms compute the digest without trusting the stored hash.
    function hashReceipt(uint256 dealId, address client, DealTerms calldata terms) external view returns (bytes32) {
        return _hashTypedDataV4(_receiptStructHash(dealId, client, terms));
    }

    /// @inheritdoc IStorageMarket
    /// @dev True iff `signature` is the deal host's σ over the deal's terms on this chain and contract (65 bytes,
    /// low s; anything else is false).
    function isValidReceipt(uint256 dealId, bytes calldata signature) external view returns (bool) {
        DealRecord storage d = _deals[dealId];
        if (d.status == DealStatus.None) return false;
        return _isHostSignature(d.host, _hashTypedDataV4(d.receiptHash), signature);
    }

    /// @inheritdoc IStorageMarket
    function nextDealId() external view returns (uint256) {
        return _nextDealId;
    }

    // ================================================================== internals

    function _registeredHost(address host) private view returns (HostRecord storage h) {
        h = _hosts[host];
        if (!h.registered) revert StorageMarketHostNotRegistered(host);
    }

    function _requireStatus(uint256 dealId, DealRecord storage d, DealStatus expected) private view {
        if (d.status != expected) revert StorageMarketUnexpectedDealStatus(dealId, d.status);
    }

    function _quote(uint256 pricePerGiBEpoch, uint256 sizeBytes, uint256 durationSeconds)
        private
        pure
        returns (uint256)
    {
        return Math.mulDiv(pricePerGiBEpoch, sizeBytes * durationSeconds, GIB_BYTES * EPOCH_SECONDS, Math.Rounding.Ceil);
    }

    function _receiptStructHash(uint256 dealId, address client, DealTerms calldata terms)
        private
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                RECEIPT_TYPEHASH,
                dealId,
                client,
                terms.host,
                keccak256(terms.manifestCid),
                terms.shardIndex,
                terms.shardSizeBytes,
                terms.shardRoot,
                terms.durationSeconds,
                terms.price
            )
        );
    }

    function _isHostSignature(address host, bytes32 digest, bytes calldata signature) private pure returns (bool) {
        if (signature.length != 65) return false;
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecoverCalldata(digest, signature);
        return err == ECDSA.RecoverError.NoError && signer == host;
    }

    /// @dev The seed of an audit: the seed block's hash (or the copy {fixAuditSeed} kept of it).
    function _auditSeed(uint256 dealId, uint256 seedBlock) private view returns (bytes32 seed) {
        if (block.number <= seedBlock) revert StorageMarketAuditSeedNotReady(dealId, seedBlock);
        seed = _blockHash(seedBlock);
        if (seed == 0) {
            seed = _fixedSeeds[dealId][seedBlock];
            if (seed == 0) revert StorageMarketAuditSeedExpired(dealId, seedBlock);
        }
    }

    /// @dev The hash of a past block, or zero once no longer known. Like OpenZeppelin's Blockhash, but a history
    /// call that fails or returns anything but one word counts as unknown instead of being read as a hash.
    function _blockHash(uint256 blockNumber) private view returns (bytes32 hash) {
        uint256 distance = block.number - blockNumber;
        if (distance <= 256) return blockhash(blockNumber);
        if (distance > _HISTORY_SERVE_WINDOW) return 0;
        assembly ("memory-safe") {
            mstore(0x00, blockNumber)
            let ok := staticcall(gas(), _HISTORY_STORAGE, 0x00, 0x20, 0x00, 0x20)
            if and(ok, eq(returndatasize(), 0x20)) { hash := mload(0x00) }
        }
    }

    function _leafIndex(uint256 dealId, bytes32 seed, uint256 leafCount) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, dealId))) % leafCount;
    }

    /// @dev The share of the price earned for storing until `t` (at most the deal's end), rounded down.
    function _earnedAt(DealRecord storage d, uint256 t) private view returns (uint256) {
        uint256 start = d.startedAt;
        uint256 duration = d.endsAt - start;
        return uint256(d.price) * (Math.min(t, start + duration) - start) / duration;
    }

    /// @dev Closes a deal paid until `paidUntil`: fixes the host's final earnings and frees the capacity and
    /// stake the deal held.
    function _settle(uint256 dealId, DealRecord storage d, uint256 paidUntil, DealStatus status)
        private
        returns (uint256 hostPayment, uint256 refund)
    {
        uint256 earned = _earnedAt(d, paidUntil);
        hostPayment = earned - d.claimed;
        refund = d.price - earned;
        d.status = status;
        d.provenUntil = uint40(Math.min(paidUntil, d.endsAt));
        d.claimed = uint96(earned);
        HostRecord storage h = _hosts[d.host];
        h.activeDeals -= 1;
        h.usedBytes -= d.shardSizeBytes;
        delete _audits[dealId];
    }

    /// @dev Sends `amount` of a deal's escrow to its host, minus the deal's protocol fee for the treasury.
    function _payHost(uint256 dealId, DealRecord storage d, uint256 amount) private {
        if (amount == 0) return;
        uint256 fee = amount * d.protocolFeeBps / BPS;
        emit HostPaid(dealId, d.host, amount - fee, fee);
        _token.safeTransfer(d.host, amount - fee);
        if (fee != 0) _token.safeTransfer(_treasury, fee);
    }

    function _pull(address from, uint256 amount, PermitSignature calldata permit) private {
        if (permit.deadline != 0) {
            try IERC20Permit(address(_token)).permit(
                from, address(this), amount, permit.deadline, permit.v, permit.r, permit.s
            ) {} catch {}
        }
        _token.safeTransferFrom(from, address(this), amount);
    }

    function _setParameters(Parameters memory p) private {
        if (p.minStake == 0) revert StorageMarketInvalidMinStake(p.minStake);
        if (p.slashShareBps == 0 || p.slashShareBps > BPS) revert StorageMarketInvalidSlashShare(p.slashShareBps);
        if (p.protocolFeeBps > MAX_PROTOCOL_FEE_BPS) {
            revert StorageMarketInvalidProtocolFee(p.protocolFeeBps, MAX_PROTOCOL_FEE_BPS);
        }
        if (p.auditWindowSeconds < MIN_AUDIT_WINDOW_SECONDS || p.auditWindowSeconds > MAX_AUDIT_WINDOW_SECONDS) {
            revert StorageMarketInvalidAuditWindow(
                p.auditWindowSeconds, MIN_AUDIT_WINDOW_SECONDS, MAX_AUDIT_WINDOW_SECONDS
            );
        }
        if (p.unbondingDelaySeconds > MAX_UNBONDING_DELAY_SECONDS) {
            revert StorageMarketInvalidUnbondingDelay(p.unbondingDelaySeconds, MAX_UNBONDING_DELAY_SECONDS);
        }
        _parameters = p;
        emit ParametersSet(p);
    }

    function _setTreasury(address newTreasury) private {
        if (newTreasury == address(0)) revert StorageMarketZeroAddress();
        _treasury = newTreasury;
        emit TreasurySet(newTreasury);
    }
}
