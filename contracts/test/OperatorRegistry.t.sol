// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {OperatorRegistry} from "../OperatorRegistry.sol";
import {IOperatorRegistry} from "../interfaces/IOperatorRegistry.sol";
import {TestBase} from "./utils/Vm.sol";

/// @dev Authorizing, replacing, expiring and revoking operator keys, and every error with its arguments.
contract OperatorRegistryTest is TestBase {
    OperatorRegistry private registry;
    address private owner = address(0x0A11);
    address private operator = address(0x0BE7);
    uint8 private constant HOST = 1;
    uint8 private constant CLIENT = 2;
    uint8 private constant PAYER = 4;
    uint8 private constant PAYEE = 8;

    function setUp() public {
        vm.warp(1_700_000_000);
        registry = new OperatorRegistry();
    }

    function testRolesAreDistinctBits() public view {
        vm.assertEq(registry.ROLE_HOST(), HOST);
        vm.assertEq(registry.ROLE_CLIENT(), CLIENT);
        vm.assertEq(registry.ROLE_PAYER(), PAYER);
        vm.assertEq(registry.ROLE_PAYEE(), PAYEE);
    }

    function testOwnerAlwaysActsForItself() public view {
        vm.assertTrue(registry.actsFor(owner, owner, HOST));
        vm.assertTrue(registry.actsFor(owner, owner, PAYEE));
        vm.assertFalse(registry.actsFor(owner, operator, HOST));
    }

    function testAuthorizeForSomeRolesUntilAnExpiry() public {
        uint40 expiresAt = uint40(block.timestamp + 1 days);
        vm.expectEmit(address(registry));
        emit IOperatorRegistry.OperatorSet(owner, operator, HOST | PAYER, expiresAt);
        vm.prank(owner);
        registry.setOperator(operator, HOST | PAYER, expiresAt);

        IOperatorRegistry.Authorization memory a = registry.authorization(owner, operator);
        vm.assertEq(a.roles, HOST | PAYER);
        vm.assertEq(a.expiresAt, expiresAt);
        vm.assertTrue(registry.actsFor(owner, operator, HOST));
        vm.assertTrue(registry.actsFor(owner, operator, PAYER));
        vm.assertFalse(registry.actsFor(owner, operator, CLIENT));
        vm.assertFalse(registry.actsFor(owner, operator, PAYEE));
        // For this owner only.
        vm.assertFalse(registry.actsFor(address(0x0B0B), operator, HOST));

        // Good up to the second before the expiry, not at it.
        vm.warp(expiresAt - 1);
        vm.assertTrue(registry.actsFor(owner, operator, HOST));
        vm.warp(expiresAt);
        vm.assertFalse(registry.actsFor(owner, operator, HOST));
    }

    function testReplaceAndRevoke() public {
        vm.startPrank(owner);
        registry.setOperator(operator, HOST, uint40(block.timestamp + 1 days));
        registry.setOperator(operator, PAYEE, uint40(block.timestamp + 2 days));
        vm.assertFalse(registry.actsFor(owner, operator, HOST));
        vm.assertTrue(registry.actsFor(owner, operator, PAYEE));

        vm.expectEmit(address(registry));
        emit IOperatorRegistry.OperatorSet(owner, operator, 0, 0);
        registry.setOperator(operator, 0, 0);
        vm.stopPrank();
        vm.assertFalse(registry.actsFor(owner, operator, PAYEE));
        IOperatorRegistry.Authorization memory a = registry.authorization(owner, operator);
        vm.assertEq(a.roles, 0);
        vm.assertEq(a.expiresAt, 0);
    }

    function testErrors() public {
        vm.startPrank(owner);
        vm.expectRevert(IOperatorRegistry.OperatorRegistryZeroAddress.selector);
        registry.setOperator(address(0), HOST, uint40(block.timestamp + 1));
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.OperatorRegistrySelf.selector, owner));
        registry.setOperator(owner, HOST, uint40(block.timestamp + 1));
        vm.expectRevert(abi.encodeWithSelector(IOperatorRegistry.OperatorRegistryUnknownRoles.selector, 16));
        registry.setOperator(operator, 16, uint40(block.timestamp + 1));
        vm.expectRevert(
            abi.encodeWithSelector(
                IOperatorRegistry.OperatorRegistryExpiryInPast.selector, block.timestamp, block.timestamp
            )
        );
        registry.setOperator(operator, HOST, uint40(block.timestamp));
        vm.stopPrank();
        vm.assertEq(registry.authorization(owner, operator).roles, 0);
    }
}
