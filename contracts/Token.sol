// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Burnable} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Burnable.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";

/// @title Tabula token (TAB)
/// @notice The platform's ERC-20: storage deals and bandwidth are paid in it, hosts stake it, holders vote with it.
/// Supports EIP-2612 permit so one signature approves a payment, ERC20Votes for governance, and burning
/// (`burn`, `burnFrom`): burned tokens leave the total supply.
/// A faucet exists only when the deployment enables it (local chains), with a per-call cap.
contract Token is ERC20, ERC20Burnable, ERC20Permit, ERC20Votes {
    /// @notice Largest amount one faucet call may mint.
    uint256 public constant FAUCET_MAX = 10_000 ether;

    bool private immutable _faucetEnabled;

    /// @dev The faucet was called on a deployment that disabled it.
    error TokenFaucetDisabled();
    /// @dev The faucet was asked for more than {FAUCET_MAX}.
    error TokenFaucetAmountTooLarge(uint256 requested, uint256 max);

    /// @param initialHolder receives `initialSupply`.
    /// @param faucetOn whether {faucet} may mint (true only on local chains).
    constructor(address initialHolder, uint256 initialSupply, bool faucetOn)
        ERC20("Tabula", "TAB")
        ERC20Permit("Tabula")
    {
        _faucetEnabled = faucetOn;
        _mint(initialHolder, initialSupply);
    }

    /// @notice Whether this deployment has a faucet.
    function faucetEnabled() external view returns (bool) {
        return _faucetEnabled;
    }

    /// @notice Mints `amount` to `to` on deployments with a faucet (local chains only).
    function faucet(address to, uint256 amount) external {
        if (!_faucetEnabled) revert TokenFaucetDisabled();
        if (amount > FAUCET_MAX) revert TokenFaucetAmountTooLarge(amount, FAUCET_MAX);
        _mint(to, amount);
    }

    /// @dev Votes use timestamps, so governance periods are in seconds on every chain.
    function clock() public view override returns (uint48) {
        return uint48(block.timestamp);
    }

    /// @dev See {clock}.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}
