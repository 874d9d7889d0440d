// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {console} from "hardhat/console.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {HashChainChannel} from "../HashChainChannel.sol";
import {OperatorRegistry} from "../OperatorRegistry.sol";
import {IHashChainChannel} from "../interfaces/IHashChainChannel.sol";
import {Token} from "../Token.sol";
import {TestBase} from "./utils/Vm.sol";

/// @dev Hash-chain channel rules: proportional pay and refund, one redemption, depth limits, expiry, binding.
contract HashChainChannelTest is TestBase {
    uint128 private constant UNIT = 0.01 ether;
    uint32 private constant UNITS = 100;
    bytes32 private constant SEED = keccak256("seed");
    bytes32 private constant SALT = keccak256("salt");

    Token private token;
    HashChainChannel private channels;
    address private payer = address(0xA11CE);
    address private payee = address(0xB0B);
    address private other = address(0xCAFE);
    uint64 private expiry;

    function setUp() public {
        vm.warp(1_700_000_000);
        expiry = uint64(block.timestamp + 1 days);
        token = new Token(address(this), 1_000_000 ether, true);
        channels = new HashChainChannel(IERC20(address(token)), new OperatorRegistry());
        token.transfer(payer, 1_000 ether);
        vm.prank(payer);
        token.approve(address(channels), type(uint256).max);
    }

    /// @dev h^times(seed) under the channel's step.
    function _walk(bytes32 id, bytes32 value, uint256 times) private pure returns (bytes32) {
        for (uint256 i = 0; i < times; i++) {
            value = keccak256(abi.encodePacked(id, value));
        }
        return value;
    }

    function _open(address to, bytes32 salt) private returns (bytes32 id) {
        id = channels.channelIdOf(payer, to, salt);
        vm.prank(payer);
        vm.assertEq(channels.open(to, salt, _walk(id, SEED, UNITS), UNITS, UNIT, expiry), id);
    }

    function testRedeemPaysDepthUnitsAndRefundsTheRest(uint256 depth) public {
        depth = bound(depth, 1, UNITS);
        bytes32 id = _open(payee, SALT);
        vm.assertEq(token.balanceOf(address(channels)), uint256(UNITS) * UNIT);
        uint256 payerBefore = token.balanceOf(payer);
        vm.expectEmit(address(channels));
        emit IHashChainChannel.ChannelRedeemed(id, payee, depth, depth * UNIT, (UNITS - depth) * UNIT);
        vm.prank(payee);
        channels.redeem(id, _walk(id, SEED, UNITS - depth), depth);
        vm.assertEq(token.balanceOf(payee), depth * UNIT);
        vm.assertEq(token.balanceOf(payer), payerBefore + (UNITS - depth) * UNIT);
        vm.assertEq(token.balanceOf(address(channels)), 0);
    }

    function testRedeemingTwiceIsRefused() public {
        bytes32 id = _open(payee, SALT);
        vm.prank(payee);
        channels.redeem(id, _walk(id, SEED, UNITS - 10), 10);
        bytes32 deeper = _walk(id, SEED, UNITS - 20);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelClosed.selector, id));
        vm.prank(payee);
        channels.redeem(id, deeper, 20);
    }

    function testRedeemingBeyondNOrAtZeroIsRefused() public {
        bytes32 id = _open(payee, SALT);
        vm.startPrank(payee);
        vm.expectRevert(
            abi.encodeWithSelector(IHashChainChannel.HashChainChannelInvalidDepth.selector, id, UNITS + 1, UNITS)
        );
        channels.redeem(id, SEED, UNITS + 1);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelInvalidDepth.selector, id, 0, UNITS));
        channels.redeem(id, _walk(id, SEED, UNITS), 0);
        vm.stopPrank();
    }

    function testWrongPreimageOrOverstatedDepthIsRefused() public {
        bytes32 id = _open(payee, SALT);
        bytes32 token10 = _walk(id, SEED, UNITS - 10);
        vm.startPrank(payee);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelInvalidPreimage.selector, id, 11));
        channels.redeem(id, token10, 11);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelInvalidPreimage.selector, id, 10));
        channels.redeem(id, keccak256("guess"), 10);
        vm.stopPrank();
    }

    function testOnlyThePayeeRedeems() public {
        bytes32 id = _open(payee, SALT);
        bytes32 preimage = _walk(id, SEED, UNITS - 1);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelNotPayee.selector, id, payer));
        vm.prank(payer);
        channels.redeem(id, preimage, 1);
    }

    function testTokensOfOneChannelAreWorthlessInAnother() public {
        // Same seed, same payer, two payees: the chain step is keyed by the channel id.
        bytes32 mine = _open(payee, SALT);
        bytes32 theirs = _open(other, SALT);
        bytes32 preimage = _walk(mine, SEED, UNITS - 50);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelInvalidPreimage.selector, theirs, 50));
        vm.prank(other);
        channels.redeem(theirs, preimage, 50);
        // And the id itself commits to chain id and contract.
        HashChainChannel second = new HashChainChannel(IERC20(address(token)), new OperatorRegistry());
        vm.assertNotEq(uint256(second.channelIdOf(payer, payee, SALT)), uint256(mine));
        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        vm.assertNotEq(uint256(channels.channelIdOf(payer, payee, SALT)), uint256(mine));
        vm.chainId(chain);
    }

    function testManyChannelsPerPayerButNoDuplicateId() public {
        bytes32 first = _open(payee, SALT);
        bytes32 second = _open(payee, keccak256("salt 2"));
        vm.assertNotEq(uint256(first), uint256(second));
        bytes32 anchor = _walk(first, SEED, UNITS);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelExists.selector, first));
        vm.prank(payer);
        channels.open(payee, SALT, anchor, UNITS, UNIT, expiry);
    }

    function testOpenRefusesBadTerms() public {
        vm.startPrank(payer);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelInvalidPayee.selector, payer));
        channels.open(payer, SALT, SEED, UNITS, UNIT, expiry);
        vm.expectRevert(IHashChainChannel.HashChainChannelInvalidTerms.selector);
        channels.open(payee, SALT, SEED, 0, UNIT, expiry);
        vm.expectRevert(IHashChainChannel.HashChainChannelInvalidTerms.selector);
        channels.open(payee, SALT, bytes32(0), UNITS, UNIT, expiry);
        vm.expectRevert(IHashChainChannel.HashChainChannelInvalidTerms.selector);
        channels.open(payee, SALT, SEED, UNITS, UNIT, uint64(block.timestamp));
        vm.stopPrank();
    }

    function testPayerReclaimsOnlyAfterExpiryAndPayeeOnlyBefore() public {
        bytes32 id = _open(payee, SALT);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelNotExpired.selector, id, expiry));
        vm.prank(payer);
        channels.reclaim(id);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelNotPayer.selector, id, payee));
        vm.prank(payee);
        channels.reclaim(id);

        vm.warp(expiry);
        bytes32 preimage = _walk(id, SEED, UNITS - 5);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelExpired.selector, id, expiry));
        vm.prank(payee);
        channels.redeem(id, preimage, 5);
        uint256 before = token.balanceOf(payer);
        vm.prank(payer);
        channels.reclaim(id);
        vm.assertEq(token.balanceOf(payer), before + uint256(UNITS) * UNIT);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelClosed.selector, id));
        vm.prank(payer);
        channels.reclaim(id);
    }

    function testUnknownChannelIsRefused() public {
        bytes32 id = keccak256("nothing");
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelUnknown.selector, id));
        channels.redeem(id, SEED, 1);
        vm.expectRevert(abi.encodeWithSelector(IHashChainChannel.HashChainChannelUnknown.selector, id));
        channels.reclaim(id);
    }
}

