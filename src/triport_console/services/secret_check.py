"""One secret per deployment (spec §2.13).

`TRIPORT_SECRET_KEY` keys the login-code HMACs, so processes on one database with different
secrets reject each other's codes, silently. The first process to start records a fingerprint of
its secret in the database, HMAC-SHA256(secret, a fixed label): it identifies the secret without
revealing it (with a secret of at least 32 random characters, as required, it cannot be guessed
back from the fingerprint). Every later start compares, in constant time, and a mismatch stops
the process with one line naming the variable.
"""

from __future__ import annotations

import hashlib
import hmac

from ..config import ConfigError
from ..store import Store

_LABEL = b"triport-console secret fingerprint v1"


class SecretMismatch(ConfigError):
    """This process's secret is not the one the database was first started with."""


def fingerprint(secret: bytes) -> bytes:
    return hmac.new(secret, _LABEL, hashlib.sha256).digest()


async def check_secret(store: Store, secret: bytes) -> None:
    """Record this secret's fingerprint on first start; raise SecretMismatch if it differs."""
    mine = fingerprint(secret)
    recorded = await store.record_secret_fingerprint(mine)
    if not hmac.compare_digest(recorded, mine):
        raise SecretMismatch(
            "TRIPORT_SECRET_KEY: this is not the secret the database was first started with; "
            "every instance on one database must be given the same value"
        )
