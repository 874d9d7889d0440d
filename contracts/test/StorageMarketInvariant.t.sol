// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IStorageMarket} from "../interfaces/IStorageMarket.sol";
import {TestBase} from "./utils/Vm.sol";
import {MarketHandler} from "./utils/MarketHandler.sol";

/// @dev Random sequences of market calls (through {MarketHandler}); after every call tokens are conserved and
/// every account holds exactly what the rules give it.
contract StorageMarketInvariantTest is TestBase {
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    MarketHandler private handler;

    function setUp() public {
        vm.warp(1_700_000_000);
        vm.roll(1_000);
        handler = new MarketHandler(
            IStorageMarket.Parameters({
                minStake: 100 ether,
                slashShareBps: 3_000,
                protocolFeeBps: 250,
                auditWindowSeconds: 1 hours,
                unbondingDelaySeconds: 1 days
            }),
            address(0x7EA5)
        );
    }

    function targetContracts() public view returns (address[] memory targets) {
        targets = new address[](1);
        targets[0] = address(handler);
    }

    function targetSelectors() public view returns (FuzzSelector[] memory targets) {
        bytes4[] memory selectors = new bytes4[](13);
        selectors[0] = MarketHandler.propose.selector;
        selectors[1] = MarketHandler.cancel.selector;
        selectors[2] = MarketHandler.accept.selector;
        selectors[3] = MarketHandler.challenge.selector;
        selectors[4] = MarketHandler.answer.selector;
        selectors[5] = MarketHandler.finalize.selector;
        selectors[6] = MarketHandler.end.selector;
        selectors[7] = MarketHandler.complete.selector;
        selectors[8] = MarketHandler.claim.selector;
        selectors[9] = MarketHandler.addStake.selector;
        selectors[10] = MarketHandler.unbond.selector;
        selectors[11] = MarketHandler.withdraw.selector;
        selectors[12] = MarketHandler.warp.selector;
        targets = new FuzzSelector[](1);
        targets[0] = FuzzSelector(address(handler), selectors);
    }

    /// all escrow = paid out + refunded + still held; all stake = withdrawn + slashed + still held; and the
    /// market's balance is exactly what it still holds.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 60
    function invariant_tokensAreConserved() public view {
        uint256 escrowHeld = handler.escrowHeld();
        uint256 stakeHeld = handler.stakeHeld();
        vm.assertEq(handler.escrowIn(), handler.paidToHostsGross() + handler.refunded() + escrowHeld, "escrow");
        vm.assertEq(handler.stakeIn(), handler.stakeOut() + handler.slashed() + stakeHeld, "stake");
        vm.assertEq(handler.token().balanceOf(address(handler.market())), escrowHeld + stakeHeld, "market balance");
        uint256 total = handler.token().balanceOf(address(handler.market()));
        for (uint256 i = 0; i < handler.accountCount(); i++) {
            total += handler.token().balanceOf(handler.accountAt(i));
        }
        vm.assertEq(total, handler.token().totalSupply(), "supply");
    }

    /// No account ends with more (or less) than the rules give it: every balance equals the model's.
    /// forge-config: default.invariant.runs = 48
    /// forge-config: default.invariant.depth = 60
    function invariant_everyAccountGetsWhatTheRulesGive() public view {
        for (uint256 i = 0; i < handler.accountCount(); i++) {
            address account = handler.accountAt(i);
            vm.assertEq(handler.token().balanceOf(account), handler.expectedBalance(account), "account balance");
        }
        for (uint256 i = 0; i < handler.HOST_COUNT(); i++) {
            address h = handler.hosts(i);
            IStorageMarket.HostInfo memory info = handler.market().hostInfo(h);
            MarketHandler.ModelHost memory m = handler.modelHost(h);
            vm.assertEq(info.stake, m.stake, "stake");
            vm.assertEq(info.unbonding, m.unbonding, "unbonding");
            vm.assertEq(info.activeDeals, m.active, "active deals");
        }
        for (uint256 id = 1; id <= handler.dealCount(); id++) {
            IStorageMarket.DealInfo memory d = handler.market().dealInfo(id);
            vm.assertLe(d.claimed, d.earned);
            vm.assertLe(d.earned, d.price);
            vm.assertEq(d.earned, handler.modelDeal(id).earned, "earned");
        }
    }

    /// @dev The handler is able to reach every state: a scripted pseudo-random walk makes each kind of call
    /// succeed at least once, and both invariants hold at the end of it.
    function testHandlerReachesEveryState() public {
        for (uint256 i = 0; i < 400; i++) {
            uint256 r = uint256(keccak256(abi.encode(i)));
            uint256 action = r % 13;
            uint256 a = r >> 8;
            uint256 b = r >> 64;
            if (action == 0) handler.propose(a, b, r >> 128, r >> 160);
            else if (action == 1 && i % 4 == 0) handler.cancel(a);
            else if (action == 2 || action == 1) handler.accept(a);
            else if (action == 3) handler.challenge(a, b, bytes32(r));
            else if (action == 4) handler.answer(a, i % 5 != 0);
            else if (action == 5) handler.finalize(a);
            else if (action == 6 && i % 3 == 0) handler.end(a);
            else if (action == 7) handler.complete(a);
            else if (action == 8) handler.claim(a);
            else if (action == 9) handler.addStake(a, b);
            else if (action == 10) handler.unbond(a, b);
            else if (action == 11) handler.withdraw(a);
            else handler.warp(b % 2 == 0 ? 30 minutes : 2 days);
            invariant_tokensAreConserved();
            invariant_everyAccountGetsWhatTheRulesGive();
        }
        bytes4[11] memory kinds = [
            MarketHandler.propose.selector,
            MarketHandler.cancel.selector,
            MarketHandler.accept.selector,
            MarketHandler.challenge.selector,
            MarketHandler.answer.selector,
            MarketHandler.finalize.selector,
            MarketHandler.end.selector,
            MarketHandler.complete.selector,
            MarketHandler.claim.selector,
            MarketHandler.withdraw.selector,
            MarketHandler.challenge.selector
        ];
        for (uint256 i = 0; i < kinds.length; i++) {
            vm.assertGt(handler.succeeded(kinds[i]), 0, "a kind of call never succeeded");
        }
    }
}
