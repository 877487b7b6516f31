"""Storage: one interface (`base.Store`), one implementation per database."""

from __future__ import annotations

from .base import (
    CodeOutcome,
    CodeResult,
    PasskeyRemoval,
    PurgeTarget,
    RevokeOutcome,
    SessionRevoke,
    Store,
)


def open_store(database_url: str, timeout: float, pooler: str = "none") -> Store:
    """The store for a TRIPORT_DATABASE_URL; imports only the driver that URL needs.
    `pooler` is TRIPORT_DB_POOLER (PostgreSQL only)."""
    if database_url.startswith("sqlite:///"):
        from .sqlite import SQLiteStore

        return SQLiteStore(database_url.removeprefix("sqlite:///"), timeout)
    from .postgres import PostgresStore

    return PostgresStore(database_url, timeout, pooler)


__all__ = [
    "CodeOutcome",
    "CodeResult",
    "PasskeyRemoval",
    "PurgeTarget",
    "RevokeOutcome",
    "SessionRevoke",
    "Store",
    "open_store",
]
