// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {PaymentFunding} from "../../libraries/PaymentFunding.sol";
import {Token} from "../../Token.sol";
import {Vm} from "./Vm.sol";

/// @dev EIP-2612 permits signed with a test key, as a wallet signs them for the tab.
library Permits {
    Vm private constant VM = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));
    bytes32 private constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    /// @dev `key`'s permit letting `spender` take `value` of `token` until `deadline`, at the owner's next nonce.
    function sign(Token token, uint256 key, address spender, uint256 value, uint256 deadline)
        internal
        view
        returns (uint8 v, bytes32 r, bytes32 s)
    {
        address owner = VM.addr(key);
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, owner, spender, value, token.nonces(owner), deadline));
        return VM.sign(key, keccak256(abi.encodePacked(hex"1901", token.DOMAIN_SEPARATOR(), structHash)));
    }

    /// @dev The same permit for an hour, as a payment contract's `...WithPermit` functions take it.
    function funding(Token token, uint256 key, address spender, uint256 value)
        internal
        view
        returns (PaymentFunding.Permit memory)
    {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = sign(token, key, spender, value, deadline);
        return PaymentFunding.Permit(value, deadline, v, r, s);
    }
}
