"""The contract's objects (spec 2.2 and 2.8) built from the models, as typed structures."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar, cast

from ..api import types as t
from ..models import ApiKey, User

K = TypeVar("K", bound=t.Key)


def timestamp(value: datetime) -> str:
    """RFC 3339 UTC with Z, to the second (isoformat: ten times cheaper than strftime)."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="seconds")[:19] + "Z"


def user_view(user: User) -> t.User:
    return t.User(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        avatar_url=user.avatar_url,
        created_at=timestamp(user.created_at),
        updated_at=timestamp(user.updated_at),
    )


def key_view(key: ApiKey, view: type[K] = t.Key) -> K:  # type: ignore[assignment]
    return view(
        id=key.id,
        name=key.name,
        key_prefix=key.key_prefix,
        scopes=list(key.scopes),
        rate_limit=key.rate_limit,
        status=cast(t.KeyStatus, key.status),
        created_at=timestamp(key.created_at),
        last_used_at=timestamp(key.last_used_at) if key.last_used_at else None,
        is_default=key.is_default,
    )
