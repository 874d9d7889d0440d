// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Tabula storage market
/// @notice Hosts stake and advertise storage; clients escrow payment for one shard per deal; the host's EIP-712
/// signature over the deal terms is the storage receipt σ; anyone may audit an active deal; a missed audit slashes
/// the host in favour of the client. See contracts/README.md for the shard Merkle tree convention.
interface IStorageMarket {
    /// @dev Life of a deal. `None` means no such deal.
    enum DealStatus {
        None,
        Proposed,
        Active,
        Completed,
        Ended,
        Slashed,
        Cancelled
    }

    /// @notice What a client proposes for one shard; with the deal id and the client it is what σ signs.
    /// @param host the host that will store the shard.
    /// @param manifestCid the file's manifest CID (binary CID bytes): the link pointer L.
    /// @param shardIndex which shard of the file this deal stores.
    /// @param shardSizeBytes the shard's exact length in bytes (it fixes the number of Merkle leaves).
    /// @param shardRoot the shard's Merkle root (see {LEAF_SIZE_BYTES} and contracts/README.md).
    /// @param durationSeconds how long the host stores the shard, counted from acceptance.
    /// @param price the whole payment, escrowed at proposal, released as the host proves storage.
    struct DealTerms {
        address host;
        bytes manifestCid;
        uint32 shardIndex;
        uint64 shardSizeBytes;
        bytes32 shardRoot;
        uint64 durationSeconds;
        uint256 price;
    }

    /// @notice Market parameters, owned by governance (the timelock).
    /// @param minStake the stake a host needs to register and to accept a deal (token units).
    /// @param slashShareBps the share of the host's stake a missed audit moves to the client, in basis points.
    /// @param protocolFeeBps the share of every host payment that goes to the treasury, in basis points.
    /// @param auditWindowSeconds how long a host has to answer a challenge.
    /// @param unbondingDelaySeconds how long unbonding stake waits before it can be withdrawn.
    struct Parameters {
        uint256 minStake;
        uint16 slashShareBps;
        uint16 protocolFeeBps;
        uint32 auditWindowSeconds;
        uint32 unbondingDelaySeconds;
    }

    /// @notice An optional EIP-2612 permit for the amount a call pulls; `deadline == 0` means "use the allowance".
    struct PermitSignature {
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @notice A host as the registry shows it.
    struct HostInfo {
        bool registered;
        bool openRegistration;
        bytes peerId;
        uint64 capacityBytes;
        uint64 usedBytes;
        uint256 pricePerGiBEpoch;
        uint256 stake;
        uint256 unbonding;
        uint256 unbondingReadyAt;
        uint256 activeDeals;
    }

    /// @notice Per-host counters, readable by anyone choosing a host, and when the host registered.
    struct Reputation {
        uint48 auditsPassed;
        uint48 auditsFailed;
        uint48 dealsCompleted;
        uint48 timesSlashed;
        uint40 registeredAt;
    }

    /// @notice A deal as stored (the manifest CID and shard index live in the {DealProposed} event and in σ).
    struct DealInfo {
        DealStatus status;
        address client;
        address host;
        bytes32 shardRoot;
        uint64 shardSizeBytes;
        uint64 durationSeconds;
        uint256 leafCount;
        uint256 price;
        uint256 earned;
        uint256 claimed;
        uint256 startedAt;
        uint256 endsAt;
        uint256 provenUntil;
        uint256 protocolFeeBps;
        bytes32 receiptHash;
    }

    /// @notice The open challenge of a deal; `challenger == address(0)` means none.
    struct AuditInfo {
        address challenger;
        uint256 seedBlock;
        uint256 deadline;
    }

    // ------------------------------------------------------------------ events

    event HostRegistered(
        address indexed host, bytes peerId, uint64 capacityBytes, uint256 pricePerGiBEpoch, uint256 stake
    );
    event HostUpdated(address indexed host, bytes peerId, uint64 capacityBytes, uint256 pricePerGiBEpoch);
    event StakeAdded(address indexed host, uint256 amount, uint256 stake);
    event UnbondingStarted(address indexed host, uint256 amount, uint256 unbonding, uint256 readyAt);
    event StakeWithdrawn(address indexed host, uint256 amount);
    event OpenRegistrationSet(address indexed host, bool open);
    event ClientAuthorizationSet(address indexed host, address indexed client, bool authorized);

