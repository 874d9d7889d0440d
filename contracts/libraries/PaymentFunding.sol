// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";

/// @title Permit helper shared by the payment contracts
/// @notice Lets a payer approve and fund in one transaction with an EIP-2612 signature.
library PaymentFunding {
    /// @notice An EIP-2612 permit: the owner's signature approving `value` until `deadline`.
    struct Permit {
        uint256 value;
        uint256 deadline;
        uint8 v;
        bytes32 r;
        bytes32 s;
    }

    /// @dev Applies `permit` for `owner` → `spender`. A failing permit is ignored on purpose: anyone who saw the
    /// signature in the mempool may have used it first, and the allowance it set is then already in place. If it
    /// is not, the transfer that follows fails with the token's own allowance error.
    function applyPermit(address token, address owner, address spender, Permit calldata permit) internal {
        try IERC20Permit(token).permit(owner, spender, permit.value, permit.deadline, permit.v, permit.r, permit.s) {}
            catch {}
    }
}
