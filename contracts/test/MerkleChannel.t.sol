// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IMerkleChannel} from "../interfaces/IMerkleChannel.sol";
import {MerkleChannel} from "../MerkleChannel.sol";
import {OperatorRegistry} from "../OperatorRegistry.sol";
import {Token} from "../Token.sol";
import {TestBase} from "./utils/Vm.sol";

/// @dev Merkle channel rules on a hand-built four-token tree: tokens 0-2 pay bob, token 3 pays carol.
contract MerkleChannelTest is TestBase {
    bytes32 private constant SALT = keccak256("salt");
    uint128 private constant FUNDS = 10 ether;

    Token private token;
    MerkleChannel private channels;
    address private payer = address(0xA11CE);
    address private bob = address(0xB0B);
    address private carol = address(0xCA201);
    uint64 private expiry;
    bytes32 private id;
    bytes32[4] private leaves;
    bytes32 private root;

    function setUp() public {
        vm.warp(1_700_000_000);
        expiry = uint64(block.timestamp + 1 days);
        token = new Token(address(this), 1_000_000 ether, true);
        channels = new MerkleChannel(IERC20(address(token)), new OperatorRegistry());
        token.transfer(payer, 1_000 ether);
        vm.prank(payer);
        token.approve(address(channels), type(uint256).max);
        id = channels.channelIdOf(payer, SALT);
        root = _buildTree(id);
        vm.prank(payer);
        channels.open(SALT, root, _alloc(bob, 6 ether, carol, 4 ether), expiry);
    }

    function _alloc(address a, uint128 x, address b, uint128 y) internal pure returns (IMerkleChannel.Allocation[] memory list) {
        list = new IMerkleChannel.Allocation[](2);
        list[0] = IMerkleChannel.Allocation(a, x);
        list[1] = IMerkleChannel.Allocation(b, y);
    }

    function _alloc(address a, uint128 x) internal pure returns (IMerkleChannel.Allocation[] memory list) {
        list = new IMerkleChannel.Allocation[](1);
        list[0] = IMerkleChannel.Allocation(a, x);
    }

    function _leaf(bytes32 channelId, uint256 index, address payee, uint256 value) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(channelId, index, payee, value))));
    }

    function _node(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function _buildTree(bytes32 channelId) private returns (bytes32) {
        for (uint256 i = 0; i < 4; i++) {
            leaves[i] = _leaf(channelId, i, i == 3 ? carol : bob, (i + 1) * 1 ether);
        }
        return _node(_node(leaves[0], leaves[1]), _node(leaves[2], leaves[3]));
    }

    function _tokens(uint256 a, uint256 b) private pure returns (IMerkleChannel.Token[] memory t) {
        t = new IMerkleChannel.Token[](2);
        t[0] = IMerkleChannel.Token(a, (a + 1) * 1 ether);
        t[1] = IMerkleChannel.Token(b, (b + 1) * 1 ether);
    }

    /// @dev Multi-proof of tokens 0 and 1: they are siblings, so only node(2, 3) is needed.
    function _proof01() private view returns (bytes32[] memory proof, bool[] memory flags) {
        proof = new bytes32[](1);
        proof[0] = _node(leaves[2], leaves[3]);
        flags = new bool[](2);
        flags[0] = true;
        flags[1] = false;
    }

    function _single(uint256 index) private view returns (IMerkleChannel.Token[] memory t, bytes32[] memory proof, bool[] memory flags) {
        t = new IMerkleChannel.Token[](1);
        t[0] = IMerkleChannel.Token(index, (index + 1) * 1 ether);
        proof = new bytes32[](2);
        proof[0] = leaves[index ^ 1];
        proof[1] = index < 2 ? _node(leaves[2], leaves[3]) : _node(leaves[0], leaves[1]);
        flags = new bool[](2);
    }

    function testPayeeRedeemsManyTokensInOneTransaction() public {
        (bytes32[] memory proof, bool[] memory flags) = _proof01();
        vm.expectEmit(address(channels));
        emit IMerkleChannel.TokensRedeemed(id, bob, 2, 3 ether);
        vm.prank(bob);
        channels.redeem(id, bob, _tokens(0, 1), proof, flags);
        vm.assertEq(token.balanceOf(bob), 3 ether);
        vm.assertEq(channels.getChannel(id).remaining, FUNDS - 3 ether);
        vm.assertEq(channels.allocationOf(id, bob), 3 ether);
        vm.assertEq(channels.allocationOf(id, carol), 4 ether);
        vm.assertTrue(channels.isSpent(id, bob, 0));
        vm.assertTrue(channels.isSpent(id, bob, 1));
        vm.assertFalse(channels.isSpent(id, bob, 2));
        vm.assertFalse(channels.isSpent(id, carol, 0));
    }

    function testEveryClaimIsDeductedSoPayeesCannotEachTakeTheWholeFund() public {
        (bytes32[] memory proof, bool[] memory flags) = _proof01();
        vm.prank(bob);
        channels.redeem(id, bob, _tokens(0, 1), proof, flags);
        (IMerkleChannel.Token[] memory t, bytes32[] memory p, bool[] memory f) = _single(3);
        vm.prank(carol);
        channels.redeem(id, carol, t, p, f);
        vm.assertEq(token.balanceOf(carol), 4 ether);
        vm.assertEq(channels.getChannel(id).remaining, FUNDS - 7 ether);
        vm.assertEq(token.balanceOf(address(channels)), FUNDS - 7 ether);
    }

    function testATokenCannotBeRedeemedTwice() public {
        (IMerkleChannel.Token[] memory t, bytes32[] memory p, bool[] memory f) = _single(2);
        vm.prank(bob);
        channels.redeem(id, bob, t, p, f);
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelTokenSpent.selector, id, 2));
        vm.prank(bob);
        channels.redeem(id, bob, t, p, f);
    }

    function testATokenNamedTwiceInOneBatchIsRefused() public {
        (bytes32[] memory proof, bool[] memory flags) = _proof01();
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelTokenSpent.selector, id, 0));
        vm.prank(bob);
        channels.redeem(id, bob, _tokens(0, 0), proof, flags);
    }

    function testAnotherPayeeCannotRedeemSomeoneElsesToken() public {
        (IMerkleChannel.Token[] memory t, bytes32[] memory p, bool[] memory f) = _single(0);
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelInvalidProof.selector, id));
        vm.prank(carol);
        channels.redeem(id, carol, t, p, f);
    }

    function testAForgedValueIsRefused() public {
        (IMerkleChannel.Token[] memory t, bytes32[] memory p, bool[] memory f) = _single(0);
        t[0].value = 5 ether;
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelInvalidProof.selector, id));
        vm.prank(bob);
        channels.redeem(id, bob, t, p, f);
    }

    function testTokensOfOneChannelAreRefusedInAnother() public {
        // The same root funded under another salt: its leaves would have to name the other channel id.
        bytes32 otherSalt = keccak256("other");
        bytes32 otherId = channels.channelIdOf(payer, otherSalt);
        vm.prank(payer);
        channels.open(otherSalt, root, _alloc(bob, 6 ether, carol, 4 ether), expiry);
        (IMerkleChannel.Token[] memory t, bytes32[] memory p, bool[] memory f) = _single(0);
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelInvalidProof.selector, otherId));
        vm.prank(bob);
        channels.redeem(otherId, bob, t, p, f);
    }

    function testClaimsBeyondTheCallersAllocationAreRefused() public {
        bytes32 salt = keccak256("thin");
        bytes32 thinId = channels.channelIdOf(payer, salt);
        bytes32 thinRoot = _buildTree(thinId);
        vm.prank(payer);
        channels.open(salt, thinRoot, _alloc(bob, 2 ether, carol, 8 ether), expiry);
        (bytes32[] memory proof, bool[] memory flags) = _proof01();
        vm.expectRevert(
            abi.encodeWithSelector(IMerkleChannel.MerkleChannelAllocationExceeded.selector, thinId, bob, 3 ether, 2 ether)
        );
        vm.prank(bob);
        channels.redeem(thinId, bob, _tokens(0, 1), proof, flags);
    }

    function testEmptyRedemptionIsRefused() public {
        bytes32[] memory proof = new bytes32[](1);
        proof[0] = root; // OpenZeppelin would accept "no leaves, proof = [root]"
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelEmptyRedemption.selector, id));
        vm.prank(bob);
        channels.redeem(id, bob, new IMerkleChannel.Token[](0), proof, new bool[](0));
    }

    function testExpiryEndsRedemptionAndReturnsTheRestToThePayer() public {
        (IMerkleChannel.Token[] memory t, bytes32[] memory p, bool[] memory f) = _single(0);
        vm.prank(bob);
        channels.redeem(id, bob, t, p, f);
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelNotExpired.selector, id, expiry));
        vm.prank(payer);
        channels.reclaim(id);
        vm.warp(expiry);
        (t, p, f) = _single(1);
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelExpired.selector, id, expiry));
        vm.prank(bob);
        channels.redeem(id, bob, t, p, f);
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelNotPayer.selector, id, bob));
        vm.prank(bob);
        channels.reclaim(id);
        uint256 before = token.balanceOf(payer);
        vm.prank(payer);
        channels.reclaim(id);
        vm.assertEq(token.balanceOf(payer), before + FUNDS - 1 ether);
        vm.assertEq(channels.getChannel(id).remaining, 0);
        vm.assertEq(channels.allocationOf(id, carol), 0);
    }

    function testOpenRefusesBadTermsAndDuplicates() public {
        IMerkleChannel.Allocation[] memory good = _alloc(bob, 1 ether);
        vm.startPrank(payer);
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelExists.selector, id));
        channels.open(SALT, root, good, expiry);
        vm.expectRevert(IMerkleChannel.MerkleChannelInvalidTerms.selector);
        channels.open(keccak256("x"), root, new IMerkleChannel.Allocation[](0), expiry);
        vm.expectRevert(IMerkleChannel.MerkleChannelInvalidTerms.selector);
        channels.open(keccak256("x"), bytes32(0), good, expiry);
        vm.expectRevert(IMerkleChannel.MerkleChannelInvalidTerms.selector);
        channels.open(keccak256("x"), root, good, uint64(block.timestamp));
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelInvalidAllocation.selector, bob, 0));
        channels.open(keccak256("x"), root, _alloc(bob, 0), expiry);
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelInvalidAllocation.selector, address(0), 1));
        channels.open(keccak256("x"), root, _alloc(address(0), 1), expiry);
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelInvalidAllocation.selector, bob, 2));
        channels.open(keccak256("x"), root, _alloc(bob, 1, bob, 2), expiry);
        vm.stopPrank();
        bytes32 unknown = keccak256("unknown");
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelUnknown.selector, unknown));
        channels.reclaim(unknown);
    }
}

