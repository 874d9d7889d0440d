// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Permits} from "./utils/Permits.sol";
import {TestBase} from "./utils/Vm.sol";
import {Token} from "../Token.sol";

contract TokenTest is TestBase {
    Token private token;
    address private alice = address(0xA11CE);

    function setUp() public {
        vm.warp(1_700_000_000);
        token = new Token(address(this), 1_000 ether, true);
    }

    function testMetadataAndInitialSupply() public view {
        vm.assertEq(token.name(), "Tabula");
        vm.assertEq(token.symbol(), "TAB");
        vm.assertEq(token.decimals(), 18);
        vm.assertEq(token.totalSupply(), 1_000 ether);
        vm.assertEq(token.balanceOf(address(this)), 1_000 ether);
        vm.assertTrue(token.faucetEnabled());
    }

    function testFaucetMintsUpToCap(uint256 amount) public {
        amount = bound(amount, 0, token.FAUCET_MAX());
        token.faucet(alice, amount);
        vm.assertEq(token.balanceOf(alice), amount);
    }

    function testFaucetRefusesMoreThanCap() public {
        uint256 max = token.FAUCET_MAX();
        vm.expectRevert(abi.encodeWithSelector(Token.TokenFaucetAmountTooLarge.selector, max + 1, max));
        token.faucet(alice, max + 1);
    }

    function testFaucetDisabledOnPublicDeployments() public {
        Token prod = new Token(address(this), 1 ether, false);
        vm.assertFalse(prod.faucetEnabled());
        vm.expectRevert(Token.TokenFaucetDisabled.selector);
        prod.faucet(alice, 1);
    }

    function testPermitApprovesWithOneSignature() public {
        uint256 key = 0xA11CE;
        address owner = vm.addr(key);
        token.transfer(owner, 5 ether);
        uint256 deadline = block.timestamp + 60;
        (uint8 v, bytes32 r, bytes32 s) = Permits.sign(token, key, alice, 5 ether, deadline);
        token.permit(owner, alice, 5 ether, deadline, v, r, s);
        vm.assertEq(token.allowance(owner, alice), 5 ether);
        vm.assertEq(token.nonces(owner), 1);
    }

    function testVotesFollowDelegationWithTimestampClock() public {
        vm.assertEq(token.clock(), block.timestamp);
        vm.assertEq(token.CLOCK_MODE(), "mode=timestamp");
        token.delegate(address(this));
        vm.assertEq(token.getVotes(address(this)), 1_000 ether);
        uint256 t = block.timestamp;
        vm.warp(t + 10);
        token.transfer(alice, 400 ether);
        vm.assertEq(token.getVotes(address(this)), 600 ether);
        vm.assertEq(token.getPastVotes(address(this), t), 1_000 ether);
        vm.assertEq(token.getPastTotalSupply(t), 1_000 ether);
    }

    function testBurnLowersTotalSupplyAndVotes() public {
        token.delegate(address(this));
        vm.warp(block.timestamp + 1);
        token.burn(300 ether);
        vm.assertEq(token.totalSupply(), 700 ether);
        vm.assertEq(token.balanceOf(address(this)), 700 ether);
        vm.assertEq(token.getVotes(address(this)), 700 ether);
    }

    function testBurnFromSpendsTheAllowance() public {
        token.transfer(alice, 10 ether);
        vm.prank(alice);
        token.approve(address(this), 4 ether);
        token.burnFrom(alice, 4 ether);
        vm.assertEq(token.totalSupply(), 996 ether);
        vm.assertEq(token.allowance(alice, address(this)), 0);
        vm.expectRevert();
        token.burnFrom(alice, 1);
    }
}
