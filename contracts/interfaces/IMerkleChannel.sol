// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PaymentFunding} from "../libraries/PaymentFunding.sol";

/// @title Merkle-tree micropayment channels (μP2P scheme 2)
/// @notice A payer funds a channel under the root of a Merkle tree whose leaves are payment tokens, each bound to
/// its payee, and splits the funds into per-payee allocations fixed at funding. Paying off-chain means handing a
/// payee its token (the leaf's values); the payee redeems any number of tokens in one transaction with a
/// multi-proof. A token is spent once per (payee, index), and a payee's claims are deducted from its own
/// allocation only, so no leaf paying anyone else (the payer included) can take what backs a payee's tokens; a
/// payee checks its allocation on-chain before it serves (lib/payments/merkle.ts does). After expiry the payer
/// takes back what is left.
///
/// Leaf (OpenZeppelin standard tree, double-hashed): `keccak256(keccak256(abi.encode(channelId, index, payee,
/// value)))` with types `(bytes32, uint256, address, uint256)`; the channel id commits to the chain id, this
/// contract, the payer and a salt.
///
/// A payee's ROLE_PAYEE operator may redeem its tokens and the payer's ROLE_PAYER operator may reclaim (see
/// {IOperatorRegistry}); leaves, spent tokens and allocations stay the payee's, and the tokens go to the payee and
/// the payer.
interface IMerkleChannel {
    /// @notice A channel as stored (zero payer: no such channel).
    struct Channel {
        address payer;
        uint64 expiresAt;
        uint128 remaining;
        bytes32 root;
    }

    /// @notice One token being redeemed: its leaf index in the payer's numbering and its value.
    struct Token {
        uint256 index;
        uint256 value;
    }

    /// @notice Part of the funds that only `payee`'s tokens can draw on.
    struct Allocation {
        address payee;
        uint128 amount;
    }

    /// @notice A payer funded a channel with `amount` under `root`.
    event ChannelOpened(bytes32 indexed channelId, address indexed payer, bytes32 root, uint256 amount, uint256 expiresAt);
    /// @notice `amount` of the channel's funds is reserved for `payee`'s tokens.
    event PayeeAllocated(bytes32 indexed channelId, address indexed payee, uint256 amount);
    /// @notice `payee` redeemed `tokens` tokens worth `paid`.
    event TokensRedeemed(bytes32 indexed channelId, address indexed payee, uint256 tokens, uint256 paid);
    /// @notice The payer took back what was left after expiry.
    event ChannelReclaimed(bytes32 indexed channelId, address indexed payer, uint256 amount);

    /// @notice The constructor was given no operator registry.
    error MerkleChannelZeroAddress();
    /// @notice A channel with this id exists already.
    error MerkleChannelExists(bytes32 channelId);
    /// @notice No such channel.
    error MerkleChannelUnknown(bytes32 channelId);
    /// @notice No allocation, zero root, or an expiry not in the future.
    error MerkleChannelInvalidTerms();
    /// @notice An allocation names the zero address or a payee allocated before, or is zero.
    error MerkleChannelInvalidAllocation(address payee, uint256 amount);
    /// @notice The redemption names no token.
    error MerkleChannelEmptyRedemption(bytes32 channelId);
    /// @notice The payee's token at `index` was redeemed before (or twice in this batch).
    error MerkleChannelTokenSpent(bytes32 channelId, uint256 index);
    /// @notice The multi-proof does not prove these tokens for the payee under the channel's root.
    error MerkleChannelInvalidProof(bytes32 channelId);
    /// @notice The claim exceeds what is left of the payee's allocation.
    error MerkleChannelAllocationExceeded(bytes32 channelId, address payee, uint256 claimed, uint256 allocation);
    /// @notice The channel expired.
    error MerkleChannelExpired(bytes32 channelId, uint256 expiresAt);
    /// @notice The channel has not expired yet.
    error MerkleChannelNotExpired(bytes32 channelId, uint256 expiresAt);
    /// @notice Only the channel's payer or its ROLE_PAYER operator may reclaim.
    error MerkleChannelNotPayer(bytes32 channelId, address caller);
    /// @notice Only `payee` or its ROLE_PAYEE operator may redeem `payee`'s tokens.
    error MerkleChannelNotPayee(bytes32 channelId, address payee, address caller);

    /// @notice Funds a channel under `root` with the sum of `allocations`, pulled from the caller; each payee's
    /// tokens draw on its own allocation only.
    function open(bytes32 salt, bytes32 root, Allocation[] calldata allocations, uint64 expiresAt)
        external
        returns (bytes32 channelId);

    /// @notice {open} after applying an EIP-2612 permit, so no separate approval transaction is needed.
    function openWithPermit(
        bytes32 salt,
        bytes32 root,
        Allocation[] calldata allocations,
        uint64 expiresAt,
        PaymentFunding.Permit calldata permit
    ) external returns (bytes32 channelId);

    /// @notice Redeems `payee`'s `tokens` (in the multi-proof's leaf order) before expiry from its allocation and
    /// pays `payee`; sent by `payee` or its ROLE_PAYEE operator.
    function redeem(
        bytes32 channelId,
        address payee,
        Token[] calldata tokens,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external;

    /// @notice Returns what is left to the payer after expiry; sent by the payer or its ROLE_PAYER operator.
    function reclaim(bytes32 channelId) external;

    /// @notice Whether `payee`'s token at `index` was redeemed.
    function isSpent(bytes32 channelId, address payee, uint256 index) external view returns (bool);

    /// @notice What is left of `payee`'s allocation (what its unredeemed tokens can still draw on).
    function allocationOf(bytes32 channelId, address payee) external view returns (uint256);

    /// @notice The id `open` gives a channel from `payer` with `salt` on this chain and contract.
    function channelIdOf(address payer, bytes32 salt) external view returns (bytes32);

    /// @notice The channel as stored.
    function getChannel(bytes32 channelId) external view returns (Channel memory);
}
