// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {Token} from "../../Token.sol";
import {OperatorRegistry} from "../../OperatorRegistry.sol";
import {StorageMarket} from "../../StorageMarket.sol";
import {IStorageMarket} from "../../interfaces/IStorageMarket.sol";
import {Permits} from "./Permits.sol";
import {TestBase} from "./Vm.sol";
import {ShardMerkle} from "./ShardMerkle.sol";

/// @dev Shared setup for StorageMarket tests: a token with faucet, a market owned by `governance`, a funded host
/// and client, and a small shard (5 leaves, the last one partial) with its tree.
abstract contract MarketFixture is TestBase {
    uint256 internal constant START_TIME = 1_700_000_000;
    uint256 internal constant START_BLOCK = 1_000;
    uint256 internal constant MIN_STAKE = 100 ether;
    uint256 internal constant PRICE_PER_GIB_MONTH = 30 ether;
    uint256 internal constant DURATION = 10 days;
    uint256 internal constant AUDIT_WINDOW = 120;
    uint256 internal constant UNBONDING_DELAY = 300;
    /// @dev Collateral of a deal: twice its price.
    uint16 internal constant COLLATERAL_BPS = 20_000;
    uint96 internal constant CHALLENGE_BOND = 0.01 ether;
    /// @dev How long a host's σ stays good for in the default terms.
    uint256 internal constant ACCEPT_WINDOW = 1 hours;
    uint16 internal constant FEE_BPS = 100;
    uint256 internal constant SHARD_SIZE = 4 * 256 + 100;
    uint256 internal constant PRICE = 5 ether;

    Token internal token;
    OperatorRegistry internal operators;
    StorageMarket internal market;
    address internal governance = address(0x7106);
    address internal treasury = address(0x7EA5);
    uint256 internal hostKey = 0xA11CE;
    uint256 internal clientKey = 0xB0B;
    address internal host;
    address internal client;
    address internal stranger = address(0x5757);
    bytes internal peerId = hex"0024080112201bd7f6cbe2b1d7e5fb1d2e1b0f7c6d5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b";
    bytes internal manifestCid = hex"01711220a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90";

    bytes[] internal shardChunks;
    bytes32[] internal shardLeaves;
    bytes32 internal shardRoot;

    function setUp() public virtual {
        vm.warp(START_TIME);
        vm.roll(START_BLOCK);
        host = vm.addr(hostKey);
        client = vm.addr(clientKey);
        token = new Token(address(this), 0, true);
        operators = new OperatorRegistry();
        market = new StorageMarket(IERC20(address(token)), operators, governance, treasury, defaultParameters());
        _fund(host, 1_000 ether);
        _fund(client, 1_000 ether);
        _fund(stranger, 1_000 ether);

        bytes memory shard = new bytes(SHARD_SIZE);
        for (uint256 i = 0; i < SHARD_SIZE; i++) {
            shard[i] = bytes1(uint8(uint256(keccak256(abi.encode(i))) | 1));
        }
        bytes[] memory c = ShardMerkle.chunks(shard, market.LEAF_SIZE_BYTES());
        for (uint256 i = 0; i < c.length; i++) {
            shardChunks.push(c[i]);
        }
        bytes32[] memory leaves = ShardMerkle.leafHashes(c);
        for (uint256 i = 0; i < leaves.length; i++) {
            shardLeaves.push(leaves[i]);
        }
        shardRoot = ShardMerkle.root(leaves);
    }

    function defaultParameters() internal pure returns (IStorageMarket.Parameters memory) {
        return IStorageMarket.Parameters({
            minStake: MIN_STAKE,
            collateralBps: COLLATERAL_BPS,
            protocolFeeBps: FEE_BPS,
            auditWindowSeconds: uint32(AUDIT_WINDOW),
            unbondingDelaySeconds: uint32(UNBONDING_DELAY),
            challengeBond: CHALLENGE_BOND
        });
    }

    function noPermit() internal pure returns (IStorageMarket.PermitSignature memory p) {}

    /// @dev `ownerKey`'s EIP-2612 permit granting the market an allowance of `value` until `deadline`.
    function _permit(uint256 ownerKey, uint256 value, uint256 deadline)
        internal
        view
        returns (IStorageMarket.PermitSignature memory p)
    {
        (p.v, p.r, p.s) = Permits.sign(token, ownerKey, address(market), value, deadline);
        p.value = value;
        p.deadline = deadline;
    }

    function _fund(address account, uint256 amount) internal {
        token.faucet(account, amount);
        vm.prank(account);
        token.approve(address(market), type(uint256).max);
    }

    function _register(address h, uint256 stake, bool open) internal {
        vm.prank(h);
        market.registerHost(peerId, 1 << 40, PRICE_PER_GIB_MONTH, open, stake, noPermit());
    }

    function defaultTerms() internal view returns (IStorageMarket.DealTerms memory) {
        return IStorageMarket.DealTerms({
            host: host,
            manifestCid: manifestCid,
            shardIndex: 3,
            shardSizeBytes: uint64(SHARD_SIZE),
            shardRoot: shardRoot,
            durationSeconds: uint64(DURATION),
            price: PRICE,
            acceptBy: uint64(block.timestamp + ACCEPT_WINDOW)
        });
    }

    function _propose(IStorageMarket.DealTerms memory terms) internal returns (uint256 dealId) {
        vm.prank(client);
        dealId = market.proposeDeals(_one(terms), noPermit());
    }

    function _one(IStorageMarket.DealTerms memory terms) internal pure returns (IStorageMarket.DealTerms[] memory all) {
        all = new IStorageMarket.DealTerms[](1);
        all[0] = terms;
    }

    function _ids(uint256 dealId) internal pure returns (uint256[] memory ids) {
        ids = new uint256[](1);
        ids[0] = dealId;
    }

    /// @dev Submits one σ through the batch call.
    function _accept(uint256 dealId, bytes memory signature) internal {
        bytes[] memory signatures = new bytes[](1);
        signatures[0] = signature;
        market.acceptDeals(_ids(dealId), signatures);
    }

    function _sign(uint256 key, bytes32 digest) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, digest);
        return abi.encodePacked(r, s, v);
    }

    function _sigma(uint256 dealId) internal view returns (bytes memory) {
        return _sign(hostKey, market.receiptDigest(dealId));
    }

    /// @dev Registers the host (open registration), proposes the default deal and accepts it.
    function _activeDeal() internal returns (uint256 dealId) {
        _register(host, MIN_STAKE, true);
        dealId = _propose(defaultTerms());
        _accept(dealId, _sigma(dealId));
    }

    /// @dev Opens an audit as `challenger` (who puts up the bond), mines past the seed block with hash `seed`, and
    /// fixes the seed, which starts the answer window.
    function _challenge(uint256 dealId, address challenger, bytes32 seed) internal {
        _challengeUnfixed(dealId, challenger, seed);
        vm.prank(challenger);
        market.fixAuditSeeds(_ids(dealId));
    }

    /// @dev Opens an audit as `challenger` and mines past its seed block with hash `seed`, leaving the seed unfixed.
    function _challengeUnfixed(uint256 dealId, address challenger, bytes32 seed) internal {
        vm.prank(challenger);
        market.challenge(_ids(dealId), challenger);
        uint256 seedBlock = block.number + 1;
        vm.roll(seedBlock + 1);
        vm.setBlockhash(seedBlock, seed);
    }

    function _answer(uint256 dealId) internal returns (uint256 leafIndex) {
        leafIndex = market.auditLeafIndex(dealId);
        vm.prank(host);
        market.answerAudit(dealId, shardChunks[leafIndex], ShardMerkle.proof(shardLeaves, leafIndex));
    }
}
