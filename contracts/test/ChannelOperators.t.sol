// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {HashChainChannel} from "../HashChainChannel.sol";
import {IHashChainChannel} from "../interfaces/IHashChainChannel.sol";
import {IMerkleChannel} from "../interfaces/IMerkleChannel.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {MerkleChannel} from "../MerkleChannel.sol";
import {OperatorRegistry} from "../OperatorRegistry.sol";
import {Token} from "../Token.sol";
import {TestBase} from "./utils/Vm.sol";

/// @dev Operator keys shared by the channel tests: the payer's and each payee's tab, and a registry.
abstract contract ChannelOperatorsFixture is TestBase {
    uint8 internal constant PAYER_ROLE = 4;
    uint8 internal constant PAYEE_ROLE = 8;

    Token internal token;
    OperatorRegistry internal registry;
    address internal payer = address(0xA11CE);
    address internal bob = address(0xB0B);
    address internal carol = address(0xCA201);
    address internal payerTab = address(0xA7AB);
    address internal bobTab = address(0xB7AB);
    address internal carolTab = address(0xC7AB);
    uint64 internal expiry;
    uint40 internal operatorExpiry;

    function setUp() public virtual {
        vm.warp(1_700_000_000);
        expiry = uint64(block.timestamp + 1 days);
        operatorExpiry = uint40(block.timestamp + 30 days);
        token = new Token(address(this), 1_000_000 ether, true);
        registry = new OperatorRegistry();
        token.transfer(payer, 1_000 ether);
        _authorize(payer, payerTab, PAYER_ROLE);
        _authorize(bob, bobTab, PAYEE_ROLE);
        _authorize(carol, carolTab, PAYEE_ROLE);
    }

    function _authorize(address owner, address operator, uint8 role) internal {
        vm.prank(owner);
        registry.setOperator(operator, role, operatorExpiry);
    }

    function _revoke(address owner, address operator) internal {
        vm.prank(owner);
        registry.setOperator(operator, 0, 0);
    }
}

