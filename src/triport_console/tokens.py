"""Secrets and their hashes: the one place that decides token sizes and hash functions."""

from __future__ import annotations

import hashlib
import hmac
import re
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


# Spec 2.8: a key secret is "nl_live_" + 64 lower-case hex characters; the prefix shown in
# listings is "nl_live_" + the first 8 of them. The OpenAPI document uses these same patterns.
API_KEY_MARK = "nl_live_"
API_KEY_HEX = 64
API_KEY_PREFIX_HEX = 8
API_KEY_PATTERN = f"{API_KEY_MARK}[0-9a-f]{{{API_KEY_HEX}}}"
API_KEY_PREFIX_PATTERN = f"{API_KEY_MARK}[0-9a-f]{{{API_KEY_PREFIX_HEX}}}"
_API_KEY = re.compile(API_KEY_PATTERN)
# Canonical (lower-case, hyphenated) UUIDs, as the ids in paths are compared.
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def new_api_key_secret() -> str:
    return API_KEY_MARK + secrets.token_hex(API_KEY_HEX // 2)


def api_key_prefix(secret: str) -> str:
    return secret[: len(API_KEY_MARK) + API_KEY_PREFIX_HEX]


def is_api_key_secret(value: str) -> bool:
    return _API_KEY.fullmatch(value) is not None


def new_uuid() -> str:
    """A random (version 4) UUID as text, exactly what `str(uuid.uuid4())` gives, in half the
    time (no UUID object, no integer round trip): every sign-out writes one as its event's id."""
    raw = bytearray(secrets.token_bytes(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # RFC 4122 variant
    text = raw.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def is_uuid(value: str) -> bool:
    return _UUID.fullmatch(value) is not None


def same(a: str, b: str) -> bool:
    """Constant-time comparison of two client-supplied strings."""
    return hmac.compare_digest(a.encode(), b.encode())


def same_digest(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(a, b)