/// @dev 18. Payees cannot check their tokens: the spent set is keyed by index alone and the funds are shared.
contract MerkleChannelPayeeAttackTest is TestBase {
    Token private token;
    MerkleChannel private channels;
    address private payer = address(0xA11CE);
    address private bob = address(0xB0B);
    address private carol = address(0xCA201);

    function setUp() public {
        vm.warp(1_700_000_000);
        token = new Token(address(this), 1_000_000 ether, true);
        channels = new MerkleChannel(IERC20(address(token)), new OperatorRegistry());
        token.transfer(payer, 1_000 ether);
        vm.prank(payer);
        token.approve(address(channels), type(uint256).max);
    }

    function _leaf(bytes32 channelId, uint256 index, address payee, uint256 value) private pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(channelId, index, payee, value))));
    }

    function _one(uint256 index, uint256 value, bytes32 sibling)
        private
        pure
        returns (IMerkleChannel.Token[] memory t, bytes32[] memory proof, bool[] memory flags)
    {
        t = new IMerkleChannel.Token[](1);
        t[0] = IMerkleChannel.Token(index, value);
        proof = new bytes32[](1);
        proof[0] = sibling;
        flags = new bool[](1);
    }

    function _root(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function _alloc(address a, uint128 x) private pure returns (IMerkleChannel.Allocation[] memory list) {
        list = new IMerkleChannel.Allocation[](1);
        list[0] = IMerkleChannel.Allocation(a, x);
    }

    /// @dev The payer hands index 0 to bob and to carol: tokens are spent per (payee, index), and each draws on
    /// its payee's own allocation, so both are paid.
    function test_Attack_PayerGivesOneIndexToTwoPayees() public {
        bytes32 id = channels.channelIdOf(payer, bytes32(0));
        bytes32 bobs = _leaf(id, 0, bob, 1 ether);
        bytes32 carols = _leaf(id, 0, carol, 1 ether);
        IMerkleChannel.Allocation[] memory allocations = new IMerkleChannel.Allocation[](2);
        allocations[0] = IMerkleChannel.Allocation(bob, 1 ether);
        allocations[1] = IMerkleChannel.Allocation(carol, 1 ether);
        vm.prank(payer);
        channels.open(bytes32(0), _root(bobs, carols), allocations, uint64(block.timestamp + 1 days));
        (IMerkleChannel.Token[] memory t, bytes32[] memory p, bool[] memory f) = _one(0, 1 ether, carols);
        vm.prank(bob);
        channels.redeem(id, bob, t, p, f);
        (t, p, f) = _one(0, 1 ether, bobs);
        vm.prank(carol);
        channels.redeem(id, carol, t, p, f);
        vm.assertEq(token.balanceOf(carol), 1 ether, "carol's token is hers");
    }

    /// @dev The payer hides a leaf paying itself the whole fund and tries to redeem it before bob: it has no
    /// allocation, so the leaf draws on nothing, and bob's allocation is his alone.
    function test_Attack_PayerHidesALeafPayingItselfTheFund() public {
        bytes32 id = channels.channelIdOf(payer, bytes32(0));
        bytes32 bobs = _leaf(id, 0, bob, 1 ether);
        bytes32 hidden = _leaf(id, 1, payer, 1 ether);
        vm.prank(payer);
        channels.open(bytes32(0), _root(bobs, hidden), _alloc(bob, 1 ether), uint64(block.timestamp + 1 days));
        (IMerkleChannel.Token[] memory t, bytes32[] memory p, bool[] memory f) = _one(1, 1 ether, bobs);
        vm.expectRevert(
            abi.encodeWithSelector(IMerkleChannel.MerkleChannelAllocationExceeded.selector, id, payer, 1 ether, 0)
        );
        vm.prank(payer);
        channels.redeem(id, payer, t, p, f);
        (t, p, f) = _one(0, 1 ether, hidden);
        vm.prank(bob);
        channels.redeem(id, bob, t, p, f);
        vm.assertEq(token.balanceOf(bob), 1 ether, "bob's token is backed by funds nobody else can take");
    }
}
