// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {OperatorRegistry} from "../OperatorRegistry.sol";
import {StorageMarket} from "../StorageMarket.sol";
import {IStorageMarket} from "../interfaces/IStorageMarket.sol";
import {MarketFixture} from "./utils/MarketFixture.sol";
import {ShardMerkle} from "./utils/ShardMerkle.sol";

/// @dev Normal path of every external function and every custom error with its exact arguments.
contract StorageMarketTest is MarketFixture {
    bytes32 private constant SEED = keccak256("seed");

    // ------------------------------------------------------------------ construction and governance

    function testConstructorSetsEverything() public view {
        vm.assertEq(address(market.token()), address(token));
        vm.assertEq(market.owner(), governance);
        vm.assertEq(market.treasury(), treasury);
        IStorageMarket.Parameters memory p = market.parameters();
        vm.assertEq(p.minStake, MIN_STAKE);
        vm.assertEq(p.collateralBps, COLLATERAL_BPS);
        vm.assertEq(p.protocolFeeBps, FEE_BPS);
        vm.assertEq(p.auditWindowSeconds, AUDIT_WINDOW);
        vm.assertEq(p.unbondingDelaySeconds, UNBONDING_DELAY);
        vm.assertEq(p.challengeBond, CHALLENGE_BOND);
        vm.assertEq(address(market.operators()), address(operators));
        vm.assertEq(market.nextDealId(), 1);
    }

    function testConstructorRejectsZeroAddresses() public {
        vm.expectRevert(IStorageMarket.StorageMarketZeroAddress.selector);
        new StorageMarket(IERC20(address(0)), operators, governance, treasury, defaultParameters());
        vm.expectRevert(IStorageMarket.StorageMarketZeroAddress.selector);
        new StorageMarket(IERC20(address(token)), operators, governance, address(0), defaultParameters());
        vm.expectRevert(IStorageMarket.StorageMarketZeroAddress.selector);
        new StorageMarket(IERC20(address(token)), OperatorRegistry(address(0)), governance, treasury, defaultParameters());
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableInvalidOwner.selector, address(0)));
        new StorageMarket(IERC20(address(token)), operators, address(0), treasury, defaultParameters());
    }

    function testSetParametersByOwner() public {
        IStorageMarket.Parameters memory p = IStorageMarket.Parameters({
            minStake: 7 ether,
            collateralBps: 50_000,
            protocolFeeBps: 2_000,
            auditWindowSeconds: 7 days,
            unbondingDelaySeconds: 90 days,
            challengeBond: 3 ether
        });
        vm.expectEmit(address(market));
        emit IStorageMarket.ParametersSet(p);
        vm.prank(governance);
        market.setParameters(p);
        vm.assertEq(market.parameters().minStake, 7 ether);
        vm.assertEq(market.parameters().collateralBps, 50_000);
        vm.assertEq(market.parameters().challengeBond, 3 ether);
        vm.assertEq(market.parameters().protocolFeeBps, 2_000);
        vm.assertEq(market.parameters().auditWindowSeconds, 7 days);
        vm.assertEq(market.parameters().unbondingDelaySeconds, 90 days);
    }

    function testSetParametersRejectsOthers() public {
        IStorageMarket.Parameters memory p = defaultParameters();
        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, stranger));
        vm.prank(stranger);
        market.setParameters(p);
    }

    function testSetParametersRejectsOutOfRange() public {
        IStorageMarket.Parameters memory p = defaultParameters();
        vm.startPrank(governance);
        p.minStake = 0;
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidMinStake.selector, 0));
        market.setParameters(p);
        p = defaultParameters();
        p.collateralBps = 0;
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidCollateral.selector, 0, 50_000));
        market.setParameters(p);
        p.collateralBps = 50_001;
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidCollateral.selector, 50_001, 50_000)
        );
        market.setParameters(p);
        p = defaultParameters();
        p.challengeBond = 0;
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidChallengeBond.selector, 0));
        market.setParameters(p);
        p = defaultParameters();
        p.protocolFeeBps = 2_001;
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidProtocolFee.selector, 2_001, 2_000));
        market.setParameters(p);
        p = defaultParameters();
        p.auditWindowSeconds = 29;
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidAuditWindow.selector, 29, 30, 7 days)
        );
        market.setParameters(p);
        p.auditWindowSeconds = 7 days + 1;
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidAuditWindow.selector, 7 days + 1, 30, 7 days)
        );
        market.setParameters(p);
        p = defaultParameters();
        p.unbondingDelaySeconds = 90 days + 1;
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidUnbondingDelay.selector, 90 days + 1, 90 days)
        );
        market.setParameters(p);
        vm.stopPrank();
    }

    function testSetTreasury() public {
        vm.expectEmit(address(market));
        emit IStorageMarket.TreasurySet(stranger);
        vm.prank(governance);
        market.setTreasury(stranger);
        vm.assertEq(market.treasury(), stranger);

        vm.expectRevert(IStorageMarket.StorageMarketZeroAddress.selector);
        vm.prank(governance);
        market.setTreasury(address(0));

        vm.expectRevert(abi.encodeWithSelector(Ownable.OwnableUnauthorizedAccount.selector, host));
        vm.prank(host);
        market.setTreasury(host);
    }

    // ------------------------------------------------------------------ hosts and staking

    function testRegisterHost() public {
        vm.expectEmit(address(market));
        emit IStorageMarket.HostRegistered(host, peerId, 1 << 40, PRICE_PER_GIB_MONTH, 150 ether);
        vm.expectEmit(address(market));
        emit IStorageMarket.OpenRegistrationSet(host, true);
        _register(host, 150 ether, true);

        IStorageMarket.HostInfo memory h = market.hostInfo(host);
        vm.assertTrue(h.registered);
        vm.assertTrue(h.openRegistration);
        vm.assertEq(h.peerId, peerId);
        vm.assertEq(h.capacityBytes, 1 << 40);
        vm.assertEq(h.usedBytes, 0);
        vm.assertEq(h.pricePerGiBMonth, PRICE_PER_GIB_MONTH);
        vm.assertEq(h.stake, 150 ether);
        vm.assertEq(token.balanceOf(address(market)), 150 ether);
        vm.assertEq(token.balanceOf(host), 850 ether);
        vm.assertTrue(market.isClientAuthorized(host, client));
    }

    function testRegisterHostWithPermit() public {
        address fresh = vm.addr(0xF00D);
        token.faucet(fresh, MIN_STAKE);
        IStorageMarket.PermitSignature memory p = _permit(0xF00D, MIN_STAKE, block.timestamp + 1);
        vm.prank(fresh);
        market.registerHost(peerId, 1 << 30, 2, false, MIN_STAKE, p);
        vm.assertEq(market.hostInfo(fresh).stake, MIN_STAKE);
        vm.assertEq(token.balanceOf(fresh), 0);
        vm.assertEq(token.allowance(fresh, address(market)), 0);
    }

    function testPermitFrontRunStillPulls() public {
        // Someone submits the permit first; the market falls back to the allowance it created.
        address fresh = vm.addr(0xF00D);
        token.faucet(fresh, MIN_STAKE);
        IStorageMarket.PermitSignature memory p = _permit(0xF00D, MIN_STAKE, block.timestamp + 1);
        token.permit(fresh, address(market), MIN_STAKE, p.deadline, p.v, p.r, p.s);
        vm.prank(fresh);
        market.registerHost(peerId, 1 << 30, 2, false, MIN_STAKE, p);
        vm.assertEq(market.hostInfo(fresh).stake, MIN_STAKE);
    }

    function testRegisterHostErrors() public {
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketInsufficientStake.selector, host, 99 ether, MIN_STAKE)
        );
        _register(host, 99 ether, false);

        vm.expectRevert(IStorageMarket.StorageMarketEmptyPeerId.selector);
        vm.prank(host);
        market.registerHost("", 1, 1, false, MIN_STAKE, noPermit());

        _register(host, MIN_STAKE, false);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketHostAlreadyRegistered.selector, host));
        _register(host, MIN_STAKE, false);
    }

    function testUpdateHost() public {
        _register(host, MIN_STAKE, false);
        vm.expectEmit(address(market));
        emit IStorageMarket.HostUpdated(host, hex"0102", 5, 6);
        vm.prank(host);
        market.updateHost(hex"0102", 5, 6);
        IStorageMarket.HostInfo memory h = market.hostInfo(host);
        vm.assertEq(h.peerId, hex"0102");
        vm.assertEq(h.capacityBytes, 5);
        vm.assertEq(h.pricePerGiBMonth, 6);

        vm.expectRevert(IStorageMarket.StorageMarketEmptyPeerId.selector);
        vm.prank(host);
        market.updateHost("", 5, 6);

        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketHostNotRegistered.selector, stranger));
        vm.prank(stranger);
        market.updateHost(hex"01", 5, 6);
    }

    function testAddStake() public {
        _register(host, MIN_STAKE, false);
        vm.expectEmit(address(market));
        emit IStorageMarket.StakeAdded(host, 5 ether, MIN_STAKE + 5 ether);
        vm.prank(host);
        market.addStake(5 ether, noPermit());
        vm.assertEq(market.hostInfo(host).stake, MIN_STAKE + 5 ether);
        vm.assertEq(token.balanceOf(address(market)), MIN_STAKE + 5 ether);

        vm.expectRevert(IStorageMarket.StorageMarketZeroAmount.selector);
        vm.prank(host);
        market.addStake(0, noPermit());

        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketHostNotRegistered.selector, client));
        vm.prank(client);
        market.addStake(1, noPermit());
    }

    function testAddStakeWithPermit() public {
        address fresh = vm.addr(0xF00D);
        token.faucet(fresh, 2 * MIN_STAKE);
        IStorageMarket.PermitSignature memory p = _permit(0xF00D, MIN_STAKE, block.timestamp + 1);
        vm.prank(fresh);
        market.registerHost(peerId, 1, 1, false, MIN_STAKE, p);
        vm.assertEq(token.allowance(fresh, address(market)), 0);
        // A permit may grant more than the call pulls: the rest stays the market's allowance.
        p = _permit(0xF00D, MIN_STAKE + 1 ether, block.timestamp + 1);
        vm.prank(fresh);
        market.addStake(MIN_STAKE, p);
        vm.assertEq(market.hostInfo(fresh).stake, 2 * MIN_STAKE);
        vm.assertEq(token.allowance(fresh, address(market)), 1 ether);
    }

    function testNoPermitUsesTheAllowanceWhateverItsValue() public {
        // `deadline == 0` is no permit: its value is not checked and the standing allowance pays.
        _register(host, MIN_STAKE, true);
        vm.prank(client);
        token.approve(address(market), PRICE + 1 ether);
        IStorageMarket.PermitSignature memory p = noPermit();
        p.value = 1;
        vm.prank(client);
        market.proposeDeals(_one(defaultTerms()), p);
        vm.assertEq(token.allowance(client, address(market)), 1 ether);
    }

    function testUnbondAndWithdraw() public {
        _register(host, 150 ether, false);
        vm.expectEmit(address(market));
        emit IStorageMarket.UnbondingStarted(host, 50 ether, 50 ether, block.timestamp + UNBONDING_DELAY);
        vm.prank(host);
        market.beginUnbonding(50 ether);
        IStorageMarket.HostInfo memory h = market.hostInfo(host);
        vm.assertEq(h.stake, 100 ether);
        vm.assertEq(h.unbonding, 50 ether);
        vm.assertEq(h.unbondingReadyAt, block.timestamp + UNBONDING_DELAY);

        uint256 readyAt = block.timestamp + UNBONDING_DELAY;
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketUnbondingNotReady.selector, host, readyAt)
        );
        vm.prank(host);
        market.withdrawStake();

        vm.warp(readyAt);
        vm.expectEmit(address(market));
        emit IStorageMarket.StakeWithdrawn(host, 50 ether);
        vm.prank(host);
        market.withdrawStake();
        vm.assertEq(token.balanceOf(host), 900 ether);
        vm.assertEq(market.hostInfo(host).unbonding, 0);

        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketNothingUnbonding.selector, host));
        vm.prank(host);
        market.withdrawStake();
    }

    function testBeginUnbondingErrors() public {
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketHostNotRegistered.selector, host));
        vm.prank(host);
        market.beginUnbonding(1);

        _register(host, MIN_STAKE, false);
        vm.expectRevert(IStorageMarket.StorageMarketZeroAmount.selector);
        vm.prank(host);
        market.beginUnbonding(0);

        vm.expectRevert(
            abi.encodeWithSelector(
                IStorageMarket.StorageMarketInsufficientFreeStake.selector, host, MIN_STAKE, MIN_STAKE + 1
            )
        );
        vm.prank(host);
        market.beginUnbonding(MIN_STAKE + 1);
    }

    function testUnbondingTakesOnlyStakeNoDealLocked() public {
        _register(host, 2 * MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        _accept(dealId, _sigma(dealId));
        uint256 collateral = PRICE * COLLATERAL_BPS / 10_000;
        uint256 free = 2 * MIN_STAKE - collateral;
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketInsufficientFreeStake.selector, host, free, free + 1)
        );
        vm.prank(host);
        market.beginUnbonding(free + 1);
        vm.prank(host);
        market.beginUnbonding(free);
        vm.assertEq(market.hostInfo(host).stake, collateral);
    }

    function testUnbondedStakeLeavesWhileADealRuns() public {
        _register(host, 2 * MIN_STAKE, true);
        vm.prank(host);
        market.beginUnbonding(MIN_STAKE);
        uint256 dealId = _propose(defaultTerms());
        _accept(dealId, _sigma(dealId));
        vm.warp(block.timestamp + UNBONDING_DELAY);
        vm.prank(host);
        market.withdrawStake();
        vm.assertEq(token.balanceOf(host), 1_000 ether - MIN_STAKE);
        vm.assertEq(market.hostInfo(host).activeDeals, 1);
        vm.assertEq(market.hostInfo(host).lockedCollateral, PRICE * COLLATERAL_BPS / 10_000);
    }

    function testClientAuthorization() public {
        _register(host, MIN_STAKE, false);
        vm.assertFalse(market.isClientAuthorized(host, client));
        vm.assertFalse(market.isClientAuthorized(stranger, client));

        vm.expectEmit(address(market));
        emit IStorageMarket.ClientAuthorizationSet(host, client, true);
        vm.prank(host);
        market.setClientAuthorization(client, true);
        vm.assertTrue(market.isClientAuthorized(host, client));
        vm.assertFalse(market.isClientAuthorized(host, stranger));

        vm.prank(host);
        market.setClientAuthorization(client, false);
        vm.assertFalse(market.isClientAuthorized(host, client));

        vm.expectRevert(IStorageMarket.StorageMarketZeroAddress.selector);
        vm.prank(host);
        market.setClientAuthorization(address(0), true);

        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketHostNotRegistered.selector, stranger));
        vm.prank(stranger);
        market.setClientAuthorization(client, true);
    }

    function testOpenRegistration() public {
        _register(host, MIN_STAKE, false);
        vm.expectEmit(address(market));
        emit IStorageMarket.OpenRegistrationSet(host, true);
        vm.prank(host);
        market.setOpenRegistration(true);
        vm.assertTrue(market.isClientAuthorized(host, stranger));
        vm.assertTrue(market.hostInfo(host).openRegistration);

        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketHostNotRegistered.selector, stranger));
        vm.prank(stranger);
        market.setOpenRegistration(true);
    }

    // ------------------------------------------------------------------ proposals

    function testProposeDealEscrowsAndEmitsTerms() public {
        _register(host, MIN_STAKE, false);
        vm.prank(host);
        market.setClientAuthorization(client, true);
        IStorageMarket.DealTerms memory terms = defaultTerms();

        vm.expectEmit(address(market));
        emit IStorageMarket.DealProposed(1, client, terms.manifestCid, host, terms);
        uint256 dealId = _propose(terms);

        vm.assertEq(dealId, 1);
        vm.assertEq(market.nextDealId(), 2);
        vm.assertEq(token.balanceOf(client), 1_000 ether - PRICE);
        vm.assertEq(token.balanceOf(address(market)), MIN_STAKE + PRICE);
        IStorageMarket.DealInfo memory d = market.dealInfo(dealId);
        vm.assertEq(uint256(d.status), uint256(IStorageMarket.DealStatus.Proposed));
        vm.assertEq(d.client, client);
        vm.assertEq(d.host, host);
        vm.assertEq(d.shardRoot, shardRoot);
        vm.assertEq(d.shardSizeBytes, SHARD_SIZE);
        vm.assertEq(d.durationSeconds, DURATION);
        vm.assertEq(d.leafCount, 5);
        vm.assertEq(d.price, PRICE);
        vm.assertEq(d.receiptHash, _expectedStructHash(dealId, client, terms));
    }

    function testProposeDealWithPermit() public {
        _register(host, MIN_STAKE, true);
        address fresh = vm.addr(0xF00D);
        token.faucet(fresh, PRICE);
        IStorageMarket.PermitSignature memory p = _permit(0xF00D, PRICE, block.timestamp + 1);
        vm.prank(fresh);
        uint256 dealId = market.proposeDeals(_one(defaultTerms()), p);
        vm.assertEq(market.dealInfo(dealId).client, fresh);
        vm.assertEq(token.balanceOf(fresh), 0);
    }

    function testProposeDealErrors() public {
        IStorageMarket.DealTerms memory terms = defaultTerms();
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketHostNotRegistered.selector, host));
        _propose(terms);

        _register(host, MIN_STAKE, false);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketClientNotAuthorized.selector, host, client)
        );
        _propose(terms);

        vm.prank(host);
        market.setOpenRegistration(true);
        terms.shardSizeBytes = 0;
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidShardSize.selector, 0));
        _propose(terms);
        uint256 tooBig = market.MAX_SHARD_SIZE_BYTES() + 1;
        terms.shardSizeBytes = uint64(tooBig);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidShardSize.selector, tooBig));
        _propose(terms);

        terms = defaultTerms();
        terms.durationSeconds = 0;
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidDuration.selector, 0));
        _propose(terms);
        terms.durationSeconds = uint64(5 * 365 days + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidDuration.selector, 5 * 365 days + 1)
        );
        _propose(terms);

        terms = defaultTerms();
        terms.shardSizeBytes = uint64(1 << 30);
        terms.price = 9 ether;
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketPriceTooLow.selector, 9 ether, 10 ether));
        _propose(terms);
    }

    function testQuote() public {
        _register(host, MIN_STAKE, false);
        // 1 GiB for 10 epochs at 1 token per GiB-epoch.
        vm.assertEq(market.quote(host, 1 << 30, 10 days), 10 ether);
        // Rounded up: one byte for one second still costs something.
        vm.assertEq(market.quote(host, 1, 1), 10_780); // 1e18 / (2^30 * 86400) = 10,779.2...
        vm.assertEq(market.quote(stranger, 1 << 30, 10 days), 0);
    }

    function testCancelProposal() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketNotDealClient.selector, dealId, host));
        vm.prank(host);
        market.cancelProposals(_ids(dealId));

        vm.expectEmit(address(market));
        emit IStorageMarket.DealCancelled(dealId, PRICE);
        vm.prank(client);
        market.cancelProposals(_ids(dealId));
        vm.assertEq(token.balanceOf(client), 1_000 ether);
        vm.assertEq(uint256(market.dealInfo(dealId).status), uint256(IStorageMarket.DealStatus.Cancelled));

        vm.expectRevert(
            abi.encodeWithSelector(
                IStorageMarket.StorageMarketUnexpectedDealStatus.selector, dealId, IStorageMarket.DealStatus.Cancelled
            )
        );
        vm.prank(client);
        market.cancelProposals(_ids(dealId));
    }

    // ------------------------------------------------------------------ acceptance and receipts

    function testAcceptDealWithSigma() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        bytes memory sigma = _sigma(dealId);
        vm.assertEq(market.receiptDigest(dealId), market.hashReceipt(dealId, client, defaultTerms()));
        vm.assertTrue(market.isValidReceipt(dealId, sigma));

        vm.warp(block.timestamp + 5);
        vm.expectEmit(address(market));
        emit IStorageMarket.DealAccepted(
            dealId, host, host, sigma, block.timestamp, block.timestamp + DURATION, PRICE * COLLATERAL_BPS / 10_000
        );
        vm.prank(stranger); // anyone may submit σ
        _accept(dealId, sigma);

        IStorageMarket.DealInfo memory d = market.dealInfo(dealId);
        vm.assertEq(uint256(d.status), uint256(IStorageMarket.DealStatus.Active));
        vm.assertEq(d.startedAt, block.timestamp);
        vm.assertEq(d.endsAt, block.timestamp + DURATION);
        vm.assertEq(d.provenUntil, block.timestamp);
        vm.assertEq(d.protocolFeeBps, FEE_BPS);
        IStorageMarket.HostInfo memory h = market.hostInfo(host);
        vm.assertEq(h.usedBytes, SHARD_SIZE);
        vm.assertEq(h.activeDeals, 1);
        // σ stays verifiable after acceptance.
        vm.assertTrue(market.isValidReceipt(dealId, sigma));
    }

    function testReceiptDigestMatchesEip712ByHand() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        bytes32 domainSeparator = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("Tabula StorageMarket"),
                keccak256("2"),
                block.chainid,
                address(market)
            )
        );
        bytes32 expected = keccak256(
            abi.encodePacked(hex"1901", domainSeparator, _expectedStructHash(dealId, client, defaultTerms()))
        );
        vm.assertEq(market.receiptDigest(dealId), expected);
    }

    function testIsValidReceiptFalseCases() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        vm.assertFalse(market.isValidReceipt(dealId, _sign(clientKey, market.receiptDigest(dealId))));
        vm.assertFalse(market.isValidReceipt(99, _sigma(dealId)));
    }

    function testAcceptDealErrors() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        bytes memory sigma = _sigma(dealId);

        vm.expectRevert(
            abi.encodeWithSelector(
                IStorageMarket.StorageMarketUnexpectedDealStatus.selector, 7, IStorageMarket.DealStatus.None
            )
        );
        _accept(7, sigma);

        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidSignatureLength.selector, 66));
        _accept(dealId, bytes.concat(sigma, hex"00"));

        bytes memory byClient = _sign(clientKey, market.receiptDigest(dealId));
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidReceiptSignature.selector, dealId, client)
        );
        _accept(dealId, byClient);

        _accept(dealId, sigma);
        vm.expectRevert(
            abi.encodeWithSelector(
                IStorageMarket.StorageMarketUnexpectedDealStatus.selector, dealId, IStorageMarket.DealStatus.Active
            )
        );
        _accept(dealId, sigma);
    }

    function testAcceptDealNeedsMinimumStake() public {
        _register(host, MIN_STAKE, true);
        uint256 dealId = _propose(defaultTerms());
        IStorageMarket.Parameters memory p = defaultParameters();
        p.minStake = MIN_STAKE + 1;
        vm.prank(governance);
        market.setParameters(p);
        bytes memory sigma = _sigma(dealId);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketInsufficientStake.selector, host, MIN_STAKE, MIN_STAKE + 1)
        );
        _accept(dealId, sigma);
    }

    function testAcceptDealNeedsCapacity() public {
        _register(host, MIN_STAKE, true);
        vm.prank(host);
        market.updateHost(peerId, uint64(SHARD_SIZE + 10), PRICE_PER_GIB_MONTH);
        uint256 first = _propose(defaultTerms());
        uint256 second = _propose(defaultTerms());
        _accept(first, _sigma(first));
        bytes memory sigma = _sigma(second);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketCapacityExceeded.selector, host, SHARD_SIZE, 10)
        );
        _accept(second, sigma);
        // Capacity lowered below what is in use: nothing is available.
        vm.prank(host);
        market.updateHost(peerId, 1, PRICE_PER_GIB_MONTH);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketCapacityExceeded.selector, host, SHARD_SIZE, 0)
        );
        _accept(second, sigma);
    }

    // ------------------------------------------------------------------ audits

    function testChallengeOpensAudit() public {
        uint256 dealId = _activeDeal();
        vm.expectEmit(address(market));
        emit IStorageMarket.AuditChallenged(dealId, stranger, block.number + 1, CHALLENGE_BOND);
        vm.prank(stranger);
        market.challenge(_ids(dealId), stranger);
        IStorageMarket.AuditInfo memory a = market.auditInfo(dealId);
        vm.assertEq(a.challenger, stranger);
        vm.assertEq(a.seedBlock, block.number + 1);
        vm.assertEq(a.deadline, 0); // the window starts when the seed is fixed
        vm.assertEq(token.balanceOf(stranger), 1_000 ether - CHALLENGE_BOND);
        vm.assertEq(token.balanceOf(address(market)), MIN_STAKE + PRICE + CHALLENGE_BOND);
    }

    function testChallengeErrors() public {
        vm.expectRevert(
            abi.encodeWithSelector(
                IStorageMarket.StorageMarketUnexpectedDealStatus.selector, 1, IStorageMarket.DealStatus.None
            )
        );
        market.challenge(_ids(1), address(this));
        vm.expectRevert(IStorageMarket.StorageMarketEmptyBatch.selector);
        market.challenge(new uint256[](0), address(this));

        uint256 dealId = _activeDeal();
        vm.prank(stranger);
        market.challenge(_ids(dealId), stranger);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketAuditOpen.selector, dealId));
        vm.prank(stranger);
        market.challenge(_ids(dealId), stranger);

        uint256 second = _propose(defaultTerms());
        _accept(second, _sigma(second));
        uint256 endsAt = block.timestamp + DURATION;
        vm.warp(endsAt);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketDealExpired.selector, second, endsAt));
        vm.prank(stranger);
        market.challenge(_ids(second), stranger);
    }

    function testAnswerAuditAccruesPayment() public {
        uint256 dealId = _activeDeal();
        uint256 start = block.timestamp;
        vm.warp(start + 1 days);
        _challenge(dealId, client, SEED);
        uint256 expectedIndex = uint256(keccak256(abi.encode(SEED, dealId))) % 5;
        vm.assertEq(market.auditLeafIndex(dealId), expectedIndex);

        vm.warp(start + 1 days + 60);
        uint256 earned = PRICE * (1 days + 60) / DURATION;
        vm.expectEmit(address(market));
        emit IStorageMarket.AuditAnswered(dealId, expectedIndex, earned, CHALLENGE_BOND);
        _answer(dealId);

        IStorageMarket.DealInfo memory d = market.dealInfo(dealId);
        vm.assertEq(d.earned, earned);
        vm.assertEq(d.provenUntil, start + 1 days + 60);
        vm.assertEq(market.auditInfo(dealId).challenger, address(0));
        vm.assertEq(market.reputation(host).auditsPassed, 1);
    }

    function testEveryLeafOfTheShardAnswers() public {
        // Whatever leaf the seed draws, the tree built by the convention proves it (including the padded last one).
        uint256 dealId = _activeDeal();
        bool[5] memory seen;
        for (uint256 i = 0; i < 40; i++) {
            _challenge(dealId, client, keccak256(abi.encode(i)));
            seen[_answer(dealId)] = true;
        }
        for (uint256 i = 0; i < 5; i++) {
            vm.assertTrue(seen[i]);
        }
        vm.assertEq(market.reputation(host).auditsPassed, 40);
    }

    function testAnswerAfterEndEarnsOnlyUpToEnd() public {
        uint256 dealId = _activeDeal();
        uint256 endsAt = block.timestamp + DURATION;
        vm.warp(endsAt - 1);
        _challenge(dealId, client, SEED);
        vm.warp(endsAt + 10);
        _answer(dealId);
        vm.assertEq(market.dealInfo(dealId).earned, PRICE);
        vm.assertEq(market.dealInfo(dealId).provenUntil, endsAt);
    }

    function testAnswerAuditErrors() public {
        uint256 dealId = _activeDeal();
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketNoOpenAudit.selector, dealId));
        vm.prank(host);
        market.answerAudit(dealId, shardChunks[0], ShardMerkle.proof(shardLeaves, 0));

        vm.prank(client);
        market.challenge(_ids(dealId), client);
        uint256 seedBlock = block.number + 1;
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedNotReady.selector, dealId, seedBlock)
        );
        vm.prank(host);
        market.answerAudit(dealId, shardChunks[0], ShardMerkle.proof(shardLeaves, 0));
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedNotReady.selector, dealId, seedBlock)
        );
        market.auditLeafIndex(dealId);

        vm.roll(seedBlock + 1);
        vm.setBlockhash(seedBlock, SEED);
        uint256 index = market.auditLeafIndex(dealId);
        market.fixAuditSeeds(_ids(dealId));

        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketNotOperator.selector, host, client, uint8(1))
        );
        vm.prank(client);
        market.answerAudit(dealId, shardChunks[index], ShardMerkle.proof(shardLeaves, index));

        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidLeafSize.selector, 255));
        vm.prank(host);
        market.answerAudit(dealId, new bytes(255), ShardMerkle.proof(shardLeaves, index));

        bytes memory wrong = bytes.concat(shardChunks[index]);
        wrong[7] ^= 0x01;
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketInvalidProof.selector, dealId, index));
        vm.prank(host);
        market.answerAudit(dealId, wrong, ShardMerkle.proof(shardLeaves, index));

        uint256 deadline = market.auditInfo(dealId).deadline;
        vm.assertEq(deadline, block.timestamp + AUDIT_WINDOW);
        vm.warp(deadline + 1);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketAuditWindowClosed.selector, dealId, deadline)
        );
        vm.prank(host);
        market.answerAudit(dealId, shardChunks[index], ShardMerkle.proof(shardLeaves, index));
    }

    function testAuditLeafIndexWithoutAudit() public {
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketNoOpenAudit.selector, 3));
        market.auditLeafIndex(3);
    }

    function testFixAuditSeedKeepsTheDrawPastTheBlockhashWindow() public {
        uint256 dealId = _activeDeal();
        _challengeUnfixed(dealId, client, SEED);
        uint256 index = market.auditLeafIndex(dealId);

        vm.expectEmit(address(market));
        emit IStorageMarket.AuditSeedFixed(dealId, SEED, block.timestamp + AUDIT_WINDOW);
        market.fixAuditSeeds(_ids(dealId));
        vm.assertEq(market.auditInfo(dealId).seed, SEED);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedAlreadyFixed.selector, dealId));
        market.fixAuditSeeds(_ids(dealId));
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedAlreadyFixed.selector, dealId));
        market.lapseChallenge(dealId);

        // 300 blocks later BLOCKHASH no longer knows the seed block (and the test chain's EIP-2935 history
        // has no entry for it); the copy does.
        vm.setBlockhash(market.auditInfo(dealId).seedBlock, 0);
        vm.roll(block.number + 300);
        vm.assertEq(market.auditLeafIndex(dealId), index);
        _answer(dealId);
        vm.assertEq(market.reputation(host).auditsPassed, 1);
    }

    function testSeedNotYetMinedCannotBeFixedOrLapsed() public {
        uint256 dealId = _activeDeal();
        vm.prank(client);
        market.challenge(_ids(dealId), client);
        uint256 seedBlock = block.number + 1;
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedNotReady.selector, dealId, seedBlock)
        );
        market.fixAuditSeeds(_ids(dealId));
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedStillReadable.selector, dealId, seedBlock)
        );
        market.lapseChallenge(dealId);
        vm.expectRevert(
            abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedNotReady.selector, dealId, seedBlock)
        );
        market.auditLeafIndex(dealId);
    }

    function testHostAnswerFixesAnUnfixedSeed() public {
        uint256 dealId = _activeDeal();
        _challengeUnfixed(dealId, stranger, SEED);
        vm.assertEq(market.auditInfo(dealId).deadline, 0);
        _answer(dealId);
        vm.assertEq(market.auditInfo(dealId).challenger, address(0));
        vm.assertEq(market.reputation(host).auditsPassed, 1);
    }

    function testLapseChallengeWithoutAudit() public {
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketNoOpenAudit.selector, 4));
        market.lapseChallenge(4);
    }

    function testFinalizeNeedsAFixedSeed() public {
        uint256 dealId = _activeDeal();
        _challengeUnfixed(dealId, client, SEED);
        vm.warp(block.timestamp + 10 * AUDIT_WINDOW);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketAuditSeedNotFixed.selector, dealId));
        market.finalizeMissedAudit(dealId);
    }

    function testFixAuditSeedWithoutAudit() public {
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketNoOpenAudit.selector, 9));
        market.fixAuditSeeds(_ids(9));
    }

    function testFinalizeMissedAuditSlashesForClient() public {
        uint256 dealId = _activeDeal();
        uint256 start = block.timestamp;
        // A first audit is answered after 2 days: that part stays the host's.
        vm.warp(start + 2 days);
        _challenge(dealId, client, SEED);
        _answer(dealId);
        uint256 earned = PRICE * 2 days / DURATION;

        vm.warp(start + 3 days);
        _challenge(dealId, stranger, keccak256("second"));
        uint256 deadline = block.timestamp + AUDIT_WINDOW;
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketAuditWindowOpen.selector, dealId, deadline));
        market.finalizeMissedAudit(dealId);

        vm.warp(deadline + 1);
        uint256 slashed = PRICE * COLLATERAL_BPS / 10_000;
        uint256 fee = earned * FEE_BPS / 10_000;
        vm.expectEmit(address(market));
        emit IStorageMarket.AuditMissed(dealId, stranger, slashed, PRICE - earned, earned, CHALLENGE_BOND);
        vm.prank(stranger);
        market.finalizeMissedAudit(dealId);

        // The client paid the first audit's bond to the host; the stranger's bond came back.
        vm.assertEq(token.balanceOf(client), 1_000 ether - earned + slashed - CHALLENGE_BOND);
        vm.assertEq(token.balanceOf(stranger), 1_000 ether);
        vm.assertEq(token.balanceOf(host), 1_000 ether - MIN_STAKE + earned - fee + CHALLENGE_BOND);
        vm.assertEq(token.balanceOf(treasury), fee);
        vm.assertEq(token.balanceOf(address(market)), MIN_STAKE - slashed);
        IStorageMarket.HostInfo memory h = market.hostInfo(host);
        vm.assertEq(h.stake, MIN_STAKE - slashed);
        vm.assertEq(h.lockedCollateral, 0);
        vm.assertEq(h.activeDeals, 0);
        vm.assertEq(h.usedBytes, 0);
        IStorageMarket.Reputation memory r = market.reputation(host);
        vm.assertEq(r.auditsPassed, 1);
        vm.assertEq(r.auditsFailed, 1);
        vm.assertEq(r.timesSlashed, 1);
        vm.assertEq(r.dealsCompleted, 0);
        vm.assertEq(uint256(market.dealInfo(dealId).status), uint256(IStorageMarket.DealStatus.Slashed));
        vm.assertEq(market.auditInfo(dealId).challenger, address(0));
    }

    function testFinalizeWithoutAudit() public {
        uint256 dealId = _activeDeal();
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketNoOpenAudit.selector, dealId));
        market.finalizeMissedAudit(dealId);
    }

    // ------------------------------------------------------------------ settlement

    function testEndDealEarlyRefundsProRata() public {
        uint256 dealId = _activeDeal();
        uint256 start = block.timestamp;
        vm.warp(start + 4 days);
        uint256 hostGross = PRICE * 4 days / DURATION;
        uint256 fee = hostGross * FEE_BPS / 10_000;
        vm.expectEmit(address(market));
        emit IStorageMarket.DealEnded(dealId, hostGross, PRICE - hostGross, 0);
        vm.expectEmit(address(market));
        emit IStorageMarket.HostPaid(dealId, host, hostGross - fee, fee);
        vm.prank(client);
        market.endDeals(_ids(dealId));
        vm.assertEq(token.balanceOf(client), 1_000 ether - hostGross);
        vm.assertEq(token.balanceOf(host), 1_000 ether - MIN_STAKE + hostGross - fee);
        vm.assertEq(token.balanceOf(treasury), fee);
        vm.assertEq(uint256(market.dealInfo(dealId).status), uint256(IStorageMarket.DealStatus.Ended));
        vm.assertEq(market.hostInfo(host).activeDeals, 0);
    }

    function testEndDealErrors() public {
        uint256 dealId = _activeDeal();
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketNotDealClient.selector, dealId, host));
        vm.prank(host);
        market.endDeals(_ids(dealId));

        uint256 endsAt = block.timestamp + DURATION;
        vm.warp(endsAt);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketDealExpired.selector, dealId, endsAt));
        vm.prank(client);
        market.endDeals(_ids(dealId));

        vm.expectRevert(
            abi.encodeWithSelector(
                IStorageMarket.StorageMarketUnexpectedDealStatus.selector, 5, IStorageMarket.DealStatus.None
            )
        );
        vm.prank(client);
        market.endDeals(_ids(5));
    }

    function testCompleteDealPaysOut() public {
        uint256 dealId = _activeDeal();
        vm.warp(block.timestamp + DURATION);
        uint256 fee = PRICE * FEE_BPS / 10_000;
        vm.expectEmit(address(market));
        emit IStorageMarket.DealCompleted(dealId, PRICE);
        vm.prank(stranger);
        market.completeDeal(dealId);
        vm.assertEq(token.balanceOf(host), 1_000 ether - MIN_STAKE + PRICE - fee);
        vm.assertEq(token.balanceOf(treasury), fee);
        vm.assertEq(market.reputation(host).dealsCompleted, 1);
        vm.assertEq(uint256(market.dealInfo(dealId).status), uint256(IStorageMarket.DealStatus.Completed));
        vm.assertEq(market.hostInfo(host).usedBytes, 0);
    }

    function testCompleteDealErrors() public {
        uint256 dealId = _activeDeal();
        uint256 endsAt = block.timestamp + DURATION;
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketDealNotFinished.selector, dealId, endsAt));
        market.completeDeal(dealId);

        vm.warp(endsAt - 1);
        vm.prank(stranger);
        market.challenge(_ids(dealId), stranger);
        vm.warp(endsAt);
        vm.expectRevert(abi.encodeWithSelector(IStorageMarket.StorageMarketAuditOpen.selector, dealId));
        market.completeDeal(dealId);

        vm.expectRevert(
            abi.encodeWithSelector(
                IStorageMarket.StorageMarketUnexpectedDealStatus.selector, 4, IStorageMarket.DealStatus.None
            )
        );
        market.completeDeal(4);
    }

    function testClaimEarnings() public {
        uint256 dealId = _activeDeal();
        vm.expectRevert(IStorageMarket.StorageMarketNothingToClaim.selector);
        market.claimEarnings(_ids(dealId));

        vm.warp(block.timestamp + 5 days);
        _challenge(dealId, client, SEED);
        _answer(dealId);
        uint256 earned = market.dealInfo(dealId).earned;
        uint256 fee = earned * FEE_BPS / 10_000;
        vm.expectEmit(address(market));
        emit IStorageMarket.HostPaid(dealId, host, earned - fee, fee);
        vm.prank(stranger);
        market.claimEarnings(_ids(dealId));
        vm.assertEq(token.balanceOf(host), 1_000 ether - MIN_STAKE + CHALLENGE_BOND + earned - fee);
        vm.assertEq(market.dealInfo(dealId).claimed, earned);

        // At completion only the unclaimed rest is paid.
        vm.warp(block.timestamp + DURATION);
        market.completeDeal(dealId);
        uint256 rest = PRICE - earned;
        vm.assertEq(
            token.balanceOf(host),
            1_000 ether - MIN_STAKE + CHALLENGE_BOND + earned - fee + rest - rest * FEE_BPS / 10_000
        );

        vm.expectRevert(
            abi.encodeWithSelector(
                IStorageMarket.StorageMarketUnexpectedDealStatus.selector, dealId, IStorageMarket.DealStatus.Completed
            )
        );
        market.claimEarnings(_ids(dealId));
    }

    function testFeeIsFixedAtAcceptance() public {
        uint256 dealId = _activeDeal();
        IStorageMarket.Parameters memory p = defaultParameters();
        p.protocolFeeBps = 2_000;
        vm.prank(governance);
        market.setParameters(p);
        vm.warp(block.timestamp + DURATION);
        market.completeDeal(dealId);
        vm.assertEq(token.balanceOf(treasury), PRICE * FEE_BPS / 10_000);
    }

    // ------------------------------------------------------------------ helpers

    function _expectedStructHash(uint256 dealId, address c, IStorageMarket.DealTerms memory t)
        internal
        pure
        returns (bytes32)
    {
        return keccak256(
            abi.encode(
                keccak256(
                    "StorageReceipt(uint256 dealId,address client,address host,bytes manifestCid,uint32 shardIndex,"
                    "uint64 shardSizeBytes,bytes32 shardRoot,uint64 durationSeconds,uint256 price,uint64 acceptBy)"
                ),
                dealId,
                c,
                t.host,
                keccak256(t.manifestCid),
                t.shardIndex,
                t.shardSizeBytes,
                t.shardRoot,
                t.durationSeconds,
                t.price,
                t.acceptBy
            )
        );
    }
}
