// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {IOperatorRegistry} from "./interfaces/IOperatorRegistry.sol";

/// @title OperatorRegistry
/// @notice One registry of operator keys for every Tabula contract (see {IOperatorRegistry}). Filecoin's
/// owner/worker addresses and Livepeer's orchestrator keys are the same idea: the owner keeps the money, the operator
/// does the routine work of one role.
contract OperatorRegistry is IOperatorRegistry {
    /// @notice A storage host's tab: signs receipts σ and answers audits for its owner.
    uint8 public constant ROLE_HOST = 1;
    /// @notice A storage client's tab: challenges the owner's deals (the challenge bond comes from the owner).
    uint8 public constant ROLE_CLIENT = 2;
    /// @notice A payer's tab: signs usage units and lottery tickets, closes and reveals for its owner.
    uint8 public constant ROLE_PAYER = 4;
    /// @notice A payee's tab: countersigns usage units, confirms, claims and registers tickets for its owner.
    uint8 public constant ROLE_PAYEE = 8;
    uint8 private constant _ALL_ROLES = ROLE_HOST | ROLE_CLIENT | ROLE_PAYER | ROLE_PAYEE;

    mapping(address owner => mapping(address operator => Authorization)) private _authorizations;

    /// @inheritdoc IOperatorRegistry
    function setOperator(address operator, uint8 roles, uint40 expiresAt) external {
        if (operator == address(0)) revert OperatorRegistryZeroAddress();
        if (operator == msg.sender) revert OperatorRegistrySelf(msg.sender);
        if (roles & ~_ALL_ROLES != 0) revert OperatorRegistryUnknownRoles(roles);
        if (roles == 0) {
            delete _authorizations[msg.sender][operator];
            emit OperatorSet(msg.sender, operator, 0, 0);
            return;
        }
        if (expiresAt <= block.timestamp) revert OperatorRegistryExpiryInPast(expiresAt, block.timestamp);
        _authorizations[msg.sender][operator] = Authorization({roles: roles, expiresAt: expiresAt});
        emit OperatorSet(msg.sender, operator, roles, expiresAt);
    }

    /// @inheritdoc IOperatorRegistry
    function authorization(address owner, address operator) external view returns (Authorization memory) {
        return _authorizations[owner][operator];
    }

    /// @inheritdoc IOperatorRegistry
    function actsFor(address owner, address account, uint8 role) external view returns (bool) {
        if (account == owner) return true;
        Authorization storage a = _authorizations[owner][account];
        return a.roles & role != 0 && block.timestamp < a.expiresAt;
    }
}
