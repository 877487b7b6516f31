"""API keys: the `nl_live_` secret is shown once; only its SHA-256 is stored.

The console manages keys (spec §2.8); the RPC data plane calls `authenticate_key` with the secret
a client presents.
"""

from __future__ import annotations

import contextlib
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec

from ..config import Settings
from ..errors import Conflict, ErrorCode, InvalidInput, NotFound, StoreUnavailable
from ..limits import MAX_KEY_NAME, MAX_RATE_LIMIT, MAX_SCOPES, SCOPES
from ..models import NO_CLIENT, ApiKey, ClientInfo, NewApiKey, User
from ..store import Store
from ..tokens import api_key_prefix, is_api_key_secret, is_uuid, new_api_key_secret, sha256
from .sessions import ClientSource, utcnow

ALL_SCOPES = ("*",)
# A busy key is read many times a second; recording its use at most once a minute keeps the
# data plane's lookups reads instead of turning each one into a durable write.
TOUCH_INTERVAL = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key: ApiKey
    raw: str | None  # the full secret, present only in the response that created it
    replaces: str | None = None  # a rotation's old key id


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


def key_id(value: str) -> str:
    """The canonical (lower-case, hyphenated) UUID, or `invalid_id`."""
    canonical = value.lower()
    if not is_uuid(canonical):
        raise InvalidInput(ErrorCode.INVALID_ID, "not a UUID")
    return canonical


def key_name(value: Any) -> str:
    name = value.strip() if isinstance(value, str) else ""
    # len() counts code points, so "é" is one character however it is encoded. Control
    # characters are refused: a name is one line of text, and PostgreSQL cannot store NUL.
    if not 1 <= len(name) <= MAX_KEY_NAME or any(unicodedata.category(c) == "Cc" for c in name):
        raise InvalidInput(ErrorCode.INVALID_NAME, "empty, too long or control characters")
    return name


def key_scopes(value: Any) -> tuple[str, ...]:
    """Omitted or empty means every chain; duplicates collapse, keeping the first position."""
    if value is None or value == []:
        return ALL_SCOPES
    if not isinstance(value, list):
        raise InvalidInput(ErrorCode.INVALID_SCOPE, "scopes must be a list of strings")
    if len(value) > MAX_SCOPES:
        raise InvalidInput(ErrorCode.TOO_MANY_SCOPES)
    for scope in value:
        if not isinstance(scope, str) or scope not in SCOPES:
            raise InvalidInput(ErrorCode.INVALID_SCOPE, "unknown scope")
    return tuple(dict.fromkeys(value))


def key_rate_limit(value: Any) -> int:
    """An integer (JSON `true` is not one); negative means 0, which is "no limit of its own"."""
    if value is None:
        return 0
    if not isinstance(value, int) or isinstance(value, bool) or value > MAX_RATE_LIMIT:
        raise InvalidInput(ErrorCode.INVALID_RATE_LIMIT, "not an integer, or too large")
    return max(0, value)


class ApiKeyService:
    def __init__(self, store: Store, max_active_keys: int = Settings.max_active_keys) -> None:
        self._store = store
        self._max_active = max_active_keys

    async def ensure_default(
        self,
        user_id: str,
        current: ApiKey | None,
        now: datetime,
        client: ClientSource = lambda: NO_CLIENT,
    ) -> IssuedKey:
        """The user's active default key, created on first need (the `/me` bootstrap).

        Two concurrent first calls race on a unique index; the loser reads the winner's key and
        shows no secret, so exactly one response ever carries `raw`. The bootstrap is not
        counted against the active-key limit: every user always has a default key.
        """
        if current is not None:
            return IssuedKey(current, None)
        record, secret = new_key("Default", ALL_SCOPES, 0, True, now)
        created = await self._store.create_default_key(user_id, record, client())
        if created is not None:
            return IssuedKey(created, secret)
        winner = await self._store.find_default_key(user_id)
        if winner is None:
            raise StoreUnavailable("default key vanished after a conflicting insert")
        return IssuedKey(winner, None)

    async def list_keys(self, user_id: str) -> list[ApiKey]:
        return await self._store.list_keys(user_id)

    async def create(
        self,
        user_id: str,
        name: Any,
        scopes: Any,
        rate_limit: Any,
        client: ClientInfo = NO_CLIENT,
    ) -> IssuedKey:
        """Validate the request's fields and issue a key, within the active-key limit."""
        record, secret = new_key(
            key_name(name), key_scopes(scopes), key_rate_limit(rate_limit), False, utcnow()
        )
        created = await self._store.create_key(user_id, record, self._max_active, client)
        if created is None:
            raise Conflict(ErrorCode.TOO_MANY_KEYS)
        return IssuedKey(created, secret)

    async def _owned(self, user_id: str, raw_id: str) -> ApiKey:
        key = await self._store.find_key(user_id, key_id(raw_id))
        if key is None:
            raise NotFound()  # unknown and someone else's look the same
        return key

    async def revoke(self, user_id: str, raw_id: str, client: ClientInfo = NO_CLIENT) -> bool:
        """Idempotent: a revoked key answers as success. True if this call revoked it.

        The default key is refused: the console and `/me` rely on one always existing; rotate
        it instead.
        """
        key = await self._owned(user_id, raw_id)
        if key.status != "active":
            return False
        if key.is_default:
            raise Conflict(ErrorCode.CANNOT_REVOKE_DEFAULT)
        return await self._store.revoke_key(user_id, key.id, utcnow(), client)

    async def rotate(self, user_id: str, raw_id: str, client: ClientInfo = NO_CLIENT) -> IssuedKey:
        """Replace a key by a new secret with the same name, scopes, rate limit and default flag.

        The store revokes the old key and inserts the successor in one transaction, conditioned
        on the old key still being active, so of two concurrent rotations exactly one wins and
        the other sees `key_revoked`.
        """
        old = await self._owned(user_id, raw_id)
        if old.status != "active":
            raise Conflict(ErrorCode.KEY_REVOKED)
        now = utcnow()
        successor, secret = new_key(old.name, old.scopes, old.rate_limit, old.is_default, now)
        rotated = await self._store.rotate_key(user_id, old.id, successor, now, client)
        if rotated is None:
            raise Conflict(ErrorCode.KEY_REVOKED)
        return IssuedKey(rotated, secret, replaces=old.id)

    async def authenticate_key(
        self, secret: str | None, now: datetime | None = None
    ) -> tuple[ApiKey, User] | None:
        """The RPC data plane's check: the active key a presented secret belongs to, and its owner.

        None for anything that is not an active key's secret (malformed, unknown, revoked —
        a rotated key stops working the moment its rotation has committed). Records the use in
        `last_used_at` at most once per TOUCH_INTERVAL per key; that bookkeeping is best effort,
        so a database that cannot take writes still authenticates keys.
        """
        if not isinstance(secret, str) or not is_api_key_secret(secret):
            return None  # a missing header (None) or a non-string is no key, never a TypeError
        found = await self._store.find_active_key(sha256(secret))
        if found is None:
            return None
        key, user = found
        now = now or utcnow()
        stale_before = now - TOUCH_INTERVAL
        if key.last_used_at is None or key.last_used_at < stale_before:
            with contextlib.suppress(StoreUnavailable):
                if await self._store.touch_key(key.id, now, stale_before):
                    key = msgspec.structs.replace(key, last_used_at=now)
        return key, user