/// @dev Hash-chain channels: the payee's operator redeems and the payer's reclaims, for their owners only.
contract HashChainChannelOperatorsTest is ChannelOperatorsFixture {
    uint128 private constant UNIT = 0.01 ether;
    uint32 private constant UNITS = 100;
    bytes32 private constant SEED = keccak256("seed");

    HashChainChannel private channels;

    function setUp() public override {
        super.setUp();
        channels = new HashChainChannel(IERC20(address(token)), registry);
        vm.prank(payer);
        token.approve(address(channels), type(uint256).max);
    }

    function _walk(bytes32 id, bytes32 value, uint256 times) private pure returns (bytes32) {
        for (uint256 i = 0; i < times; i++) {
            value = keccak256(abi.encodePacked(id, value));
        }
        return value;
    }

    function _open(address to) private returns (bytes32 id) {
        bytes32 salt = keccak256(abi.encode(to));
        id = channels.channelIdOf(payer, to, salt);
        vm.prank(payer);
        channels.open(to, salt, _walk(id, SEED, UNITS), UNITS, UNIT, expiry);
    }

    function _notPayee(bytes32 id, address caller) private {
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelNotPayee.selector, id, caller));
    }

    function _notPayer(bytes32 id, address caller) private {
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelNotPayer.selector, id, caller));
    }

    function test_Attack_PayeesOperatorTakesThePayeesTokens() public {
        bytes32 id = _open(bob);
        uint256 payerBefore = token.balanceOf(payer);
        vm.expectEmit(address(channels));
        emit IHashChainChannel.ChannelRedeemed(id, bob, 40, 40 * UNIT, 60 * UNIT);
        vm.prank(bobTab);
        channels.redeem(id, _walk(id, SEED, UNITS - 40), 40);
        vm.assertEq(token.balanceOf(bob), 40 * UNIT);
        vm.assertEq(token.balanceOf(payer), payerBefore + 60 * UNIT);
        vm.assertEq(token.balanceOf(bobTab), 0);
    }

    function test_Attack_AStrangersOrThePayersOperatorRedeemsAtALowDepth() public {
        bytes32 id = _open(bob);
        bytes32 preimage = _walk(id, SEED, UNITS - 1);
        // The payer's operator knows every preimage; carol's tab and bob's payer-role key are not bob's operator.
        _notPayee(id, payerTab);
        vm.prank(payerTab);
        channels.redeem(id, preimage, 1);
        _notPayee(id, carolTab);
        vm.prank(carolTab);
        channels.redeem(id, preimage, 1);
        address bobPayerKey = address(0xB0B4);
        _authorize(bob, bobPayerKey, PAYER_ROLE);
        _notPayee(id, bobPayerKey);
        vm.prank(bobPayerKey);
        channels.redeem(id, preimage, 1);
        vm.assertFalse(channels.getChannel(id).closed);
    }

    function test_Attack_ARevokedPayeeOperatorRedeems() public {
        bytes32 id = _open(bob);
        bytes32 preimage = _walk(id, SEED, UNITS - 10);
        _revoke(bob, bobTab);
        _notPayee(id, bobTab);
        vm.prank(bobTab);
        channels.redeem(id, preimage, 10);
        vm.prank(bob);
        channels.redeem(id, preimage, 10);
        vm.assertEq(token.balanceOf(bob), 10 * UNIT);
    }

    function test_Attack_AnExpiredPayeeOperatorRedeems() public {
        vm.prank(carol);
        registry.setOperator(carolTab, PAYEE_ROLE, uint40(block.timestamp + 1 hours));
        bytes32 id = _open(carol);
        vm.warp(block.timestamp + 1 hours);
        _notPayee(id, carolTab);
        vm.prank(carolTab);
        channels.redeem(id, _walk(id, SEED, UNITS - 10), 10);
        vm.prank(carol);
        channels.redeem(id, _walk(id, SEED, UNITS - 10), 10);
        vm.assertEq(token.balanceOf(carol), 10 * UNIT);
    }

    function test_Attack_PayersOperatorReclaimsToItself() public {
        bytes32 id = _open(bob);
        vm.warp(expiry);
        uint256 before = token.balanceOf(payer);
        vm.prank(payerTab);
        channels.reclaim(id);
        vm.assertEq(token.balanceOf(payer), before + uint256(UNITS) * UNIT);
        vm.assertEq(token.balanceOf(payerTab), 0);
    }

    function test_Attack_AStrangersOrRevokedOperatorReclaims() public {
        bytes32 id = _open(bob);
        vm.warp(expiry);
        _notPayer(id, bobTab);
        vm.prank(bobTab);
        channels.reclaim(id);
        _revoke(payer, payerTab);
        _notPayer(id, payerTab);
        vm.prank(payerTab);
        channels.reclaim(id);
        vm.prank(payer);
        channels.reclaim(id);
    }

    function testTheRegistryIsRequired() public {
        vm.assertEq(address(channels.operators()), address(registry));
        vm.expectRevert(IHashChainChannel.HashChainChannelZeroAddress.selector);
        new HashChainChannel(IERC20(address(token)), IOperatorRegistry(address(0)));
    }
}

