// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";

/// @title Tabula timelock
/// @notice OpenZeppelin's TimelockController, unchanged: it owns the storage market's parameters and treasury and
/// receives protocol fees. Deployments make the {TabulaGovernor} its only proposer and canceller, let anyone
/// execute a passed and delayed operation, and leave it without an admin.
contract TabulaTimelock is TimelockController {
    /// @param minDelaySeconds the shortest delay between queueing and executing an operation.
    /// @param proposers accounts allowed to queue (and cancel) operations: the governor.
    /// @param executors accounts allowed to execute; `address(0)` means anyone.
    /// @param admin optional admin for the initial setup (address(0) for none); it should renounce afterwards.
    constructor(uint256 minDelaySeconds, address[] memory proposers, address[] memory executors, address admin)
        TimelockController(minDelaySeconds, proposers, executors, admin)
    {}
}
