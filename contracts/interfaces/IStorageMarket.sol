// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Tabula storage market
/// @notice Hosts stake and advertise storage; clients escrow payment for one shard per deal, all shards of a file in
/// one call; the host's EIP-712 signature over the deal terms is the storage receipt σ; anyone may audit an active
/// deal for a bond; a missed audit gives the deal's collateral to the client. See contracts/README.md for the shard
/// Merkle tree convention and the rules.
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
    /// @param host the host (owner address) that will store the shard.
    /// @param manifestCid the file's manifest CID (binary CID bytes): the link pointer L.
    /// @param shardIndex which shard of the file this deal stores.
    /// @param shardSizeBytes the shard's exact length in bytes (it fixes the number of Merkle leaves).
    /// @param shardRoot the shard's Merkle root (see {LEAF_SIZE_BYTES} and contracts/README.md).
    /// @param durationSeconds how long the host stores the shard, counted from acceptance.
    /// @param price the whole payment, escrowed at proposal, released as the host proves storage.
    /// @param acceptBy the last second at which σ may activate the deal; after it the proposal can only be cancelled.
    struct DealTerms {
        address host;
        bytes manifestCid;
        uint32 shardIndex;
        uint64 shardSizeBytes;
        bytes32 shardRoot;
        uint64 durationSeconds;
        uint256 price;
        uint64 acceptBy;
    }

    /// @notice Market parameters, owned by governance (the timelock). A deal keeps those it was accepted with.
    /// @param minStake the stake a host needs to register and to accept a deal (token units).
    /// @param collateralBps the collateral a deal locks from its host's stake, as a share of the deal's price (basis
    /// points; 10,000 = as much as the price). A missed audit gives it to the client.
    /// @param protocolFeeBps the share of every host payment that goes to the treasury, in basis points.
    /// @param auditWindowSeconds how long a host has to answer a challenge, from the moment its seed is fixed.
    /// @param unbondingDelaySeconds how long unbonding stake waits before it can be withdrawn.
    /// @param challengeBond what a challenger puts up per challenge; it pays the host's answer (or comes back to the
    /// challenger if the host misses the audit).
    struct Parameters {
        uint256 minStake;
        uint16 collateralBps;
        uint16 protocolFeeBps;
        uint32 auditWindowSeconds;
        uint32 unbondingDelaySeconds;
        uint96 challengeBond;
    }

    /// @notice An optional EIP-2612 permit for the market; `deadline == 0` means "no permit, use the allowance".
    /// @param value the allowance the permit grants the market: at least what the call pulls. What is left after the
    /// pull stays the market's allowance: for a client, its budget for challenge bonds ({challenge}), so the one
    /// signature that escrows a file also sets how much its audits may spend.
    /// @param deadline the permit's deadline (Unix seconds), or 0 for no permit.
    struct PermitSignature {
        uint256 value;
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @notice A host as the registry shows it. `stake - lockedCollateral` is what new deals and unbonding may use.
    struct HostInfo {
        bool registered;
        bool openRegistration;
        bytes peerId;
        uint64 capacityBytes;
        uint64 usedBytes;
        uint256 pricePerGiBMonth;
        uint256 stake;
        uint256 lockedCollateral;
        uint256 unbonding;
        uint256 unbondingReadyAt;
        uint256 activeDeals;
    }

    /// @notice Per-host counters a client reads to choose hosts. They count only what cost someone other than the
    /// host something: `auditsPassed` counts answers to challenges whose bond the host did not put up;
    /// `dealsCompleted` and `paidVolume` (tokens the host was paid, fee included) count deals whose client is not the
    /// host. A host can still pay itself from a second address: that costs it the protocol fee on every token of
    /// `paidVolume`, and a self-audit from a second address costs gas only, so `auditsPassed` alone proves little.
    struct Reputation {
        uint48 auditsPassed;
        uint48 auditsFailed;
        uint48 dealsCompleted;
        uint48 timesSlashed;
        uint40 registeredAt;
        uint128 paidVolume;
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
        uint256 acceptBy;
        uint256 startedAt;
        uint256 endsAt;
        uint256 provenUntil;
        uint256 protocolFeeBps;
        uint256 auditWindowSeconds;
        uint256 collateral;
        uint256 challengeBond;
        bytes32 receiptHash;
    }

    /// @notice The open challenge of a deal; `challenger == address(0)` means none. `deadline == 0` means its seed
    /// is not fixed yet: the answer window starts when it is.
    struct AuditInfo {
        address challenger;
        uint256 seedBlock;
        uint256 deadline;
        bytes32 seed;
    }

    // ------------------------------------------------------------------ events

    event HostRegistered(
        address indexed host, bytes peerId, uint64 capacityBytes, uint256 pricePerGiBMonth, uint256 stake
    );
    event HostUpdated(address indexed host, bytes peerId, uint64 capacityBytes, uint256 pricePerGiBMonth);
    event StakeAdded(address indexed host, uint256 amount, uint256 stake);
    event UnbondingStarted(address indexed host, uint256 amount, uint256 unbonding, uint256 readyAt);
    event StakeWithdrawn(address indexed host, uint256 amount);
    event OpenRegistrationSet(address indexed host, bool open);
    event ClientAuthorizationSet(address indexed host, address indexed client, bool authorized);

    /// @notice Carries every term, so the host can check the escrow against what it was asked to store; the
    /// manifest CID is also a topic (keccak256 of its bytes), so a tab holding only L finds a file's deals.
    event DealProposed(
        uint256 indexed dealId, address indexed client, bytes indexed manifestCid, address host, DealTerms terms
    );
    /// @notice Carries σ and who signed it (the host or its operator), so anyone can keep and check the receipt.
    event DealAccepted(
        uint256 indexed dealId,
        address indexed host,
        address signer,
        bytes signature,
        uint256 startedAt,
        uint256 endsAt,
        uint256 collateral
    );
    event DealCancelled(uint256 indexed dealId, uint256 refund);
    /// @notice A challenge waits for its seed block: `challenger` (who put up `bond`) fixes the seed next.
    event AuditChallenged(uint256 indexed dealId, address indexed challenger, uint256 seedBlock, uint256 bond);
    /// @notice The seed is fixed: the host answers by `deadline`.
    event AuditSeedFixed(uint256 indexed dealId, bytes32 seed, uint256 deadline);
    /// @notice Nobody fixed the seed while its block hash was readable: the challenge ended and its bond went to
    /// the host.
    event ChallengeLapsed(uint256 indexed dealId, uint256 bondToHost);
    event AuditAnswered(uint256 indexed dealId, uint256 leafIndex, uint256 earned, uint256 bondToHost);
    /// @notice The penalty transaction: the host missed the audit window.
    event AuditMissed(
        uint256 indexed dealId,
        address indexed challenger,
        uint256 collateral,
        uint256 refund,
        uint256 hostPayment,
        uint256 bondReturned
    );
    /// @notice The client ended the deal early; an audit that was open ended with it and its bond went back to its
    /// challenger (`bondReturned`).
    event DealEnded(uint256 indexed dealId, uint256 hostPayment, uint256 refund, uint256 bondReturned);
    event DealCompleted(uint256 indexed dealId, uint256 hostPayment);
    /// @notice The host received `amount` from the deal's escrow and the treasury `fee`.
    event HostPaid(uint256 indexed dealId, address indexed host, uint256 amount, uint256 fee);
    event ParametersSet(Parameters parameters);
    event TreasurySet(address treasury);

    // ------------------------------------------------------------------ errors

    error StorageMarketZeroAddress();
    error StorageMarketZeroAmount();
    error StorageMarketEmptyPeerId();
    error StorageMarketEmptyBatch();
    error StorageMarketLengthMismatch(uint256 dealIds, uint256 signatures);
    error StorageMarketHostAlreadyRegistered(address host);
    error StorageMarketHostNotRegistered(address host);
    error StorageMarketInsufficientStake(address host, uint256 stake, uint256 minStake);
    error StorageMarketInsufficientFreeStake(address host, uint256 freeStake, uint256 required);
    error StorageMarketNothingUnbonding(address host);
    error StorageMarketUnbondingNotReady(address host, uint256 readyAt);
    error StorageMarketClientNotAuthorized(address host, address client);
    error StorageMarketNotOperator(address owner, address account, uint8 role);
    error StorageMarketInvalidShardSize(uint256 shardSizeBytes);
    error StorageMarketInvalidDuration(uint256 durationSeconds);
    error StorageMarketAcceptByPassed(uint256 acceptBy, uint256 nowSeconds);
    /// @notice A proposal's `acceptBy` is more than {MAX_ACCEPT_DELAY_SECONDS} ahead: propose with `latest` or sooner.
    error StorageMarketAcceptByTooLate(uint256 acceptBy, uint256 latest);
    error StorageMarketReceiptExpired(uint256 dealId, uint256 acceptBy);
    error StorageMarketPriceTooLow(uint256 offered, uint256 required);
    error StorageMarketUnexpectedDealStatus(uint256 dealId, DealStatus status);
    error StorageMarketNotDealClient(uint256 dealId, address account);
    error StorageMarketInvalidSignatureLength(uint256 length);
    error StorageMarketInvalidReceiptSignature(uint256 dealId, address signer);
    error StorageMarketCapacityExceeded(address host, uint256 requested, uint256 available);
    error StorageMarketAuditOpen(uint256 dealId);
    error StorageMarketNoOpenAudit(uint256 dealId);
    error StorageMarketDealExpired(uint256 dealId, uint256 endsAt);
    error StorageMarketDealNotFinished(uint256 dealId, uint256 endsAt);
    error StorageMarketAuditSeedNotReady(uint256 dealId, uint256 seedBlock);
    error StorageMarketAuditSeedExpired(uint256 dealId, uint256 seedBlock);
    error StorageMarketAuditSeedStillReadable(uint256 dealId, uint256 seedBlock);
    error StorageMarketAuditSeedAlreadyFixed(uint256 dealId);
    error StorageMarketAuditSeedNotFixed(uint256 dealId);
    error StorageMarketAuditWindowClosed(uint256 dealId, uint256 deadline);
    error StorageMarketAuditWindowOpen(uint256 dealId, uint256 deadline);
    error StorageMarketInvalidLeafSize(uint256 length);
    error StorageMarketInvalidProof(uint256 dealId, uint256 leafIndex);
    error StorageMarketNothingToClaim();
    error StorageMarketInvalidMinStake(uint256 minStake);
    error StorageMarketInvalidCollateral(uint256 collateralBps, uint256 max);
    error StorageMarketInvalidChallengeBond(uint256 challengeBond);
    error StorageMarketInvalidProtocolFee(uint256 protocolFeeBps, uint256 max);
    error StorageMarketInvalidAuditWindow(uint256 auditWindowSeconds, uint256 min, uint256 max);
    error StorageMarketInvalidUnbondingDelay(uint256 unbondingDelaySeconds, uint256 max);
    /// @notice The permit grants the market `value`, less than the `amount` the call pulls: sign at least `amount`.
    error StorageMarketPermitTooSmall(uint256 value, uint256 amount);

    // ------------------------------------------------------------------ hosts and staking

    /// @notice Registers the caller as a host and pulls `stake` (at least the minimum) from it.
    function registerHost(
        bytes calldata peerId,
        uint64 capacityBytes,
        uint256 pricePerGiBMonth,
        bool openRegistration,
        uint256 stake,
        PermitSignature calldata permit
    ) external;

    /// @notice Changes the caller's advertised peer id, capacity and price (existing deals keep their terms).
    function updateHost(bytes calldata peerId, uint64 capacityBytes, uint256 pricePerGiBMonth) external;

    /// @notice Adds `amount` to the caller's stake.
    function addStake(uint256 amount, PermitSignature calldata permit) external;

    /// @notice Moves `amount` of stake no deal has locked to unbonding.
    function beginUnbonding(uint256 amount) external;

    /// @notice Withdraws unbonded stake once the delay has passed.
    function withdrawStake() external;

    /// @notice Whether any client may propose deals to the caller without authorization.
    function setOpenRegistration(bool open) external;

    /// @notice Authorizes (or de-authorizes) `client` to propose deals to the caller.
    function setClientAuthorization(address client, bool authorized) external;

    // ------------------------------------------------------------------ deals

    /// @notice Proposes one deal per entry of `terms` (all shards of a file) with the caller as client and escrows
    /// the sum of their prices in one transfer. The deals get consecutive ids from the returned one. A permit may
    /// grant more than the sum ({PermitSignature}): the rest stays allowance, which {challenge} draws bonds from.
    function proposeDeals(DealTerms[] calldata terms, PermitSignature calldata permit)
        external
        returns (uint256 firstDealId);

    /// @notice Cancels proposals nobody accepted yet (each the caller's) and refunds their escrow to the caller.
    function cancelProposals(uint256[] calldata dealIds) external;

    /// @notice Activates proposed deals, each with its host's σ (signed by the host or its ROLE_HOST operator) over
    /// exactly the proposed terms, before the terms' `acceptBy`. Anyone may submit them.
    function acceptDeals(uint256[] calldata dealIds, bytes[] calldata signatures) external;

    /// @notice Opens an audit of each deal; `bondPayer` (the caller, or the owner whose ROLE_CLIENT operator the
    /// caller is) puts up each deal's challenge bond from its allowance to the market. The leaf is drawn from a block
    /// hash nobody knows yet.
    function challenge(uint256[] calldata dealIds, address bondPayer) external;

    /// @notice Fixes each audit's seed while its block hash is readable and starts the host's answer window.
    function fixAuditSeeds(uint256[] calldata dealIds) external;

    /// @notice Ends a challenge whose seed nobody fixed while it was readable; its bond goes to the host.
    function lapseChallenge(uint256 dealId) external;

    /// @notice The host (or its ROLE_HOST operator) answers an audit with the drawn leaf's chunk and its Merkle
    /// proof; payment accrues and the challenge bond goes to the host.
    function answerAudit(uint256 dealId, bytes calldata leaf, bytes32[] calldata proof) external;

    /// @notice The penalty transaction after a missed audit: the deal's collateral goes to the client, the deal ends.
    function finalizeMissedAudit(uint256 dealId) external;

    /// @notice The client (or its ROLE_CLIENT operator) ends active deals early (all deals of a file in one call):
    /// each host keeps the pro-rata part (only what it proved if it missed an open audit), the rest goes back to
    /// the client.
    function endDeals(uint256[] calldata dealIds) external;

    /// @notice Settles a deal whose duration has passed: the host gets the rest of the price.
    function completeDeal(uint256 dealId) external;

    /// @notice Pays each deal's host what proven audits have earned so far (anyone may call; tokens go to hosts).
    function claimEarnings(uint256[] calldata dealIds) external;

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

    function collateralFor(uint256 price) external view returns (uint256);

    function dealInfo(uint256 dealId) external view returns (DealInfo memory);

    function auditInfo(uint256 dealId) external view returns (AuditInfo memory);

    function auditLeafIndex(uint256 dealId) external view returns (uint256);

    function receiptDigest(uint256 dealId) external view returns (bytes32);

    function hashReceipt(uint256 dealId, address client, DealTerms calldata terms) external view returns (bytes32);

    function isValidReceipt(uint256 dealId, bytes calldata signature) external view returns (bool);

    function nextDealId() external view returns (uint256);
}
