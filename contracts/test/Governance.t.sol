// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IAccessControl} from "@openzeppelin/contracts/access/IAccessControl.sol";
import {IGovernor} from "@openzeppelin/contracts/governance/IGovernor.sol";
import {TimelockController} from "@openzeppelin/contracts/governance/TimelockController.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {Token} from "../Token.sol";
import {OperatorRegistry} from "../OperatorRegistry.sol";
import {StorageMarket} from "../StorageMarket.sol";
import {IStorageMarket} from "../interfaces/IStorageMarket.sol";
import {TabulaGovernor} from "../governance/TabulaGovernor.sol";
import {TabulaTimelock} from "../governance/TabulaTimelock.sol";
import {TestBase} from "./utils/Vm.sol";

/// @dev Governor + timelock own the market's parameters and treasury; nothing else can change them.
contract GovernanceTest is TestBase {
    uint256 private constant VOTING_DELAY = 60;
    uint256 private constant VOTING_PERIOD = 600;
    uint256 private constant TIMELOCK_DELAY = 120;

    Token private token;
    TabulaTimelock private timelock;
    TabulaGovernor private governor;
    StorageMarket private market;
    address private voter = address(0xB055);
    address private holder = address(0x4011);

    function setUp() public {
        vm.warp(1_700_000_000);
        token = new Token(voter, 1_000_000 ether, false);
        vm.prank(voter);
        token.delegate(voter);
        vm.prank(voter);
        token.transfer(holder, 10 ether);

        address[] memory none = new address[](0);
        address[] memory anyone = new address[](1);
        timelock = new TabulaTimelock(TIMELOCK_DELAY, none, anyone, address(this));
        governor = new TabulaGovernor(
            IVotes(address(token)), timelock, uint48(VOTING_DELAY), uint32(VOTING_PERIOD), 0, 4
        );
        timelock.grantRole(timelock.PROPOSER_ROLE(), address(governor));
        timelock.grantRole(timelock.CANCELLER_ROLE(), address(governor));
        timelock.renounceRole(timelock.DEFAULT_ADMIN_ROLE(), address(this));

        market = new StorageMarket(
            IERC20(address(token)), new OperatorRegistry(), address(timelock), address(timelock), _parameters(100 ether)
        );
        vm.warp(block.timestamp + 1);
    }

    function testGovernorSettings() public view {
        vm.assertEq(governor.name(), "Tabula Governor");
        vm.assertEq(governor.votingDelay(), VOTING_DELAY);
        vm.assertEq(governor.votingPeriod(), VOTING_PERIOD);
        vm.assertEq(governor.proposalThreshold(), 0);
        vm.assertEq(governor.quorum(block.timestamp - 1), 40_000 ether);
        vm.assertEq(governor.CLOCK_MODE(), "mode=timestamp");
        vm.assertEq(governor.clock(), block.timestamp);
        vm.assertEq(governor.timelock(), address(timelock));
        vm.assertTrue(governor.proposalNeedsQueuing(0));
        vm.assertFalse(timelock.hasRole(timelock.DEFAULT_ADMIN_ROLE(), address(this)));
        vm.assertEq(market.owner(), address(timelock));
    }

    function testParametersChangeThroughGovernorAndTimelock() public {
        IStorageMarket.Parameters memory p = _parameters(250 ether);
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) =
            _call(abi.encodeCall(IStorageMarket.setParameters, (p)));
        uint256 id = _passAndQueue(targets, values, calldatas, "raise the minimum stake");

        // Queued, but the timelock delay has not passed.
        bytes32 salt = bytes20(address(governor)) ^ keccak256("raise the minimum stake");
        bytes32 operation = timelock.hashOperationBatch(targets, values, calldatas, 0, salt);
        vm.expectRevert(
            abi.encodeWithSelector(
                TimelockController.TimelockUnexpectedOperationState.selector, operation, bytes32(uint256(1 << 2))
            )
        );
        governor.execute(targets, values, calldatas, keccak256("raise the minimum stake"));

        vm.warp(block.timestamp + TIMELOCK_DELAY + 1);
        governor.execute(targets, values, calldatas, keccak256("raise the minimum stake"));
        vm.assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Executed));
        vm.assertEq(market.parameters().minStake, 250 ether);
    }

    function testTreasuryChangesThroughGovernance() public {
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) =
            _call(abi.encodeCall(IStorageMarket.setTreasury, (holder)));
        _passAndQueue(targets, values, calldatas, "new treasury");
        vm.warp(block.timestamp + TIMELOCK_DELAY + 1);
        governor.execute(targets, values, calldatas, keccak256("new treasury"));
        vm.assertEq(market.treasury(), holder);
    }

    function testParameterChangeNotThroughTimelockIsRefused() public {
        IStorageMarket.Parameters memory p = _parameters(1);
        address[4] memory callers = [address(this), voter, holder, address(governor)];
        for (uint256 i = 0; i < callers.length; i++) {
            vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, callers[i]));
            vm.prank(callers[i]);
            market.setParameters(p);
            vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, callers[i]));
            vm.prank(callers[i]);
            market.setTreasury(callers[i]);
        }
        // Nobody but the governor may queue in the timelock, not even the voter or the deployer.
        bytes memory data = abi.encodeCall(IStorageMarket.setParameters, (p));
        bytes32 proposerRole = timelock.PROPOSER_ROLE();
        vm.expectRevert(
            abi.encodeWithSelector(IAccessControl.AccessControlUnauthorizedAccount.selector, voter, proposerRole)
        );
        vm.prank(voter);
        timelock.schedule(address(market), 0, data, bytes32(0), bytes32(0), TIMELOCK_DELAY);
        vm.expectRevert(
            abi.encodeWithSelector(
                IAccessControl.AccessControlUnauthorizedAccount.selector, address(this), proposerRole
            )
        );
        timelock.schedule(address(market), 0, data, bytes32(0), bytes32(0), TIMELOCK_DELAY);
        vm.assertEq(market.parameters().minStake, 100 ether);
    }

    function testDefeatedProposalCannotChangeParameters() public {
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) =
            _call(abi.encodeCall(IStorageMarket.setParameters, (_parameters(1))));
        vm.prank(holder);
        uint256 id = governor.propose(targets, values, calldatas, "sneaky");
        vm.warp(block.timestamp + VOTING_DELAY + 1);
        vm.prank(holder); // 10 tokens undelegated: no votes, so no quorum
        governor.castVote(id, 1);
        vm.warp(block.timestamp + VOTING_PERIOD + 1);
        vm.assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Defeated));
        vm.expectRevert(
            abi.encodeWithSelector(
                IGovernor.GovernorUnexpectedProposalState.selector,
                id,
                IGovernor.ProposalState.Defeated,
                bytes32(uint256(1 << uint8(IGovernor.ProposalState.Succeeded)))
            )
        );
        governor.queue(targets, values, calldatas, keccak256("sneaky"));
        vm.assertEq(market.parameters().minStake, 100 ether);
    }

    function testCancelQueuedProposalByGovernorOnly() public {
        (address[] memory targets, uint256[] memory values, bytes[] memory calldatas) =
            _call(abi.encodeCall(IStorageMarket.setTreasury, (holder)));
        vm.prank(voter);
        uint256 id = governor.propose(targets, values, calldatas, "cancel me");
        vm.prank(voter);
        governor.cancel(targets, values, calldatas, keccak256("cancel me"));
        vm.assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Canceled));
    }

    function _passAndQueue(
        address[] memory targets,
        uint256[] memory values,
        bytes[] memory calldatas,
        string memory description
    ) private returns (uint256 id) {
        vm.prank(voter);
        id = governor.propose(targets, values, calldatas, description);
        vm.warp(block.timestamp + VOTING_DELAY + 1);
        vm.prank(voter);
        governor.castVote(id, 1);
        vm.warp(block.timestamp + VOTING_PERIOD + 1);
        vm.assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Succeeded));
        governor.queue(targets, values, calldatas, keccak256(bytes(description)));
        vm.assertEq(uint256(governor.state(id)), uint256(IGovernor.ProposalState.Queued));
    }

    function _call(bytes memory data)
        private
        view
        returns (address[] memory targets, uint256[] memory values, bytes[] memory calldatas)
    {
        targets = new address[](1);
        targets[0] = address(market);
        values = new uint256[](1);
        calldatas = new bytes[](1);
        calldatas[0] = data;
    }

    function _parameters(uint256 minStake) private pure returns (IStorageMarket.Parameters memory) {
        return IStorageMarket.Parameters({
            minStake: minStake,
            collateralBps: 20_000,
            protocolFeeBps: 100,
            auditWindowSeconds: 1 days,
            unbondingDelaySeconds: 7 days,
            challengeBond: 0.01 ether
        });
    }
}
