// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title Tabula operator keys
/// @notice An owner (the address that holds stake, deposits and earnings: a browser wallet) authorizes an operator
/// (a key its tab keeps) for some roles until an expiry, so the tab signs receipts, audit answers, usage units and
/// tickets and sends routine transactions without a wallet prompt. Tokens only ever move to or from the owner.
/// Revocation is immediate for anything checked afterwards; what a contract already bound to an operator (a
/// channel's or lot's signer, an accepted receipt) stays bound, so revoking never voids a signature someone was paid
/// with.
interface IOperatorRegistry {
    /// @notice An authorization: the roles it grants (a bit set of the ROLE_* constants) and when it ends.
    struct Authorization {
        uint8 roles;
        uint40 expiresAt;
    }

    /// @notice `owner` gave `operator` `roles` until `expiresAt`; `roles == 0` is a revocation.
    event OperatorSet(address indexed owner, address indexed operator, uint8 roles, uint256 expiresAt);

    error OperatorRegistryZeroAddress();
    error OperatorRegistrySelf(address owner);
    error OperatorRegistryUnknownRoles(uint8 roles);
    error OperatorRegistryExpiryInPast(uint256 expiresAt, uint256 nowSeconds);

    /// @notice Authorizes `operator` for `roles` until `expiresAt`, replacing what it had; `roles == 0` revokes it.
    function setOperator(address operator, uint8 roles, uint40 expiresAt) external;

    /// @notice What `owner` granted `operator` (zero if nothing, or revoked; it may have expired).
    function authorization(address owner, address operator) external view returns (Authorization memory);

    /// @notice True if `account` is `owner` itself, or an operator `owner` authorized for `role` that has not expired.
    function actsFor(address owner, address account, uint8 role) external view returns (bool);
}
