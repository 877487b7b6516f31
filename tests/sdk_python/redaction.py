"""Keep secrets out of test output.

Tokens, login codes and key secrets must never be printed, not even by a failing assertion:
pytest shows the values in an assertion, so secrets are compared through :class:`Secret`
(whose repr is a digest) or checked by functions that raise their own, value-free message.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping

import httpx

KEY_SECRET = re.compile(r"nl_live_[0-9a-f]{64}")


class Secret:
    """A secret value that compares by value and shows only a digest."""

    def __init__(self, value: str) -> None:
        self.value = value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and hmac.compare_digest(self.value, other.value)

    def __hash__(self) -> int:
        return hash(self.value)

    def __repr__(self) -> str:
        return f"<secret sha256:{hashlib.sha256(self.value.encode()).hexdigest()[:12]}>"


def redact(values: Mapping[str, object]) -> dict[str, Secret]:
    """Cookie values (or a stored session entry) as comparable, printable secrets."""
    return {
        name: Secret(value["value"] if isinstance(value, Mapping) else str(value))
        for name, value in values.items()
    }


def expect(condition: bool, message: str) -> None:
    """An assertion about a secret: fails with ``message`` only, never with the values."""
    if not condition:
        raise AssertionError(message)


def expect_key_secret(value: object) -> None:
    expect(isinstance(value, str) and KEY_SECRET.fullmatch(value) is not None, "not a key secret")


def me_status(base_url: str, cookies: Mapping[str, Secret]) -> int:
    """Ask the server directly, without the SDK, whether these cookies still authenticate."""
    header = "; ".join(f"{name}={secret.value}" for name, secret in cookies.items())
    return httpx.get(f"{base_url}/v1/auth/me", headers={"Cookie": header}).status_code
