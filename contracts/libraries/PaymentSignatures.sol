// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title Signature checks shared by the payment contracts
/// @notice Recovers EIP-712 signers from 65-byte (r, s, v) signatures only.
/// @dev The 65-byte rule is enforced here, not left to the library: OpenZeppelin marks its rejection of 64-byte
/// (EIP-2098) signatures as deprecated, and a payment signature must have exactly one valid encoding so that no
/// second form of the same voucher can ever be produced. High-s and invalid-v signatures are refused by {ECDSA}.
library PaymentSignatures {
    /// @notice Length of the only accepted signature encoding: r (32) ‖ s (32) ‖ v (1).
    uint256 internal constant SIGNATURE_LENGTH_BYTES = 65;

    /// @dev Returns the signer of `digest`; reverts with the {ECDSA} custom errors for any other encoding,
    /// a high `s`, a bad `v` or an unrecoverable signature.
    function recover(bytes32 digest, bytes calldata signature) internal pure returns (address) {
        if (signature.length != SIGNATURE_LENGTH_BYTES) revert ECDSA.ECDSAInvalidSignatureLength(signature.length);
        return ECDSA.recoverCalldata(digest, signature);
    }
}
