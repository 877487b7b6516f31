"""Wallet sign-in primitives: address canonicalisation, challenge text, signature checks.

Plain functions with no web framework and no store, so the rules of spec 2.5/2.6 can be
tested directly. Curve arithmetic comes from well-kept libraries (libsecp256k1 through
``coincurve``, ed25519 through ``cryptography``); nothing here does point maths itself.
"""

from __future__ import annotations

import base64
import re
from datetime import datetime, timedelta
from typing import Final, Literal

import base58
import coincurve
from Crypto.Hash import keccak
from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from .errors import DomainError

Chain = Literal["evm", "solana"]
CHAINS: Final[tuple[Chain, ...]] = ("evm", "solana")
# Spec 2.5: a nonce lives five minutes.
CHALLENGE_LIFETIME: Final = timedelta(minutes=5)

_EVM_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_HEX = re.compile(r"(?:0[xX])?([0-9a-fA-F]*)")
# Longer inputs cannot be a 32-byte key or a 64/65-byte signature in any accepted encoding;
# the bound also keeps base58 decoding (quadratic in length) cheap.
_MAX_ADDRESS_CHARS: Final = 64
_MAX_SIGNATURE_CHARS: Final = 200


class InvalidAddress(DomainError):
    """Unknown chain, or an address that is not well-formed for its chain."""

    code = "invalid_address"


class InvalidSignature(DomainError):
    """Malformed or undecodable signature, or one that does not verify (ed25519)."""

    code = "invalid_signature"


class AddressMismatch(DomainError):
    """The EVM signature is valid but was made by another address."""

    code = "address_mismatch"


class InvalidNonce(DomainError):
    """The challenge is unknown, expired or already used (burned at the first success)."""

    code = "invalid_nonce"


def parse_chain(value: object) -> Chain:
    for chain in CHAINS:
        if value == chain:
            return chain
    raise InvalidAddress("chain must be 'evm' or 'solana'")


def canonical_address(chain: object, address: object) -> str:
    """Return the one spelling of ``address`` that identities and challenges are keyed on.

    EVM addresses are case-insensitive (EIP-55 case is only a checksum), so lower-case is
    canonical. A Solana address is re-encoded from its 32 decoded bytes.
    """
    checked = parse_chain(chain)
    if not isinstance(address, str) or len(address) > _MAX_ADDRESS_CHARS:
        raise InvalidAddress("address must be a short string")
    if checked == "evm":
        if _EVM_ADDRESS.fullmatch(address) is None:
            raise InvalidAddress("an EVM address is 0x followed by 40 hex digits")
        return address.lower()
    return base58.b58encode(_solana_public_key(address)).decode("ascii")


def challenge_message(
    domain: str,
    chain: Chain,
    address: str,
    nonce: str,
    issued_at: datetime,
    expires_at: datetime,
) -> str:
    """Build the human-readable text the wallet signs, modelled on EIP-4361 (SIWE).

    The user sees which site asks, for which account, and until when; the nonce binds the
    signature to one challenge row. Clients must sign these exact bytes.
    """
    account = "Ethereum" if chain == "evm" else "Solana"
    return (
        f"{domain} wants you to sign in with your {account} account:\n"
        f"{address}\n"
        "\n"
        "Sign in to the Triport console. This request will not trigger a blockchain "
        "transaction or cost any fees.\n"
        "\n"
        f"Nonce: {nonce}\n"
        f"Issued At: {rfc3339(issued_at)}\n"
        f"Expiration Time: {rfc3339(expires_at)}"
    )


