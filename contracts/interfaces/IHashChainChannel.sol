// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PaymentFunding} from "../libraries/PaymentFunding.sol";

/// @title Hash-chain micropayment channels (μP2P scheme 1)
/// @notice A payer locks `units × unitValue` for one payee under a trust anchor, the tip of a hash chain; paying one
/// more unit off-chain means revealing the next preimage. The payee redeems once with the preimage at depth j and
/// is paid j units; the rest goes back to the payer. After expiry an unredeemed channel returns to the payer.
/// Each chain step is `h(k+1) = keccak256(channelId ‖ h(k))`, and the channel id commits to the chain id, this
/// contract, the payer, the payee and a salt, so a token of one channel is worthless in every other.
/// A channel holds at most `MAX_UNITS` units, so that its deepest redemption always fits in one transaction.
/// The payee's ROLE_PAYEE operator may send its redemption and the payer's ROLE_PAYER operator its reclaim (see
/// {IOperatorRegistry}); the tokens go to the payee and the payer either way.
interface IHashChainChannel {
    /// @notice A channel as stored (zero payer: no such channel).
    struct Channel {
        address payer;
        uint64 expiresAt;
        bool closed;
        address payee;
        uint32 units;
        uint128 unitValue;
        bytes32 anchor;
    }

    /// @notice A payer locked `units × unitValue` for `payee` under `anchor`.
    event ChannelOpened(
        bytes32 indexed channelId,
        address indexed payer,
        address indexed payee,
        bytes32 anchor,
        uint256 units,
        uint256 unitValue,
        uint256 expiresAt
    );
    /// @notice The payee redeemed `depth` units.
    event ChannelRedeemed(bytes32 indexed channelId, address indexed payee, uint256 depth, uint256 paid, uint256 refunded);
    /// @notice The channel expired unredeemed and went back to the payer.
    event ChannelReclaimed(bytes32 indexed channelId, address indexed payer, uint256 amount);

    /// @notice The constructor was given no operator registry.
    error HashChainChannelZeroAddress();
    /// @notice A channel with this id exists already.
    error HashChainChannelExists(bytes32 channelId);
    /// @notice No such channel.
    error HashChainChannelUnknown(bytes32 channelId);
    /// @notice Payee is zero or the caller itself.
    error HashChainChannelInvalidPayee(address payee);
    /// @notice Zero units, zero value, zero anchor, or an expiry not in the future.
    error HashChainChannelInvalidTerms();
    /// @notice More units than the deepest redemption that fits in one transaction allows.
    error HashChainChannelTooLong(uint256 units, uint256 maxUnits);
    /// @notice The channel was redeemed or reclaimed already.
    error HashChainChannelClosed(bytes32 channelId);
    /// @notice Only the channel's payee or its ROLE_PAYEE operator may redeem.
    error HashChainChannelNotPayee(bytes32 channelId, address caller);
    /// @notice Only the channel's payer or its ROLE_PAYER operator may reclaim.
    error HashChainChannelNotPayer(bytes32 channelId, address caller);
    /// @notice The depth is zero or more than the channel's units.
    error HashChainChannelInvalidDepth(bytes32 channelId, uint256 depth, uint256 units);
    /// @notice Hashing the preimage `depth` times does not give the anchor.
    error HashChainChannelInvalidPreimage(bytes32 channelId, uint256 depth);
    /// @notice The channel expired: only the payer may take the funds back.
    error HashChainChannelExpired(bytes32 channelId, uint256 expiresAt);
    /// @notice The channel has not expired yet.
    error HashChainChannelNotExpired(bytes32 channelId, uint256 expiresAt);

    /// @notice Opens a channel to `payee`, pulling `units × unitValue` from the caller; `units` is at most
    /// `MAX_UNITS`.
    function open(address payee, bytes32 salt, bytes32 anchor, uint32 units, uint128 unitValue, uint64 expiresAt)
        external
        returns (bytes32 channelId);

    /// @notice {open} after applying an EIP-2612 permit, so no separate approval transaction is needed.
    function openWithPermit(
        address payee,
        bytes32 salt,
        bytes32 anchor,
        uint32 units,
        uint128 unitValue,
        uint64 expiresAt,
        PaymentFunding.Permit calldata permit
    ) external returns (bytes32 channelId);

    /// @notice Redeems the preimage at `depth` (hashing it `depth` times gives the anchor) before expiry, paying the
    /// payee; sent by the payee or its ROLE_PAYEE operator.
    function redeem(bytes32 channelId, bytes32 preimage, uint256 depth) external;

    /// @notice Returns an unredeemed channel to the payer after expiry; sent by the payer or its ROLE_PAYER operator.
    function reclaim(bytes32 channelId) external;

    /// @notice The id `open` gives a channel from `payer` to `payee` with `salt` on this chain and contract.
    function channelIdOf(address payer, address payee, bytes32 salt) external view returns (bytes32);

    /// @notice The channel as stored.
    function getChannel(bytes32 channelId) external view returns (Channel memory);
}
