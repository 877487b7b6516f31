"""API keys: the `nl_live_` secret is shown once; only its SHA-256 is stored."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from ..errors import StoreUnavailable
from ..models import ApiKey, NewApiKey
from ..store import Store
from ..tokens import api_key_prefix, new_api_key_secret, sha256

ALL_SCOPES = ("*",)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    raw: str | None  # the full secret, present only in the response that created it


def new_key(
    name: str, scopes: tuple[str, ...], rate_limit: int, is_default: bool, now: datetime
) -> tuple[NewApiKey, str]:
    secret = new_api_key_secret()
    record = NewApiKey(
        id=str(uuid.uuid4()),
        name=name,
        key_prefix=api_key_prefix(secret),
        key_hash=sha256(secret),
        scopes=scopes,
        rate_limit=rate_limit,
        is_default=is_default,
        created_at=now,
    )
    return record, secret


class ApiKeyService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def ensure_default(
        self, user_id: str, current: ApiKey | None, now: datetime
    ) -> IssuedKey:
        """The user's active default key, created on first need (the `/me` bootstrap).

        Two concurrent first calls race on a unique index; the loser reads the winner's key and
        shows no secret, so exactly one response ever carries `raw`.
        """
        if current is not None:
            return IssuedKey(current, None)
        record, secret = new_key("Default", ALL_SCOPES, 0, True, now)
        created = await self._store.create_default_key(user_id, record)
        if created is not None:
            return IssuedKey(created, secret)
        winner = await self._store.find_default_key(user_id)
        if winner is None:
            raise StoreUnavailable("default key vanished after a conflicting insert")
        return IssuedKey(winner, None)