/// @dev Merkle channels: a payee's operator redeems the payee's tokens (leaves, spent set and allocation stay the
/// payee's, the tokens go to the payee), the payer's operator reclaims.
contract MerkleChannelOperatorsTest is ChannelOperatorsFixture {
    bytes32 private constant SALT = keccak256("salt");

    MerkleChannel private channels;
    bytes32 private id;
    bytes32[4] private leaves;

    function setUp() public override {
        super.setUp();
        channels = new MerkleChannel(IERC20(address(token)), registry);
        vm.prank(payer);
        token.approve(address(channels), type(uint256).max);
        id = channels.channelIdOf(payer, SALT);
        // Tokens 0-2 pay bob, token 3 pays carol; token i is worth i + 1 ether.
        for (uint256 i = 0; i < 4; i++) {
            leaves[i] = keccak256(bytes.concat(keccak256(abi.encode(id, i, i == 3 ? carol : bob, (i + 1) * 1 ether))));
        }
        bytes32 root = _node(_node(leaves[0], leaves[1]), _node(leaves[2], leaves[3]));
        IMerkleChannel.Allocation[] memory allocations = new IMerkleChannel.Allocation[](2);
        allocations[0] = IMerkleChannel.Allocation(bob, 6 ether);
        allocations[1] = IMerkleChannel.Allocation(carol, 4 ether);
        vm.prank(payer);
        channels.open(SALT, root, allocations, expiry);
    }

    function _node(bytes32 a, bytes32 b) private pure returns (bytes32) {
        return a < b ? keccak256(abi.encode(a, b)) : keccak256(abi.encode(b, a));
    }

    function _single(uint256 index)
        private
        view
        returns (IMerkleChannel.Token[] memory t, bytes32[] memory proof, bool[] memory flags)
    {
        t = new IMerkleChannel.Token[](1);
        t[0] = IMerkleChannel.Token(index, (index + 1) * 1 ether);
        proof = new bytes32[](2);
        proof[0] = leaves[index ^ 1];
        proof[1] = index < 2 ? _node(leaves[2], leaves[3]) : _node(leaves[0], leaves[1]);
        flags = new bool[](2);
    }

    function _notPayee(address payee, address caller) private {
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelNotPayee.selector, id, payee, caller));
    }

    function test_Attack_PayeesOperatorTakesThePayeesTokens() public {
        (IMerkleChannel.Token[] memory t, bytes32[] memory p, bool[] memory f) = _single(1);
        vm.expectEmit(address(channels));
        emit IMerkleChannel.TokensRedeemed(id, bob, 1, 2 ether);
        vm.prank(bobTab);
        channels.redeem(id, bob, t, p, f);
        vm.assertEq(token.balanceOf(bob), 2 ether);
        vm.assertEq(token.balanceOf(bobTab), 0);
        vm.assertTrue(channels.isSpent(id, bob, 1));
        vm.assertFalse(channels.isSpent(id, bobTab, 1));
        vm.assertEq(channels.allocationOf(id, bob), 4 ether);
        // Spent for bob whoever sent it: bob cannot redeem it again himself.
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelTokenSpent.selector, id, 1));
        vm.prank(bob);
        channels.redeem(id, bob, t, p, f);
    }

    function test_Attack_AnOperatorRedeemsAnotherPayeesTokens() public {
        (IMerkleChannel.Token[] memory t, bytes32[] memory p, bool[] memory f) = _single(3);
        // Bob's tab names carol, carol's token's payee; the payer's tab names bob; carol's tab names bob.
        _notPayee(carol, bobTab);
        vm.prank(bobTab);
        channels.redeem(id, carol, t, p, f);
        (t, p, f) = _single(0);
        _notPayee(bob, payerTab);
        vm.prank(payerTab);
        channels.redeem(id, bob, t, p, f);
        _notPayee(bob, carolTab);
        vm.prank(carolTab);
        channels.redeem(id, bob, t, p, f);
        // Bob's tab naming bob cannot pass carol's leaf off as bob's.
        (t, p, f) = _single(3);
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelInvalidProof.selector, id));
        vm.prank(bobTab);
        channels.redeem(id, bob, t, p, f);
        vm.assertEq(token.balanceOf(address(channels)), 10 ether);
    }

    function test_Attack_ARevokedOrExpiredPayeeOperatorRedeems() public {
        (IMerkleChannel.Token[] memory t, bytes32[] memory p, bool[] memory f) = _single(0);
        _revoke(bob, bobTab);
        _notPayee(bob, bobTab);
        vm.prank(bobTab);
        channels.redeem(id, bob, t, p, f);
        vm.prank(carol);
        registry.setOperator(carolTab, PAYEE_ROLE, uint40(block.timestamp + 1 hours));
        vm.warp(block.timestamp + 1 hours);
        (t, p, f) = _single(3);
        _notPayee(carol, carolTab);
        vm.prank(carolTab);
        channels.redeem(id, carol, t, p, f);
        vm.prank(carol);
        channels.redeem(id, carol, t, p, f);
        vm.assertEq(token.balanceOf(carol), 4 ether);
    }

    function test_Attack_PayersOperatorReclaimsToItselfOrAStrangersOperatorReclaims() public {
        vm.warp(expiry);
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelNotPayer.selector, id, bobTab));
        vm.prank(bobTab);
        channels.reclaim(id);
        uint256 before = token.balanceOf(payer);
        vm.prank(payerTab);
        channels.reclaim(id);
        vm.assertEq(token.balanceOf(payer), before + 10 ether);
        vm.assertEq(token.balanceOf(payerTab), 0);
    }

    function test_Attack_ARevokedPayerOperatorReclaims() public {
        vm.warp(expiry);
        _revoke(payer, payerTab);
        vm.expectRevert(abi.encodeWithSelector(IMerkleChannel.MerkleChannelNotPayer.selector, id, payerTab));
        vm.prank(payerTab);
        channels.reclaim(id);
    }

    function testTheRegistryIsRequired() public {
        vm.assertEq(address(channels.operators()), address(registry));
        vm.expectRevert(IMerkleChannel.MerkleChannelZeroAddress.selector);
        new MerkleChannel(IERC20(address(token)), IOperatorRegistry(address(0)));
    }
}
