"""Real wallet keys for tests, signing the way wallets do.

EVM keys sign with eth-keys' pure-Python backend, so the tests do not share code with the
libsecp256k1 recovery the server uses; Solana keys sign with ``cryptography``'s ed25519.
"""

from __future__ import annotations

import base64
import os

import base58
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from eth_keys.backends.native.main import NativeECCBackend
from eth_keys.main import KeyAPI
from eth_utils.crypto import keccak

_ETH = KeyAPI(NativeECCBackend)
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SOLANA_ENCODINGS = (
    "hex",
    "base58",
    "base64",
    "base64-unpadded",
    "base64url",
    "base64url-unpadded",
)


def personal_sign_digest(message: str) -> bytes:
    data = message.encode("utf-8")
    return keccak(b"\x19Ethereum Signed Message:\n" + str(len(data)).encode() + data)


class EvmWallet:
    """A secp256k1 key; ``address`` is its EIP-55 (mixed-case) address."""

    chain = "evm"

    def __init__(self, secret: bytes | None = None) -> None:
        self._key = _ETH.PrivateKey(secret or os.urandom(32))
        self.address: str = self._key.public_key.to_checksum_address()

    def raw_signature(self, message: str) -> bytes:
        """65 bytes R || S || V with V in {0, 1}."""
        signed: bytes = self._key.sign_msg_hash(personal_sign_digest(message)).to_bytes()
        return signed

    def sign(
        self, message: str, *, v27: bool = True, prefix: bool = True, upper: bool = False
    ) -> str:
        raw = self.raw_signature(message)
        if v27:
            raw = raw[:64] + bytes([raw[64] + 27])
        text = raw.hex().upper() if upper else raw.hex()
        return "0x" + text if prefix else text


def encode_signature(raw: bytes, encoding: str) -> str:
    """Spell a Solana signature in one of ``SOLANA_ENCODINGS``."""
    if encoding == "hex":
        return raw.hex()
    if encoding == "base58":
        return base58.b58encode(raw).decode()
    url = encoding.startswith("base64url")
    text = (base64.urlsafe_b64encode if url else base64.b64encode)(raw).decode()
    return text.rstrip("=") if encoding.endswith("-unpadded") else text


class SolanaWallet:
    """An ed25519 key; ``address`` is the base58 public key."""

    chain = "solana"

    def __init__(self, seed: bytes | None = None) -> None:
        self._key = Ed25519PrivateKey.from_private_bytes(seed or os.urandom(32))
        self.address = base58.b58encode(self._key.public_key().public_bytes_raw()).decode()

    def raw_signature(self, message: str) -> bytes:
        return self._key.sign(message.encode("utf-8"))

    def sign(self, message: str, encoding: str = "base58") -> str:
        return encode_signature(self.raw_signature(message), encoding)
