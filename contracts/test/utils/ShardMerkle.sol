// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Hashes} from "@openzeppelin/contracts/utils/cryptography/Hashes.sol";

/// @dev Test-side builder of the shard Merkle tree that StorageMarket verifies (convention in contracts/README.md):
/// chunks of `leafSize` bytes (last one zero-padded), leaf i = keccak256(uint64(i) ‖ chunk), commutative keccak
/// pairs, odd last node promoted. Written independently of the contract so tests check the convention.
library ShardMerkle {
    /// @dev Cuts `shard` into `leafSize`-byte chunks, zero-padding the last one.
    function chunks(bytes memory shard, uint256 leafSize) internal pure returns (bytes[] memory out) {
        uint256 count = (shard.length + leafSize - 1) / leafSize;
        out = new bytes[](count);
        for (uint256 i = 0; i < count; i++) {
            bytes memory chunk = new bytes(leafSize);
            for (uint256 j = 0; j < leafSize && i * leafSize + j < shard.length; j++) {
                chunk[j] = shard[i * leafSize + j];
            }
            out[i] = chunk;
        }
    }

    function leafHash(uint256 index, bytes memory chunk) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked(uint64(index), chunk));
    }

    function leafHashes(bytes[] memory chunkList) internal pure returns (bytes32[] memory leaves) {
        leaves = new bytes32[](chunkList.length);
        for (uint256 i = 0; i < chunkList.length; i++) {
            leaves[i] = leafHash(i, chunkList[i]);
        }
    }

    function root(bytes32[] memory leaves) internal pure returns (bytes32) {
        bytes32[] memory level = leaves;
        while (level.length > 1) level = _up(level);
        return level[0];
    }

    function proof(bytes32[] memory leaves, uint256 index) internal pure returns (bytes32[] memory out) {
        bytes32[] memory path = new bytes32[](64);
        uint256 depth = 0;
        bytes32[] memory level = leaves;
        while (level.length > 1) {
            uint256 sibling = index ^ 1;
            if (sibling < level.length) path[depth++] = level[sibling];
            level = _up(level);
            index >>= 1;
        }
        out = new bytes32[](depth);
        for (uint256 i = 0; i < depth; i++) {
            out[i] = path[i];
        }
    }

    /// @dev The root of a path: folds `siblings` upward from `leaf` (used to build a 1 GiB shard's root for the
    /// one leaf an audit asks for, without the other 4 Mi leaves).
    function rootOfPath(bytes32 leaf, bytes32[] memory siblings) internal pure returns (bytes32 node) {
        node = leaf;
        for (uint256 i = 0; i < siblings.length; i++) {
            node = Hashes.commutativeKeccak256(node, siblings[i]);
        }
    }

    function _up(bytes32[] memory level) private pure returns (bytes32[] memory next) {
        next = new bytes32[]((level.length + 1) / 2);
        for (uint256 i = 0; i < next.length; i++) {
            uint256 left = 2 * i;
            next[i] = left + 1 < level.length ? Hashes.commutativeKeccak256(level[left], level[left + 1]) : level[left];
        }
    }
}
