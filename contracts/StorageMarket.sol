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
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {IStorageMarket} from "./interfaces/IStorageMarket.sol";

/// @title StorageMarket
/// @notice The fair payment flow for storage (seeds 000/001 and 004), every step on-chain or verifiable:
///
/// 1. A host registers its libp2p peer id, capacity and price per GiB per month (30 days), and stakes at least
///    `minStake`. Staking lives in this contract: each accepted deal locks collateral from the stake in proportion
///    to its price, and only stake no deal has locked can leave, through unbonding.
/// 2. The host authorizes clients on-chain ({setClientAuthorization}) or declares open registration; a client
///    checks {isClientAuthorized} (and its transaction receipt) before paying.
/// 3. The client proposes the deals of all shards of a file and escrows their prices in one call (EIP-2612
///    permit: one signature, which may grant more than the escrow; the rest stays allowance for challenge bonds).
/// 4. The host checks each shard it received against the proposed Merkle root and signs the terms with EIP-712:
///    that signature σ is the storage receipt, valid until the terms' `acceptBy`. The host's operator key may sign
///    it (see {IOperatorRegistry}). Anyone may submit all σ of a file at once with {acceptDeals}; {isValidReceipt}
///    checks one at any time later. σ binds chain id, this contract, the deal id, the client and every term.
/// 5. Anyone may {challenge} an active deal by putting up the deal's challenge bond. The leaf to prove is drawn
///    from the hash of the block after the challenge, so neither the challenger nor the host can choose it; the
///    challenger fixes that seed ({fixAuditSeeds}) while the hash is readable, which starts the host's answer
///    window. A seed nobody fixed lapses ({lapseChallenge}) and its bond goes to the host: a host can never cause
///    a new draw, and is never punished for a seed nobody fixed. The host answers with the 256-byte chunk and its
///    Merkle proof; each answer releases the price for the time up to it and pays the host the bond.
/// 6. A missed answer lets anyone send the penalty transaction {finalizeMissedAudit}: the deal's collateral goes
///    to the client, the deal ends, the unproven part of the escrow goes back to the client and the bond to its
///    challenger.
/// 7. The client may end early ({endDeals}, all deals of a file at once: pro-rata, or up to what was proven
///    if the host has missed an open audit); a finished deal pays out ({completeDeal}). Per-host counters count only what
///    cost someone else something.
///
/// A deal keeps the protocol fee, audit window, collateral and challenge bond it was accepted with: governance
/// (the owner, the timelock) changes them for new deals only.
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
    /// of the 21,000 base: 1,664 bytes already cost ~88k, 4 KiB leaves ~208k. 256 bytes (22 levels, ~70k gas for
    /// the proof, measured in contracts/test) keeps the tree 4 Mi leaves per GiB instead of 16 Mi for 64-byte
    /// leaves, which the browser has to hash and the host to keep.
    uint256 public constant LEAF_SIZE_BYTES = 256;
    /// @notice Largest shard a deal may cover: 2^32 - 1 leaves (just under 1 TiB).
    uint256 public constant MAX_SHARD_SIZE_BYTES = LEAF_SIZE_BYTES * type(uint32).max;
    /// @notice Longest deal, in seconds (five years of 365 days).
    uint256 public constant MAX_DURATION_SECONDS = 5 * 365 days;
    /// @notice Latest `acceptBy` a proposal may carry, counted from the proposal: a σ is for the upload at hand,
    /// never a standing promise a client could use months after the host dropped the shard.
    uint256 public constant MAX_ACCEPT_DELAY_SECONDS = 30 days;
    /// @notice Prices are quoted per GiB per month, as the app shows them; a month is 30 days.
    uint256 public constant MONTH_SECONDS = 30 days;
    uint256 public constant GIB_BYTES = 1 << 30;
    /// @notice Denominator of every basis-point share.
    uint256 public constant BPS = 10_000;
    uint256 public constant MAX_PROTOCOL_FEE_BPS = 2_000;
    /// @notice Collateral may be up to 5× a deal's price.
    uint256 public constant MAX_COLLATERAL_BPS = 50_000;
    uint256 public constant MIN_AUDIT_WINDOW_SECONDS = 30;
    uint256 public constant MAX_AUDIT_WINDOW_SECONDS = 7 days;
    uint256 public constant MAX_UNBONDING_DELAY_SECONDS = 90 days;

    /// @dev EIP-2935 block hash history (a ring of the last 8191 hashes) on chains that have it.
    address private constant _HISTORY_STORAGE = 0x0000F90827F1C53a10cb7A02335B175320002935;
    uint256 private constant _HISTORY_SERVE_WINDOW = 8191;
    uint8 private constant _ROLE_HOST = 1;
    uint8 private constant _ROLE_CLIENT = 2;

    /// @notice EIP-712 type of the storage receipt σ (`manifestCid` is hashed as EIP-712 `bytes`).
    bytes32 public constant RECEIPT_TYPEHASH = keccak256(
        "StorageReceipt(uint256 dealId,address client,address host,bytes manifestCid,uint32 shardIndex,"
        "uint64 shardSizeBytes,bytes32 shardRoot,uint64 durationSeconds,uint256 price,uint64 acceptBy)"
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
        uint128 pricePerGiBMonth;
        uint128 lockedCollateral;
        bytes peerId;
    }

    /// @dev Packed in six slots; what the host has earned is not stored: it is the price's share of
    /// [startedAt, provenUntil] (see {_earnedAt}). Parameters are copied in at acceptance and never change after.
    struct DealRecord {
        // slot 0
        address host;
        uint40 startedAt;
        uint16 protocolFeeBps;
        uint32 auditWindowSeconds;
        // slot 1
        uint96 price;
        uint40 provenUntil;
        uint40 endsAt;
        DealStatus status;
        uint40 acceptBy;
        uint32 durationSeconds;
        // slot 2
        bytes32 shardRoot;
        // slot 3
        address client;
        uint96 claimed;
        // slot 4
        bytes32 receiptHash;
        // slot 5
        uint96 collateral;
        uint96 challengeBond;
        uint64 shardSizeBytes;
    }

    /// @dev `deadline == 0` while the seed is not fixed; `challenger` is who put up the bond.
    struct AuditRecord {
        address challenger;
        uint48 seedBlock;
        uint40 deadline;
        bytes32 seed;
    }

    IERC20 private immutable _token;
    IOperatorRegistry private immutable _operators;
    Parameters private _parameters;
    address private _treasury;
    uint256 private _nextDealId = 1;

    mapping(address host => HostRecord) private _hosts;
    mapping(address host => Reputation) private _reputation;
    mapping(address host => mapping(address client => bool)) private _authorized;
    mapping(uint256 dealId => DealRecord) private _deals;
    mapping(uint256 dealId => AuditRecord) private _audits;

    /// @param token_ the payment and staking token (needs EIP-2612 for the permit paths).
    /// @param operators_ the registry of operator keys hosts and clients authorize.
    /// @param initialOwner owner of parameters and treasury: the governance timelock.
    /// @param treasury_ receiver of protocol fees.
    /// @param initialParameters see {Parameters}.
    constructor(
        IERC20 token_,
        IOperatorRegistry operators_,
        address initialOwner,
        address treasury_,
        Parameters memory initialParameters
    ) EIP712("Tabula StorageMarket", "2") Ownable(initialOwner) {
        if (address(token_) == address(0) || address(operators_) == address(0)) revert StorageMarketZeroAddress();
        _token = token_;
        _operators = operators_;
        _setTreasury(treasury_);
        _setParameters(initialParameters);
    }

    // ================================================================== hosts and staking

    /// @inheritdoc IStorageMarket
    function registerHost(
        bytes calldata peerId,
        uint64 capacityBytes,
        uint256 pricePerGiBMonth,
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
        h.pricePerGiBMonth = pricePerGiBMonth.toUint128();
        h.stake = stake.toUint128();
        // Also keeps the reputation slot non-zero, so the first passed audit does not pay for a fresh slot.
        _reputation[msg.sender].registeredAt = uint40(block.timestamp);
        emit HostRegistered(msg.sender, peerId, capacityBytes, pricePerGiBMonth, stake);
        if (openRegistration) emit OpenRegistrationSet(msg.sender, true);

        _pull(msg.sender, stake, permit);
    }

    /// @inheritdoc IStorageMarket
    function updateHost(bytes calldata peerId, uint64 capacityBytes, uint256 pricePerGiBMonth) external {
        HostRecord storage h = _registeredHost(msg.sender);
        if (peerId.length == 0) revert StorageMarketEmptyPeerId();
        h.peerId = peerId;
        h.capacityBytes = capacityBytes;
        h.pricePerGiBMonth = pricePerGiBMonth.toUint128();
        emit HostUpdated(msg.sender, peerId, capacityBytes, pricePerGiBMonth);
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
    /// @dev Collateral locked by running deals stays; unbonding stake is no longer slashable. The delay restarts
    /// for the whole unbonding amount on every call.
    function beginUnbonding(uint256 amount) external {
        HostRecord storage h = _registeredHost(msg.sender);
        if (amount == 0) revert StorageMarketZeroAmount();
        uint256 free = h.stake - h.lockedCollateral;
        if (amount > free) revert StorageMarketInsufficientFreeStake(msg.sender, free, amount);
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
    /// @dev The caller is the client. Each price must cover its host's current {quote}; the escrow is pulled once,
    /// with the permit if one is given (a failed permit, e.g. front-run, falls back to the existing allowance). What
    /// the permit grants beyond the escrow stays the market's allowance: the client's budget for challenge bonds.
    function proposeDeals(DealTerms[] calldata terms, PermitSignature calldata permit)
        external
        nonReentrant
        returns (uint256 firstDealId)
    {
        if (terms.length == 0) revert StorageMarketEmptyBatch();
        firstDealId = _nextDealId;
        uint256 total;
        for (uint256 i = 0; i < terms.length; i++) {
            total += _propose(firstDealId + i, terms[i]);
        }
        _nextDealId = firstDealId + terms.length;
        _pull(msg.sender, total, permit);
    }

    /// @inheritdoc IStorageMarket
    /// @dev The whole refund goes back to the caller, the client of every deal, in one transfer.
    function cancelProposals(uint256[] calldata dealIds) external nonReentrant {
        if (dealIds.length == 0) revert StorageMarketEmptyBatch();
        uint256 refund;
        for (uint256 i = 0; i < dealIds.length; i++) {
            uint256 dealId = dealIds[i];
            DealRecord storage d = _deals[dealId];
            _requireStatus(dealId, d, DealStatus.Proposed);
            if (msg.sender != d.client) revert StorageMarketNotDealClient(dealId, msg.sender);
            d.status = DealStatus.Cancelled;
            refund += d.price;
            emit DealCancelled(dealId, d.price);
        }
        _token.safeTransfer(msg.sender, refund);
    }

    /// @inheritdoc IStorageMarket
    /// @dev Each σ must be a 65-byte (r, s, v) EIP-712 signature with a low s by the host or an operator the host
    /// authorized for hosting now. 64-byte EIP-2098 signatures are refused explicitly, so σ has one encoding only.
    function acceptDeals(uint256[] calldata dealIds, bytes[] calldata signatures) external {
        if (dealIds.length == 0) revert StorageMarketEmptyBatch();
        if (dealIds.length != signatures.length) {
            revert StorageMarketLengthMismatch(dealIds.length, signatures.length);
        }
        Parameters memory p = _parameters;
        for (uint256 i = 0; i < dealIds.length; i++) {
            _accept(dealIds[i], signatures[i], p);
        }
    }

    // ================================================================== audits

    /// @inheritdoc IStorageMarket
    /// @dev The seed block is the next one; its hash does not exist when this call runs. One audit per deal is
    /// open at a time; a deal can be challenged until it ends. The bond is what makes a challenge cost something:
    /// each answer pays it to the host, so a stranger's stream of challenges pays for the host's answers.
    function challenge(uint256[] calldata dealIds, address bondPayer) external nonReentrant {
        if (dealIds.length == 0) revert StorageMarketEmptyBatch();
        _requireActsFor(bondPayer, _ROLE_CLIENT);
        uint256 seedBlock = block.number + 1;
        uint256 bonds;
        for (uint256 i = 0; i < dealIds.length; i++) {
            uint256 dealId = dealIds[i];
            DealRecord storage d = _deals[dealId];
            _requireStatus(dealId, d, DealStatus.Active);
            if (block.timestamp >= d.endsAt) revert StorageMarketDealExpired(dealId, d.endsAt);
            AuditRecord storage a = _audits[dealId];
            if (a.challenger != address(0)) revert StorageMarketAuditOpen(dealId);
            a.challenger = bondPayer;
            a.seedBlock = uint48(seedBlock);
            bonds += d.challengeBond;
            emit AuditChallenged(dealId, bondPayer, seedBlock, d.challengeBond);
        }
        if (bonds != 0) _token.safeTransferFrom(bondPayer, address(this), bonds);
    }

    /// @inheritdoc IStorageMarket
    /// @dev Block hashes are readable for 256 blocks (8191 on chains with EIP-2935). Anyone may call it; the
    /// challenger has every reason to, since its bond goes to the host if nobody does.
    function fixAuditSeeds(uint256[] calldata dealIds) external {
        if (dealIds.length == 0) revert StorageMarketEmptyBatch();
        for (uint256 i = 0; i < dealIds.length; i++) {
            uint256 dealId = dealIds[i];
            AuditRecord storage a = _openAudit(dealId);
            if (a.deadline != 0) revert StorageMarketAuditSeedAlreadyFixed(dealId);
            _fixSeed(dealId, a, _deals[dealId]);
        }
    }

    /// @inheritdoc IStorageMarket
    function lapseChallenge(uint256 dealId) external nonReentrant {
        AuditRecord storage a = _openAudit(dealId);
        if (a.deadline != 0) revert StorageMarketAuditSeedAlreadyFixed(dealId);
        uint256 seedBlock = a.seedBlock;
        if (block.number <= seedBlock || _blockHash(seedBlock) != 0) {
            revert StorageMarketAuditSeedStillReadable(dealId, seedBlock);
        }
        DealRecord storage d = _deals[dealId];
        delete _audits[dealId];
        uint256 bond = d.challengeBond;
        emit ChallengeLapsed(dealId, bond);
        if (bond != 0) _token.safeTransfer(d.host, bond);
    }

    /// @inheritdoc IStorageMarket
    /// @dev `leaf` is chunk number {auditLeafIndex} of the shard, exactly {LEAF_SIZE_BYTES} long (the last chunk
    /// zero-padded); `proof` its sibling hashes from the leaf up. A host may answer before anyone fixed the seed
    /// (its answer fixes it). Payment accrues for the time up to now (or the deal's end); the host collects it with
    /// {claimEarnings} or at settlement.
    function answerAudit(uint256 dealId, bytes calldata leaf, bytes32[] calldata proof) external nonReentrant {
        AuditRecord storage a = _openAudit(dealId);
        DealRecord storage d = _deals[dealId];
        _requireActsFor(d.host, _ROLE_HOST);
        if (a.deadline == 0) _fixSeed(dealId, a, d);
        if (block.timestamp > a.deadline) revert StorageMarketAuditWindowClosed(dealId, a.deadline);
        if (leaf.length != LEAF_SIZE_BYTES) revert StorageMarketInvalidLeafSize(leaf.length);
        uint256 leafIndex = _leafIndex(dealId, a.seed, d.shardSizeBytes);
        bytes32 leafHash = keccak256(abi.encodePacked(uint64(leafIndex), leaf));
        if (!MerkleProof.verifyCalldata(proof, d.shardRoot, leafHash)) {
            revert StorageMarketInvalidProof(dealId, leafIndex);
        }

        uint256 provenUntil = Math.min(block.timestamp, d.endsAt);
        uint256 earned = _earnedAt(d, provenUntil);
        d.provenUntil = uint40(provenUntil);
        if (a.challenger != d.host) _reputation[d.host].auditsPassed += 1;
        delete _audits[dealId];
        uint256 bond = d.challengeBond;
        emit AuditAnswered(dealId, leafIndex, earned, bond);
        if (bond != 0) _token.safeTransfer(d.host, bond);
    }

    /// @inheritdoc IStorageMarket
    /// @dev Anyone may send it once the window has closed: every token it moves goes to the client, the host,
    /// the challenger or the treasury, so the sender gains nothing, and a challenger who walked away cannot freeze
    /// the deal. The host keeps what earlier answers proved.
    function finalizeMissedAudit(uint256 dealId) external nonReentrant {
        AuditRecord storage a = _openAudit(dealId);
        uint256 deadline = a.deadline;
        if (deadline == 0) revert StorageMarketAuditSeedNotFixed(dealId);
        if (block.timestamp <= deadline) revert StorageMarketAuditWindowOpen(dealId, deadline);
        address challenger = a.challenger;
        DealRecord storage d = _deals[dealId];
        uint256 collateral = d.collateral;
        _hosts[d.host].stake -= uint128(collateral);
        Reputation storage r = _reputation[d.host];
        r.auditsFailed += 1;
        r.timesSlashed += 1;
        (uint256 hostPayment, uint256 refund) = _settle(dealId, d, d.provenUntil, DealStatus.Slashed);
        uint256 bond = d.challengeBond;
        emit AuditMissed(dealId, challenger, collateral, refund, hostPayment, bond);

        _token.safeTransfer(d.client, refund + collateral);
        if (bond != 0) _token.safeTransfer(challenger, bond);
        _payHost(dealId, d, hostPayment);
    }

    // ================================================================== settlement

    /// @inheritdoc IStorageMarket
    /// @dev Not after the end (then the deal is simply completed). An open audit never stops a client from
    /// leaving: one the host can still answer changes nothing (the host is paid pro-rata up to now, so a client
    /// gains nothing by challenging just before it leaves), one the host already missed pays the host only what it
    /// proved; the audit's bond goes back to its challenger. Refunds to one client are paid in one transfer.
    function endDeals(uint256[] calldata dealIds) external nonReentrant {
        if (dealIds.length == 0) revert StorageMarketEmptyBatch();
        address runClient;
        uint256 runRefund;
        for (uint256 i = 0; i < dealIds.length; i++) {
            (address client, uint256 refund) = _end(dealIds[i]);
            if (client != runClient) {
                if (runRefund != 0) _token.safeTransfer(runClient, runRefund);
                (runClient, runRefund) = (client, 0);
            }
            runRefund += refund;
        }
        if (runRefund != 0) _token.safeTransfer(runClient, runRefund);
    }

    /// @inheritdoc IStorageMarket
    function completeDeal(uint256 dealId) external nonReentrant {
        DealRecord storage d = _deals[dealId];
        _requireStatus(dealId, d, DealStatus.Active);
        if (block.timestamp < d.endsAt) revert StorageMarketDealNotFinished(dealId, d.endsAt);
        if (_audits[dealId].challenger != address(0)) revert StorageMarketAuditOpen(dealId);
        if (d.client != d.host) _reputation[d.host].dealsCompleted += 1;
        (uint256 hostPayment,) = _settle(dealId, d, d.endsAt, DealStatus.Completed);
        emit DealCompleted(dealId, hostPayment);

        _payHost(dealId, d, hostPayment);
    }

    /// @inheritdoc IStorageMarket
    /// @dev Pays each run of consecutive deals of one host in one transfer (and one to the treasury); a host
    /// claiming all its deals sends them in one call.
    function claimEarnings(uint256[] calldata dealIds) external nonReentrant {
        uint256 total;
        address runHost;
        uint256 runAmount;
        uint256 runFee;
        for (uint256 i = 0; i < dealIds.length; i++) {
            uint256 dealId = dealIds[i];
            DealRecord storage d = _deals[dealId];
            _requireStatus(dealId, d, DealStatus.Active);
            uint256 earned = _earnedAt(d, d.provenUntil);
            uint256 amount = earned - d.claimed;
            if (amount == 0) continue;
            d.claimed = uint96(earned);
            _countPaid(d, amount);
            uint256 fee = amount * d.protocolFeeBps / BPS;
            emit HostPaid(dealId, d.host, amount - fee, fee);
            if (d.host != runHost) {
                _transferRun(runHost, runAmount, runFee);
                (runHost, runAmount, runFee) = (d.host, 0, 0);
            }
            runAmount += amount - fee;
            runFee += fee;
            total += amount;
        }
        if (total == 0) revert StorageMarketNothingToClaim();
        _transferRun(runHost, runAmount, runFee);
    }

    // ================================================================== governance

    /// @inheritdoc IStorageMarket
    /// @dev Owner only (the timelock). Running deals keep the parameters they were accepted with.
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

    /// @notice The registry of operator keys this market accepts.
    function operators() external view returns (IOperatorRegistry) {
        return _operators;
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
            pricePerGiBMonth: h.pricePerGiBMonth,
            stake: h.stake,
            lockedCollateral: h.lockedCollateral,
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
    /// @dev price per GiB per month × size / GiB × duration / month, rounded up. Step 6: the payable.
    function quote(address host, uint256 shardSizeBytes, uint256 durationSeconds) external view returns (uint256) {
        return _quote(_hosts[host].pricePerGiBMonth, shardSizeBytes, durationSeconds);
    }

    /// @inheritdoc IStorageMarket
    /// @dev What a deal of `price` would lock from its host's stake if accepted now.
    function collateralFor(uint256 price) external view returns (uint256) {
        return price * _parameters.collateralBps / BPS;
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
            leafCount: Math.ceilDiv(d.shardSizeBytes, LEAF_SIZE_BYTES),
            price: d.price,
            earned: d.endsAt == 0 ? 0 : _earnedAt(d, d.provenUntil),
            claimed: d.claimed,
            acceptBy: d.acceptBy,
            startedAt: d.startedAt,
            endsAt: d.endsAt,
            provenUntil: d.provenUntil,
            protocolFeeBps: d.protocolFeeBps,
            auditWindowSeconds: d.auditWindowSeconds,
            collateral: d.collateral,
            challengeBond: d.challengeBond,
            receiptHash: d.receiptHash
        });
    }

    /// @inheritdoc IStorageMarket
    function auditInfo(uint256 dealId) external view returns (AuditInfo memory) {
        AuditRecord storage a = _audits[dealId];
        return AuditInfo({challenger: a.challenger, seedBlock: a.seedBlock, deadline: a.deadline, seed: a.seed});
    }

    /// @inheritdoc IStorageMarket
    /// @dev What the host's software calls to know which chunk to send: from the fixed seed, or from the seed
    /// block's hash while it is readable.
    function auditLeafIndex(uint256 dealId) external view returns (uint256) {
        AuditRecord storage a = _openAudit(dealId);
        bytes32 seed = a.seed;
        if (seed == 0) seed = _readSeed(dealId, a.seedBlock);
        return _leafIndex(dealId, seed, _deals[dealId].shardSizeBytes);
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
    /// @dev True iff `signature` is a σ over the deal's terms on this chain and contract (65 bytes, low s) by the
    /// deal's host or an operator the host authorizes for hosting now. Who signed an accepted σ is in
    /// {DealAccepted}.
    function isValidReceipt(uint256 dealId, bytes calldata signature) external view returns (bool) {
        DealRecord storage d = _deals[dealId];
        if (d.status == DealStatus.None || signature.length != 65) return false;
        (address signer, ECDSA.RecoverError err,) =
            ECDSA.tryRecoverCalldata(_hashTypedDataV4(d.receiptHash), signature);
        return err == ECDSA.RecoverError.NoError && _actsFor(d.host, signer, _ROLE_HOST);
    }

    /// @inheritdoc IStorageMarket
    function nextDealId() external view returns (uint256) {
        return _nextDealId;
    }

    // ================================================================== internals

    function _propose(uint256 dealId, DealTerms calldata terms) private returns (uint256 price) {
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
        if (terms.acceptBy < block.timestamp) revert StorageMarketAcceptByPassed(terms.acceptBy, block.timestamp);
        if (terms.acceptBy > block.timestamp + MAX_ACCEPT_DELAY_SECONDS) {
            revert StorageMarketAcceptByTooLate(terms.acceptBy, block.timestamp + MAX_ACCEPT_DELAY_SECONDS);
        }
        price = terms.price;
        uint256 required = _quote(h.pricePerGiBMonth, terms.shardSizeBytes, terms.durationSeconds);
        if (price < required) revert StorageMarketPriceTooLow(price, required);

        DealRecord storage d = _deals[dealId];
        d.host = terms.host;
        d.price = price.toUint96();
        d.status = DealStatus.Proposed;
        d.acceptBy = uint40(terms.acceptBy);
        d.durationSeconds = uint32(terms.durationSeconds);
        d.shardRoot = terms.shardRoot;
        d.client = msg.sender;
        d.receiptHash = _receiptStructHash(dealId, msg.sender, terms);
        d.shardSizeBytes = terms.shardSizeBytes;
        emit DealProposed(dealId, msg.sender, terms.manifestCid, terms.host, terms);
    }

    function _accept(uint256 dealId, bytes calldata signature, Parameters memory p) private {
        DealRecord storage d = _deals[dealId];
        _requireStatus(dealId, d, DealStatus.Proposed);
        if (block.timestamp > d.acceptBy) revert StorageMarketReceiptExpired(dealId, d.acceptBy);
        if (signature.length != 65) revert StorageMarketInvalidSignatureLength(signature.length);
        address host = d.host;
        address signer = ECDSA.recoverCalldata(_hashTypedDataV4(d.receiptHash), signature);
        if (!_actsFor(host, signer, _ROLE_HOST)) revert StorageMarketInvalidReceiptSignature(dealId, signer);
        HostRecord storage h = _hosts[host];
        if (h.stake < p.minStake) revert StorageMarketInsufficientStake(host, h.stake, p.minStake);
        uint256 collateral = uint256(d.price) * p.collateralBps / BPS;
        uint96 collateral96 = collateral.toUint96();
        uint256 free = h.stake - h.lockedCollateral;
        if (collateral > free) revert StorageMarketInsufficientFreeStake(host, free, collateral);
        uint256 available = h.capacityBytes > h.usedBytes ? h.capacityBytes - h.usedBytes : 0;
        if (d.shardSizeBytes > available) revert StorageMarketCapacityExceeded(host, d.shardSizeBytes, available);

        h.lockedCollateral += uint128(collateral);
        h.usedBytes += d.shardSizeBytes;
        h.activeDeals += 1;
        uint256 endsAt = block.timestamp + d.durationSeconds;
        d.startedAt = uint40(block.timestamp);
        d.protocolFeeBps = p.protocolFeeBps;
        d.auditWindowSeconds = p.auditWindowSeconds;
        d.provenUntil = uint40(block.timestamp);
        d.endsAt = uint40(endsAt);
        d.status = DealStatus.Active;
        d.collateral = collateral96;
        d.challengeBond = p.challengeBond;
        emit DealAccepted(dealId, host, signer, signature, block.timestamp, endsAt, collateral);
    }

    /// @dev Ends one deal early (see {endDeals}); pays the host and the bond, returns the client's refund.
    function _end(uint256 dealId) private returns (address client, uint256 refund) {
        DealRecord storage d = _deals[dealId];
        _requireStatus(dealId, d, DealStatus.Active);
        client = d.client;
        if (!_actsFor(client, msg.sender, _ROLE_CLIENT)) revert StorageMarketNotDealClient(dealId, msg.sender);
        if (block.timestamp >= d.endsAt) revert StorageMarketDealExpired(dealId, d.endsAt);
        AuditRecord memory a = _audits[dealId];
        // An audit the host can still answer changes nothing: the host is paid up to now. One whose window the host
        // let pass limits its pay to what it proved. Either way the audit ends with the deal and its bond goes back
        // to its challenger.
        bool missed = a.deadline != 0 && block.timestamp > a.deadline;
        uint256 bond = a.challenger != address(0) ? d.challengeBond : 0;
        uint256 hostPayment;
        (hostPayment, refund) = _settle(dealId, d, missed ? d.provenUntil : block.timestamp, DealStatus.Ended);
        emit DealEnded(dealId, hostPayment, refund, bond);

        if (bond != 0) _token.safeTransfer(a.challenger, bond);
        _payHost(dealId, d, hostPayment);
    }

    function _registeredHost(address host) private view returns (HostRecord storage h) {
        h = _hosts[host];
        if (!h.registered) revert StorageMarketHostNotRegistered(host);
    }

    function _requireStatus(uint256 dealId, DealRecord storage d, DealStatus expected) private view {
        if (d.status != expected) revert StorageMarketUnexpectedDealStatus(dealId, d.status);
    }

    function _requireActsFor(address owner, uint8 role) private view {
        if (!_actsFor(owner, msg.sender, role)) revert StorageMarketNotOperator(owner, msg.sender, role);
    }

    /// @dev The owner itself needs no call to the registry.
    function _actsFor(address owner, address account, uint8 role) private view returns (bool) {
        return account == owner || _operators.actsFor(owner, account, role);
    }

    function _openAudit(uint256 dealId) private view returns (AuditRecord storage a) {
        a = _audits[dealId];
        if (a.challenger == address(0)) revert StorageMarketNoOpenAudit(dealId);
    }

    /// @dev Keeps the seed block's hash and starts the answer window with the deal's own window length.
    function _fixSeed(uint256 dealId, AuditRecord storage a, DealRecord storage d) private {
        bytes32 seed = _readSeed(dealId, a.seedBlock);
        uint256 deadline = block.timestamp + d.auditWindowSeconds;
        a.seed = seed;
        a.deadline = uint40(deadline);
        emit AuditSeedFixed(dealId, seed, deadline);
    }

    function _readSeed(uint256 dealId, uint256 seedBlock) private view returns (bytes32 seed) {
        if (block.number <= seedBlock) revert StorageMarketAuditSeedNotReady(dealId, seedBlock);
        seed = _blockHash(seedBlock);
        if (seed == 0) revert StorageMarketAuditSeedExpired(dealId, seedBlock);
    }

    function _quote(uint256 pricePerGiBMonth, uint256 sizeBytes, uint256 durationSeconds)
        private
        pure
        returns (uint256)
    {
        return Math.mulDiv(pricePerGiBMonth, sizeBytes * durationSeconds, GIB_BYTES * MONTH_SECONDS, Math.Rounding.Ceil);
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
                terms.price,
                terms.acceptBy
            )
        );
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

    function _leafIndex(uint256 dealId, bytes32 seed, uint256 shardSizeBytes) private pure returns (uint256) {
        return uint256(keccak256(abi.encode(seed, dealId))) % Math.ceilDiv(shardSizeBytes, LEAF_SIZE_BYTES);
    }

    /// @dev The share of the price earned for storing until `t` (at most the deal's end), rounded down.
    function _earnedAt(DealRecord storage d, uint256 t) private view returns (uint256) {
        uint256 start = d.startedAt;
        uint256 duration = d.endsAt - start;
        return uint256(d.price) * (Math.min(t, start + duration) - start) / duration;
    }

    /// @dev Closes a deal paid until `paidUntil`: fixes the host's final earnings and frees the capacity and
    /// collateral the deal held (a slash has taken the collateral from the stake before).
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
        h.lockedCollateral -= d.collateral;
        delete _audits[dealId];
    }

    /// @dev Counts tokens paid to a host by a client other than itself.
    function _countPaid(DealRecord storage d, uint256 amount) private {
        if (d.client != d.host) _reputation[d.host].paidVolume += uint128(amount);
    }

    /// @dev Sends `amount` of a deal's escrow to its host, minus the deal's protocol fee for the treasury.
    function _payHost(uint256 dealId, DealRecord storage d, uint256 amount) private {
        if (amount == 0) return;
        _countPaid(d, amount);
        uint256 fee = amount * d.protocolFeeBps / BPS;
        emit HostPaid(dealId, d.host, amount - fee, fee);
        _transferRun(d.host, amount - fee, fee);
    }

    function _transferRun(address host, uint256 amount, uint256 fee) private {
        if (amount != 0) _token.safeTransfer(host, amount);
        if (fee != 0) _token.safeTransfer(_treasury, fee);
    }

    /// @dev Pulls `amount` from `from`, first applying `from`'s permit if one is given. The permit sets the allowance
    /// to `permit.value`, so what the pull leaves of it stays allowance (a client's budget for challenge bonds). A
    /// failing permit is ignored: anyone who saw the signature may have submitted it first, and the allowance it set
    /// is then already in place; if not, the transfer fails with the token's own allowance error.
    function _pull(address from, uint256 amount, PermitSignature calldata permit) private {
        if (permit.deadline != 0) {
            if (permit.value < amount) revert StorageMarketPermitTooSmall(permit.value, amount);
            try IERC20Permit(address(_token)).permit(
                from, address(this), permit.value, permit.deadline, permit.v, permit.r, permit.s
            ) {} catch {}
        }
        _token.safeTransferFrom(from, address(this), amount);
    }

    function _setParameters(Parameters memory p) private {
        if (p.minStake == 0) revert StorageMarketInvalidMinStake(p.minStake);
        if (p.collateralBps == 0 || p.collateralBps > MAX_COLLATERAL_BPS) {
            revert StorageMarketInvalidCollateral(p.collateralBps, MAX_COLLATERAL_BPS);
        }
        if (p.challengeBond == 0) revert StorageMarketInvalidChallengeBond(p.challengeBond);
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