    /// @notice Carries every term, so the host can check the escrow against what it was asked to store.
    event DealProposed(uint256 indexed dealId, address indexed client, address indexed host, DealTerms terms);
    /// @notice Carries σ, so the client (or anyone) can keep and check the storage receipt.
    event DealAccepted(
        uint256 indexed dealId, address indexed host, bytes signature, uint256 startedAt, uint256 endsAt
    );
    event DealCancelled(uint256 indexed dealId, uint256 refund);
    event AuditChallenged(uint256 indexed dealId, address indexed challenger, uint256 seedBlock, uint256 deadline);
    event AuditSeedFixed(uint256 indexed dealId, uint256 seedBlock, bytes32 seed);
    event AuditSeedRedrawn(uint256 indexed dealId, uint256 seedBlock);
    event AuditAnswered(uint256 indexed dealId, uint256 leafIndex, uint256 earned);
    /// @notice The penalty transaction: the host missed the audit window.
    event AuditMissed(
        uint256 indexed dealId, address indexed challenger, uint256 slashed, uint256 refund, uint256 hostPayment
    );
    event DealEnded(uint256 indexed dealId, uint256 hostPayment, uint256 refund);
    event DealCompleted(uint256 indexed dealId, uint256 hostPayment);
    /// @notice The host received `amount` from the deal's escrow and the treasury `fee`.
    event HostPaid(uint256 indexed dealId, address indexed host, uint256 amount, uint256 fee);
    event ParametersSet(Parameters parameters);
    event TreasurySet(address treasury);

    // ------------------------------------------------------------------ errors

    error StorageMarketZeroAddress();
    error StorageMarketZeroAmount();
    error StorageMarketEmptyPeerId();
    error StorageMarketHostAlreadyRegistered(address host);
    error StorageMarketHostNotRegistered(address host);
    error StorageMarketInsufficientStake(address host, uint256 stake, uint256 minStake);
    error StorageMarketStakeExceeded(address host, uint256 requested, uint256 stake);
    error StorageMarketHostHasActiveDeals(address host, uint256 activeDeals);
    error StorageMarketNothingUnbonding(address host);
    error StorageMarketUnbondingNotReady(address host, uint256 readyAt);
    error StorageMarketClientNotAuthorized(address host, address client);
    error StorageMarketInvalidShardSize(uint256 shardSizeBytes);
    error StorageMarketInvalidDuration(uint256 durationSeconds);
    error StorageMarketPriceTooLow(uint256 offered, uint256 required);
    error StorageMarketUnexpectedDealStatus(uint256 dealId, DealStatus status);
    error StorageMarketNotDealClient(uint256 dealId, address account);
    error StorageMarketNotDealHost(uint256 dealId, address account);
    error StorageMarketInvalidSignatureLength(uint256 length);
    error StorageMarketInvalidReceiptSignature(uint256 dealId);
    error StorageMarketCapacityExceeded(address host, uint256 requested, uint256 available);
    error StorageMarketAuditOpen(uint256 dealId);
    error StorageMarketNoOpenAudit(uint256 dealId);
    error StorageMarketDealExpired(uint256 dealId, uint256 endsAt);
    error StorageMarketDealNotFinished(uint256 dealId, uint256 endsAt);
    error StorageMarketAuditSeedNotReady(uint256 dealId, uint256 seedBlock);
    error StorageMarketAuditSeedExpired(uint256 dealId, uint256 seedBlock);
    error StorageMarketAuditSeedAlreadyFixed(uint256 dealId);
    error StorageMarketAuditWindowClosed(uint256 dealId, uint256 deadline);
    error StorageMarketAuditWindowOpen(uint256 dealId, uint256 deadline);
    error StorageMarketInvalidLeafSize(uint256 length);
    error StorageMarketInvalidProof(uint256 dealId, uint256 leafIndex);
    error StorageMarketNothingToClaim(uint256 dealId);
    error StorageMarketInvalidMinStake(uint256 minStake);
    error StorageMarketInvalidSlashShare(uint256 slashShareBps);
    error StorageMarketInvalidProtocolFee(uint256 protocolFeeBps, uint256 max);
    error StorageMarketInvalidAuditWindow(uint256 auditWindowSeconds, uint256 min, uint256 max);
    error StorageMarketInvalidUnbondingDelay(uint256 unbondingDelaySeconds, uint256 max);