/// @dev 17. A chain too long to redeem: verifying depth j costs about 94 gas per unit, so beyond ~320k units a
/// full redemption needs more than a 30M-gas block (and beyond ~178k more than the 2^24 gas a transaction may use
/// since EIP-7825), and the payee could never be paid what it earned. Channels hold at most MAX_UNITS units.
contract HashChainChannelDepthAttackTest is TestBase {
    /// EIP-7825: the most gas one transaction may use.
    uint256 private constant TX_GAS_CAP = 1 << 24;

    Token private token;
    HashChainChannel private channels;

    function setUp() public {
        vm.warp(1_700_000_000);
        token = new Token(address(this), 1_000_000 ether, true);
        channels = new HashChainChannel(IERC20(address(token)), new OperatorRegistry());
        token.approve(address(channels), type(uint256).max);
    }

    function test_Attack_PayeeEarnsAChainTooDeepToRedeem() public {
        uint32 units = 400_000;
        vm.expectRevert(
            abi.encodeWithSelector(IHashChainChannel.HashChainChannelTooLong.selector, units, channels.MAX_UNITS())
        );
        channels.open(address(0xB0B), bytes32(0), keccak256("anchor"), units, 1, uint64(block.timestamp + 1 days));
    }

    /// The deepest allowed redemption, measured, fits in one transaction with room to spare.
    /// forge-config: default.isolate = true
    function testTheDeepestAllowedRedemptionFitsInOneTransaction() public {
        uint32 units = channels.MAX_UNITS();
        address payee = address(0xB0B);
        bytes32 id = channels.channelIdOf(address(this), payee, bytes32(0));
        bytes32 seed = keccak256("seed");
        bytes32 anchor = _walk(id, seed, units);
        channels.open(payee, bytes32(0), anchor, units, 1, uint64(block.timestamp + 1 days));
        vm.prank(payee);
        uint256 g = gasleft();
        channels.redeem(id, seed, units);
        uint256 used = g - gasleft();
        console.log("hash chain: deepest redemption (units, gas, gas per unit)", units, used, used / units);
        vm.assertEq(token.balanceOf(payee), units);
        vm.assertLt(used, 10_000_000);
        vm.assertLt(used, TX_GAS_CAP);
    }

    function _walk(bytes32 id, bytes32 value, uint256 times) private pure returns (bytes32 result) {
        assembly ("memory-safe") {
            mstore(0x00, id)
            mstore(0x20, value)
            for { let i := 0 } lt(i, times) { i := add(i, 1) } { mstore(0x20, keccak256(0x00, 0x40)) }
            result := mload(0x20)
        }
    }
}
