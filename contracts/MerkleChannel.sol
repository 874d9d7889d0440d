// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import {IMerkleChannel} from "./interfaces/IMerkleChannel.sol";
import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";
import {PaymentFunding} from "./libraries/PaymentFunding.sol";

/// @title Merkle-tree micropayment channels
/// @notice See {IMerkleChannel}. Unlike the seed's code, a leaf names its payee and is hashed with the payee's
/// address, so no payee can claim another's token; tokens are spent per (payee, index) and each claim is deducted
/// from the payee's own allocation, fixed at funding. The payee (or its operator) names the payee it redeems for.
contract MerkleChannel is IMerkleChannel, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;

    uint8 private constant _ROLE_PAYER = 4;
    uint8 private constant _ROLE_PAYEE = 8;

    IERC20 private immutable _token;
    IOperatorRegistry private immutable _operators;
    mapping(bytes32 channelId => Channel) private _channels;
    mapping(bytes32 channelId => mapping(address payee => uint256)) private _allocations;
    mapping(bytes32 channelId => mapping(address payee => mapping(uint256 word => uint256 bits))) private _spent;

    /// @param token_ the platform token every payment is made in.
    /// @param operators_ the registry of operator keys payers and payees authorize.
    constructor(IERC20 token_, IOperatorRegistry operators_) {
        if (address(operators_) == address(0)) revert MerkleChannelZeroAddress();
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

    /// @inheritdoc IMerkleChannel
    function open(bytes32 salt, bytes32 root, Allocation[] calldata allocations, uint64 expiresAt)
        external
        nonReentrant
        returns (bytes32 channelId)
    {
        channelId = _open(salt, root, allocations, expiresAt);
    }

    /// @inheritdoc IMerkleChannel
    function openWithPermit(
        bytes32 salt,
        bytes32 root,
        Allocation[] calldata allocations,
        uint64 expiresAt,
        PaymentFunding.Permit calldata permit
    ) external nonReentrant returns (bytes32 channelId) {
        PaymentFunding.applyPermit(address(_token), msg.sender, address(this), permit);
        channelId = _open(salt, root, allocations, expiresAt);
    }

    /// @inheritdoc IMerkleChannel
    function redeem(
        bytes32 channelId,
        address payee,
        Token[] calldata tokens,
        bytes32[] calldata proof,
        bool[] calldata proofFlags
    ) external nonReentrant {
        if (msg.sender != payee && !_operators.actsFor(payee, msg.sender, _ROLE_PAYEE)) {
            revert MerkleChannelNotPayee(channelId, payee, msg.sender);
        }
        Channel storage channel = _channels[channelId];
        if (channel.payer == address(0)) revert MerkleChannelUnknown(channelId);
        if (block.timestamp >= channel.expiresAt) revert MerkleChannelExpired(channelId, channel.expiresAt);
        uint256 count = tokens.length;
        if (count == 0) revert MerkleChannelEmptyRedemption(channelId);

        (bytes32[] memory leaves, uint256 claimed) = _spend(channelId, payee, tokens);
        if (!MerkleProof.multiProofVerifyCalldata(proof, proofFlags, channel.root, leaves)) {
            revert MerkleChannelInvalidProof(channelId);
        }
        uint256 allocation = _allocations[channelId][payee];
        if (claimed > allocation) revert MerkleChannelAllocationExceeded(channelId, payee, claimed, allocation);
        _allocations[channelId][payee] = allocation - claimed;
        // Allocations sum to the channel's funds, so this never underflows.
        channel.remaining -= uint128(claimed);
        emit TokensRedeemed(channelId, payee, count, claimed);
        _token.safeTransfer(payee, claimed);
    }

    /// @inheritdoc IMerkleChannel
    function reclaim(bytes32 channelId) external nonReentrant {
        Channel storage channel = _channels[channelId];
        address payer = channel.payer;
        if (payer == address(0)) revert MerkleChannelUnknown(channelId);
        if (msg.sender != payer && !_operators.actsFor(payer, msg.sender, _ROLE_PAYER)) {
            revert MerkleChannelNotPayer(channelId, msg.sender);
        }
        if (block.timestamp < channel.expiresAt) revert MerkleChannelNotExpired(channelId, channel.expiresAt);
        uint256 amount = channel.remaining;
        channel.remaining = 0;
        emit ChannelReclaimed(channelId, payer, amount);
        if (amount != 0) _token.safeTransfer(payer, amount);
    }

    /// @inheritdoc IMerkleChannel
    function isSpent(bytes32 channelId, address payee, uint256 index) external view returns (bool) {
        return _spent[channelId][payee][index >> 8] & (1 << (index & 0xff)) != 0;
    }

    /// @inheritdoc IMerkleChannel
    function allocationOf(bytes32 channelId, address payee) external view returns (uint256) {
        // Past expiry nothing is left for payees: the payer may reclaim it all.
        if (block.timestamp >= _channels[channelId].expiresAt) return 0;
        return _allocations[channelId][payee];
    }

    /// @inheritdoc IMerkleChannel
    function channelIdOf(address payer, bytes32 salt) public view returns (bytes32) {
        return keccak256(abi.encode(block.chainid, address(this), payer, salt));
    }

    /// @inheritdoc IMerkleChannel
    function getChannel(bytes32 channelId) external view returns (Channel memory) {
        return _channels[channelId];
    }

    function _open(bytes32 salt, bytes32 root, Allocation[] calldata allocations, uint64 expiresAt)
        private
        returns (bytes32 channelId)
    {
        uint256 count = allocations.length;
        if (count == 0 || root == bytes32(0) || expiresAt <= block.timestamp) revert MerkleChannelInvalidTerms();
        channelId = channelIdOf(msg.sender, salt);
        if (_channels[channelId].payer != address(0)) revert MerkleChannelExists(channelId);
        mapping(address => uint256) storage allocated = _allocations[channelId];
        uint256 amount;
        for (uint256 i = 0; i < count; ++i) {
            (address payee, uint256 share) = (allocations[i].payee, allocations[i].amount);
            if (payee == address(0) || share == 0 || allocated[payee] != 0) {
                revert MerkleChannelInvalidAllocation(payee, share);
            }
            allocated[payee] = share;
            amount += share;
        }
        if (amount > type(uint128).max) revert MerkleChannelInvalidTerms();
        _channels[channelId] = Channel({payer: msg.sender, expiresAt: expiresAt, remaining: uint128(amount), root: root});
        emit ChannelOpened(channelId, msg.sender, root, amount, expiresAt);
        for (uint256 i = 0; i < count; ++i) {
            emit PayeeAllocated(channelId, allocations[i].payee, allocations[i].amount);
        }
        _token.safeTransferFrom(msg.sender, address(this), amount);
    }

    /// @dev Marks every one of `payee`'s tokens spent (refusing one spent before or named twice) and returns
    /// `payee`'s leaves and their total value.
    function _spend(bytes32 channelId, address payee, Token[] calldata tokens)
        private
        returns (bytes32[] memory leaves, uint256 claimed)
    {
        mapping(uint256 => uint256) storage spent = _spent[channelId][payee];
        // abi.encode(channelId, index, payee, value), with each token's index and value written in turn.
        bytes memory encoded = abi.encode(channelId, 0, payee, 0);
        uint256 count = tokens.length;
        leaves = new bytes32[](count);
        for (uint256 i = 0; i < count; ++i) {
            uint256 index = tokens[i].index;
            uint256 value = tokens[i].value;
            uint256 word = index >> 8;
            uint256 mask = 1 << (index & 0xff);
            uint256 bits = spent[word];
            if (bits & mask != 0) revert MerkleChannelTokenSpent(channelId, index);
            spent[word] = bits | mask;
            leaves[i] = _leaf(encoded, index, value);
            claimed += value;
        }
    }

    /// @dev The standard (double-hashed) leaf of `encoded`, `abi.encode(channelId, index, payee, value)`, with
    /// `index` and `value` written into it.
    function _leaf(bytes memory encoded, uint256 index, uint256 value) private pure returns (bytes32 leaf) {
        assembly ("memory-safe") {
            let ptr := add(encoded, 0x20)
            mstore(add(ptr, 0x20), index)
            mstore(add(ptr, 0x60), value)
            mstore(0x00, keccak256(ptr, 0x80))
            leaf := keccak256(0x00, 0x20)
        }
    }
}