    // ------------------------------------------------------------------ hosts and staking

    /// @notice Registers the caller as a host and pulls `stake` (at least the minimum) from it.
    function registerHost(
        bytes calldata peerId,
        uint64 capacityBytes,
        uint256 pricePerGiBEpoch,
        bool openRegistration,
        uint256 stake,
        PermitSignature calldata permit
    ) external;

    /// @notice Changes the caller's advertised peer id, capacity and price (existing deals keep their terms).
    function updateHost(bytes calldata peerId, uint64 capacityBytes, uint256 pricePerGiBEpoch) external;

    /// @notice Adds `amount` to the caller's stake.
    function addStake(uint256 amount, PermitSignature calldata permit) external;

    /// @notice Moves `amount` of stake to unbonding; only while the host backs no active deal.
    function beginUnbonding(uint256 amount) external;

    /// @notice Withdraws unbonded stake once the delay has passed and no active deal is backed.
    function withdrawStake() external;

    /// @notice Whether any client may propose deals to the caller without authorization.
    function setOpenRegistration(bool open) external;

    /// @notice Authorizes (or de-authorizes) `client` to propose deals to the caller.
    function setClientAuthorization(address client, bool authorized) external;

    // ------------------------------------------------------------------ deals

    /// @notice Proposes a deal with the caller as client and escrows `terms.price`. Returns the deal id.
    function proposeDeal(DealTerms calldata terms, PermitSignature calldata permit) external returns (uint256);

    /// @notice Cancels a proposal nobody accepted yet and refunds the escrow to the client.
    function cancelProposal(uint256 dealId) external;

    /// @notice Activates a proposed deal with the host's σ over exactly the proposed terms (anyone may submit it).
    function acceptDeal(uint256 dealId, bytes calldata signature) external;

    /// @notice Opens an audit of an active deal; the leaf is drawn later from a block hash nobody knows yet.
    function challenge(uint256 dealId) external;

    /// @notice Stores the audit seed while its block hash is readable, or draws a new seed block once it is not.
    function fixAuditSeed(uint256 dealId) external;

    /// @notice The host answers an audit with the drawn leaf's chunk and its Merkle proof; payment accrues.
    function answerAudit(uint256 dealId, bytes calldata leaf, bytes32[] calldata proof) external;

    /// @notice The penalty transaction after a missed audit: slashes the host for the client and ends the deal.
    function finalizeMissedAudit(uint256 dealId) external;

    /// @notice The client ends an active deal early; the host keeps the pro-rata part, the rest is refunded.
    function endDeal(uint256 dealId) external;

    /// @notice Settles a deal whose duration has passed: the host gets the rest of the price.
    function completeDeal(uint256 dealId) external;

    /// @notice Pays the host what proven audits have earned so far on an active deal.
    function claimEarnings(uint256 dealId) external;

    // ------------------------------------------------------------------ governance

    function setParameters(Parameters calldata newParameters) external;

    function setTreasury(address newTreasury) external;

    // ------------------------------------------------------------------ views

    function parameters() external view returns (Parameters memory);

    function treasury() external view returns (address);

    function hostInfo(address host) external view returns (HostInfo memory);

    function reputation(address host) external view returns (Reputation memory);

    function isClientAuthorized(address host, address client) external view returns (bool);

    function quote(address host, uint256 shardSizeBytes, uint256 durationSeconds) external view returns (uint256);

    function dealInfo(uint256 dealId) external view returns (DealInfo memory);

    function auditInfo(uint256 dealId) external view returns (AuditInfo memory);

    function auditLeafIndex(uint256 dealId) external view returns (uint256);

    function receiptDigest(uint256 dealId) external view returns (bytes32);

    function hashReceipt(uint256 dealId, address client, DealTerms calldata terms) external view returns (bytes32);

    function isValidReceipt(uint256 dealId, bytes calldata signature) external view returns (bool);

    function nextDealId() external view returns (uint256);
}