def rfc3339(moment: datetime) -> str:
    """Format an aware datetime as RFC 3339 UTC with ``Z`` (second precision, as SIWE shows)."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("timestamp must be timezone-aware")
    return (moment - offset).strftime("%Y-%m-%dT%H:%M:%SZ")


def verify_signature(chain: str, address: str, message: str, signature: object) -> None:
    """Check that ``signature`` over ``message`` was made by ``address`` (canonical form).

    Returns nothing on success; raises ``InvalidSignature`` or ``AddressMismatch``.
    """
    checked = parse_chain(chain)
    if not isinstance(signature, str) or len(signature) > _MAX_SIGNATURE_CHARS:
        raise InvalidSignature("signature must be a short string")
    if checked == "evm":
        _verify_evm(address, message.encode("utf-8"), signature)
    else:
        _verify_solana(address, message.encode("utf-8"), signature)


def _keccak256(data: bytes) -> bytes:
    return keccak.new(digest_bits=256, data=data).digest()


def personal_sign_hash(message: bytes) -> bytes:
    """EIP-191 version 0x45 hash, the one ``personal_sign`` wallets sign."""
    prefix = b"\x19Ethereum Signed Message:\n" + str(len(message)).encode("ascii")
    return _keccak256(prefix + message)


_SECP256K1_HALF_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141 // 2


def _verify_evm(address: str, message: bytes, signature: str) -> None:
    match = _HEX.fullmatch(signature)
    if match is None or len(match.group(1)) != 130:
        raise InvalidSignature("an EVM signature is 65 bytes of hex (R || S || V)")
    raw = bytes.fromhex(match.group(1))
    # EIP-2 / Bitcoin BIP-62 "low S": every real wallet signs with S <= n/2. The high-S twin of
    # a valid signature is the same signature made malleable; it is refused, so one signature
    # has exactly one accepted spelling (the nonce is single-use either way).
    if int.from_bytes(raw[32:64], "big") > _SECP256K1_HALF_N:
        raise InvalidSignature("S must be in the lower half of the curve order (EIP-2)")
    v = raw[64]
    if v in (27, 28):
        v -= 27
    if v not in (0, 1):
        raise InvalidSignature("V must be 27, 28, 0 or 1")
    try:
        public_key = coincurve.PublicKey.from_signature_and_message(
            raw[:64] + bytes([v]), personal_sign_hash(message), hasher=None
        )
    except ValueError as exc:  # r or s out of range, or no point recovers
        raise InvalidSignature("the EVM signature does not recover a public key") from exc
    recovered = "0x" + _keccak256(public_key.format(compressed=False)[1:])[-20:].hex()
    if recovered != address.lower():
        raise AddressMismatch("the signature was made by another address")


def _solana_public_key(address: str) -> bytes:
    try:
        key = base58.b58decode(address.encode("ascii"))
    except (ValueError, UnicodeEncodeError) as exc:
        raise InvalidAddress("a Solana address is base58") from exc
    if len(key) != 32:
        raise InvalidAddress("a Solana address decodes to a 32-byte public key")
    return key


def solana_signature_candidates(signature: str) -> list[bytes]:
    """Every 64-byte reading of ``signature``, in the documented order.

    Order: hex (optionally ``0x``), base58, base64 (standard or URL-safe, padding optional).
    A few strings are valid in more than one encoding (an 86-character base58 string is also
    unpadded base64), so all readings are kept and the caller accepts the signature if any
    reading verifies. That does not weaken the check: each reading is still a full ed25519
    signature that only the key holder can produce.
    """
    readings = (_from_hex(signature), _from_base58(signature), _from_base64(signature))
    candidates: list[bytes] = []
    for raw in readings:
        if raw is not None and len(raw) == 64 and raw not in candidates:
            candidates.append(raw)
    return candidates


def _from_hex(text: str) -> bytes | None:
    match = _HEX.fullmatch(text)
    if match is None or len(match.group(1)) % 2:
        return None
    return bytes.fromhex(match.group(1))


def _from_base58(text: str) -> bytes | None:
    try:
        return base58.b58decode(text.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        return None


def _from_base64(text: str) -> bytes | None:
    if ("+" in text or "/" in text) and ("-" in text or "_" in text):
        return None  # mixing both alphabets is no encoding at all
    stripped = text.rstrip("=")
    if len(text) - len(stripped) > 2:
        return None
    body = stripped.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except ValueError:  # binascii.Error, or non-ASCII text
        return None


def _verify_solana(address: str, message: bytes, signature: str) -> None:
    candidates = solana_signature_candidates(signature)
    if not candidates:
        raise InvalidSignature("a Solana signature is 64 bytes as hex, base58 or base64")
    public_key = Ed25519PublicKey.from_public_bytes(_solana_public_key(address))
    for raw in candidates:
        try:
            public_key.verify(raw, message)
        except _CryptoInvalidSignature:
            continue
        return
    raise InvalidSignature("the ed25519 signature does not verify")
