"""Secrets and their hashes: the one place that decides token sizes and hash functions."""

from __future__ import annotations

import hashlib
import hmac
import secrets

TOKEN_BYTES = 32  # 256 bits from the OS CSPRNG, as the contract requires
TOKEN_LENGTH = 43  # len(base64url(32 bytes)) without padding
_TOKEN_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(value: str) -> bool:
    """Cheap shape check so that garbage cookies never reach the database."""
    return len(value) == TOKEN_LENGTH and _TOKEN_ALPHABET.issuperset(value)


def sha256(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def new_login_code() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def login_code_mac(secret_key: bytes, request_id: str, code: str) -> bytes:
    """HMAC of the code bound to its request, so a database dump alone reveals no codes."""
    return hmac.new(secret_key, f"{request_id}:{code}".encode(), hashlib.sha256).digest()


def new_api_key_secret() -> str:
    return "nl_live_" + secrets.token_hex(32)


def api_key_prefix(secret: str) -> str:
    return secret[:16]  # "nl_live_" + the first 8 hex characters


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two client-supplied strings."""
    return hmac.compare_digest(a.encode(), b.encode())


def same_digest(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
