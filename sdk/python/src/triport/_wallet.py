"""Signers for ``console.auth.wallet.sign_in``.

They are duck-typed, so the SDK imports neither eth-account nor PyNaCl: an ``eth_account``
``LocalAccount`` (``Account.create()``, ``Account.from_key(...)``) is an :class:`EvmSigner`, a
PyNaCl ``nacl.signing.SigningKey`` is a :class:`SolanaSigner`, and anything else (a hardware
wallet, a KMS) can be wrapped in a :class:`Wallet`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, Protocol, runtime_checkable

Chain = Literal["evm", "solana"]
_BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


class SignableMessage(NamedTuple):
    """The three parts of an EIP-191 message, as ``eth_account.messages.SignableMessage``."""

    version: bytes
    header: bytes
    body: bytes


def personal_sign_message(text: str) -> SignableMessage:
    """What ``personal_sign`` signs (EIP-191 version ``E``), as ``encode_defunct(text=...)``."""
    body = text.encode("utf-8")
    return SignableMessage(b"E", b"thereum Signed Message:\n" + str(len(body)).encode(), body)


@runtime_checkable
class EvmSigner(Protocol):
    """An Ethereum account that signs EIP-191 messages, such as eth-account's LocalAccount."""

    @property
    def address(self) -> str: ...

    def sign_message(self, signable_message: Any) -> Any:
        """Returns an object whose ``signature`` is the 65 bytes R || S || V."""
        ...


@runtime_checkable
class SolanaSigner(Protocol):
    """An ed25519 key such as PyNaCl's SigningKey: ``bytes(verify_key)`` is the public key."""

    @property
    def verify_key(self) -> Any: ...

    def sign(self, message: bytes) -> Any:
        """Returns an object whose ``signature`` is the 64-byte ed25519 signature."""
        ...


@dataclass(frozen=True)
class Wallet:
    """Any other signer: ``sign`` gets the exact message text and returns the signature as the
    server accepts it (EVM: 65-byte hex; Solana: 64 bytes as hex, base58 or base64)."""

    chain: Chain
    address: str
    sign: Callable[[str], str]


WalletSigner = EvmSigner | SolanaSigner | Wallet


class WalletMessageError(ValueError):
    """The server's message is not a sign-in for this signer; nothing was signed."""


def as_wallet(signer: WalletSigner) -> Wallet:
    """Bring a supported signer to one shape: chain, address and a text signer."""
    if isinstance(signer, Wallet):
        return signer
    if isinstance(signer, EvmSigner):
        evm = signer

        def sign_evm(text: str) -> str:
            signature = bytes(evm.sign_message(personal_sign_message(text)).signature)
            return "0x" + signature.hex()

        return Wallet("evm", evm.address, sign_evm)
    if isinstance(signer, SolanaSigner):
        solana = signer

        def sign_solana(text: str) -> str:
            return base58(bytes(solana.sign(text.encode("utf-8")).signature))

        return Wallet("solana", base58(bytes(solana.verify_key)), sign_solana)
    raise TypeError(
        "signer must be an EVM account with address and sign_message (eth-account), "
        "an ed25519 key with verify_key and sign (PyNaCl), or a triport.Wallet"
    )


def check_message(wallet: Wallet, nonce: str, message: str, domain: str | None) -> None:
    """Refuse to sign anything but a standard sign-in for this address and this challenge.

    ``domain`` (the console's host) is what a browser wallet compares with the page; a script
    has no page, so it checks the domain it was told to expect, when it was told one.
    """
    account = "Ethereum" if wallet.chain == "evm" else "Solana"
    lines = message.split("\n")
    first = f" wants you to sign in with your {account} account:"
    if len(lines) < 3 or not lines[0].endswith(first):
        raise WalletMessageError(f"the server's message is not a {account} sign-in message")
    if domain is not None and lines[0] != domain + first:
        raise WalletMessageError(f"the sign-in message is for {lines[0][: -len(first)]!r}")
    if wallet.chain == "evm":  # EIP-55 in the message; the signer may spell it in any case
        names_address = lines[1].lower() == wallet.address.lower()
    else:
        names_address = lines[1] == wallet.address
    if not names_address:
        raise WalletMessageError("the sign-in message names another address")
    if f"Nonce: {nonce.replace('-', '')}" not in lines:
        raise WalletMessageError("the sign-in message carries another nonce")


def base58(data: bytes) -> str:
    """Bitcoin-alphabet base58, the spelling of Solana addresses (a few lines, no dependency)."""
    value = int.from_bytes(data, "big")
    out = ""
    while value:
        value, digit = divmod(value, 58)
        out = _BASE58[digit] + out
    return "1" * (len(data) - len(data.lstrip(b"\0"))) + out
