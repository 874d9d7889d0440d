// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IHashChainChannel} from "./interfaces/IHashChainChannel.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {PaymentFunding} from "./libraries/PaymentFunding.sol";

/// @title Hash-chain micropayment channels
/// @notice See {IHashChainChannel}. One redemption settles up to `MAX_UNITS` payments; verifying depth j costs j
/// keccak rounds of 64 bytes, about 94 gas each with the loop, so the deepest redemption stays under 10M gas: a
/// third of a 30M block and well inside the 2^24 (16,777,216) gas a transaction may use since EIP-7825.
contract HashChainChannel is IHashChainChannel, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    /// @notice Longest chain a channel may hold.
    uint32 public constant MAX_UNITS = 100_000;

    uint8 private constant _ROLE_PAYER = 4;
    uint8 private constant _ROLE_PAYEE = 8;

    IERC20 private immutable _token;
    IOperatorRegistry private immutable _operators;
    mapping(bytes32 channelId => Channel) private _channels;

    /// @param token_ the platform token every payment is made in.
    /// @param operators_ the registry of operator keys payers and payees authorize.
    constructor(IERC20 token_, IOperatorRegistry operators_) {
        if (address(operators_) == address(0)) revert HashChainChannelZeroAddress();
        _token = token_;
        _operators = operators_;
    }

    /// @notice The token payments are made in.
    function token() external view returns (IERC20) {
        return _token;
    }

    /// @notice The registry of operator keys this contract accepts.
    function operators() external view returns (IOperatorRegistry) {
        return _operators;
    }

    /// @inheritdoc IHashChainChannel
    function open(address payee, bytes32 salt, bytes32 anchor, uint32 units, uint128 unitValue, uint64 expiresAt)
        external
        nonReentrant
        returns (bytes32 channelId)
    {
        channelId = _open(payee, salt, anchor, units, unitValue, expiresAt);
    }

    /// @inheritdoc IHashChainChannel
    function openWithPermit(
        address payee,
        bytes32 salt,
        bytes32 anchor,
        uint32 units,
        uint128 unitValue,
        uint64 expiresAt,
        PaymentFunding.Permit calldata permit
    ) external nonReentrant returns (bytes32 channelId) {
        PaymentFunding.applyPermit(address(_token), msg.sender, address(this), permit);
        channelId = _open(payee, salt, anchor, units, unitValue, expiresAt);
    }

    /// @inheritdoc IHashChainChannel
    function redeem(bytes32 channelId, bytes32 preimage, uint256 depth) external nonReentrant {
        Channel storage channel = _channels[channelId];
        address payer = channel.payer;
        if (payer == address(0)) revert HashChainChannelUnknown(channelId);
        if (channel.closed) revert HashChainChannelClosed(channelId);
        // Only the payee's side: the payer knows every preimage and could otherwise end the channel at a lower depth.
        address payee = channel.payee;
        if (msg.sender != payee && !_operators.actsFor(payee, msg.sender, _ROLE_PAYEE)) {
            revert HashChainChannelNotPayee(channelId, msg.sender);
        }
        if (block.timestamp >= channel.expiresAt) revert HashChainChannelExpired(channelId, channel.expiresAt);
        uint256 units = channel.units;
        if (depth == 0 || depth > units) revert HashChainChannelInvalidDepth(channelId, depth, units);
        if (_walk(channelId, preimage, depth) != channel.anchor) {
            revert HashChainChannelInvalidPreimage(channelId, depth);
        }
        uint256 unitValue = channel.unitValue;
        uint256 paid = depth * unitValue;
        uint256 refunded = (units - depth) * unitValue;
        channel.closed = true;
        emit ChannelRedeemed(channelId, payee, depth, paid, refunded);
        _token.safeTransfer(payee, paid);
        if (refunded != 0) _token.safeTransfer(payer, refunded);
    }

    /// @inheritdoc IHashChainChannel
    function reclaim(bytes32 channelId) external nonReentrant {
        Channel storage channel = _channels[channelId];
        address payer = channel.payer;
        if (payer == address(0)) revert HashChainChannelUnknown(channelId);
        if (msg.sender != payer && !_operators.actsFor(payer, msg.sender, _ROLE_PAYER)) {
            revert HashChainChannelNotPayer(channelId, msg.sender);
        }
        if (channel.closed) revert HashChainChannelClosed(channelId);
        if (block.timestamp < channel.expiresAt) revert HashChainChannelNotExpired(channelId, channel.expiresAt);
        uint256 amount = uint256(channel.units) * channel.unitValue;
        channel.closed = true;
        emit ChannelReclaimed(channelId, payer, amount);
        _token.safeTransfer(payer, amount);
    }

    /// @inheritdoc IHashChainChannel
    function channelIdOf(address payer, address payee, bytes32 salt) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), payer, payee, salt));
    }

    /// @inheritdoc IHashChainChannel
    function getChannel(bytes32 channelId) external view returns (Channel memory) {
        return _channels[channelId];
    }

    function _open(address payee, bytes32 salt, bytes32 anchor, uint32 units, uint128 unitValue, uint64 expiresAt)
        private
        returns (bytes32 channelId)
    {
        if (payee == address(0) || payee == msg.sender) revert HashChainChannelInvalidPayee(payee);
        if (units == 0 || unitValue == 0 || anchor == bytes32(0) || expiresAt <= block.timestamp) {
            revert HashChainChannelInvalidTerms();
        }
        if (units > MAX_UNITS) revert HashChainChannelTooLong(units, MAX_UNITS);
        channelId = channelIdOf(msg.sender, payee, salt);
        if (_channels[channelId].payer != address(0)) revert HashChainChannelExists(channelId);
        _channels[channelId] = Channel({
            payer: msg.sender,
            expiresAt: expiresAt,
            closed: false,
            payee: payee,
            units: units,
            unitValue: unitValue,
            anchor: anchor
        });
        emit ChannelOpened(channelId, msg.sender, payee, anchor, units, unitValue, expiresAt);
        _token.safeTransferFrom(msg.sender, address(this), uint256(units) * unitValue);
    }

    /// @dev Applies the channel's chain step `depth` times to `value`.
    function _walk(bytes32 channelId, bytes32 value, uint256 depth) private pure returns (bytes32 result) {
        assembly ("memory-safe") {
            // Scratch space (0x00-0x3f) holds channelId ‖ value for each round.
            mstore(0x00, channelId)
            mstore(0x20, value)
            for { let i := 0 } lt(i, depth) { i := add(i, 1) } { mstore(0x20, keccak256(0x00, 0x40)) }
            result := mload(0x20)
        }
    }
}
