// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PaymentFunding} from "../libraries/PaymentFunding.sol";

/// @title Merkle-tree micropayment channels (μP2P scheme 2)
/// @notice A payer funds a channel under the root of a Merkle tree whose leaves are payment tokens, each bound to
/// its payee. Paying off-chain means handing a payee its token (the leaf's values); the payee redeems any number of
/// tokens in one transaction with a multi-proof. Every token is spent once, every claim is deducted from the
/// funds, and after expiry the payer takes back what is left.
///
/// Leaf (OpenZeppelin standard tree, double-hashed): `keccak256(keccak256(abi.encode(channelId, index, payee,
/// value)))` with types `(bytes32, uint256, address, uint256)`; the channel id commits to the chain id, this
/// contract, the payer and a salt.
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

    /// @notice A payer funded a channel with `amount` under `root`.
    event ChannelOpened(bytes32 indexed channelId, address indexed payer, bytes32 root, uint256 amount, uint256 expiresAt);
    /// @notice `payee` redeemed `tokens` tokens worth `paid`.
    event TokensRedeemed(bytes32 indexed channelId, address indexed payee, uint256 tokens, uint256 paid);
    /// @notice The payer took back what was left after expiry.
    event ChannelReclaimed(bytes32 indexed channelId, address indexed payer, uint256 amount);

    /// @notice A channel with this id exists already.
    error MerkleChannelExists(bytes32 channelId);
    /// @notice No such channel.
    error MerkleChannelUnknown(bytes32 channelId);
    /// @notice Zero amount, zero root, or an expiry not in the future.
    error MerkleChannelInvalidTerms();
    /// @notice The redemption names no token.
    error MerkleChannelEmptyRedemption(bytes32 channelId);
    /// @notice The token at `index` was redeemed before (or twice in this batch).
    error MerkleChannelTokenSpent(bytes32 channelId, uint256 index);
    /// @notice The multi-proof does not prove these tokens for the caller under the channel's root.
    error MerkleChannelInvalidProof(bytes32 channelId);
    /// @notice The claim exceeds what is left in the channel.
    error MerkleChannelInsufficientFunds(bytes32 channelId, uint256 claimed, uint256 remaining);
    /// @notice The channel expired.
    error MerkleChannelExpired(bytes32 channelId, uint256 expiresAt);
    /// @notice The channel has not expired yet.
    error MerkleChannelNotExpired(bytes32 channelId, uint256 expiresAt);
    /// @notice Only the channel's payer may reclaim.
    error MerkleChannelNotPayer(bytes32 channelId, address caller);

    /// @notice Funds a channel under `root` with `amount`, pulled from the caller.
    function open(bytes32 salt, bytes32 root, uint128 amount, uint64 expiresAt) external returns (bytes32 channelId);

    /// @notice {open} after applying an EIP-2612 permit, so no separate approval transaction is needed.
    function openWithPermit(
        bytes32 salt,
        bytes32 root,
        uint128 amount,
        uint64 expiresAt,
        PaymentFunding.Permit calldata permit
    ) external returns (bytes32 channelId);

    /// @notice The caller redeems `tokens` (in the multi-proof's leaf order) before expiry.
    function redeem(
        bytes32 channelId,
        Token[] calldata tokens,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external;

    /// @notice The payer takes back what is left after expiry.
    function reclaim(bytes32 channelId) external;

    /// @notice Whether the token at `index` was redeemed.
    function isSpent(bytes32 channelId, uint256 index) external view returns (bool);

    /// @notice The id `open` gives a channel from `payer` with `salt` on this chain and contract.
    function channelIdOf(address payer, bytes32 salt) external view returns (bytes32);

    /// @notice The channel as stored.
    function getChannel(bytes32 channelId) external view returns (Channel memory);
}
