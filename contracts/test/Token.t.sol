// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TestBase} from "./utils/Vm.sol";
import {Token} from "../Token.sol";

contract TokenTest is TestBase {
    Token private token;
    address private alice = address(0xA11CE);

    function setUp() public {
        token = new Token(address(this), 1_000 ether, true);
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
}
