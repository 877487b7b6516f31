"""The contract's objects (spec 2.2, 2.8, 2.9, 2.11) built from the models, as typed structures."""

from __future__ import annotations

from typing import TypeVar, cast

from ..api import types as t
from ..limits import Provider
from ..models import ActivityEvent, ApiKey, EventType, Passkey, SessionInfo, User
from ..models import shown_time as timestamp
from ..services.clients import device_label

K = TypeVar("K", bound=t.Key)


def user_view(user: User) -> t.User:
    return t.User(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        avatar_url=user.avatar_url,
        created_at=user.created_at,
        updated_at=user.updated_at,
    )


def key_view(key: ApiKey, view: type[K] = t.Key) -> K:  # type: ignore[assignment]
    return view(
        id=key.id,
        name=key.name,
        key_prefix=key.key_prefix,
        scopes=list(key.scopes),
        rate_limit=key.rate_limit,
        status=cast(t.KeyStatus, key.status),
        created_at=key.created_at,
        last_used_at=timestamp(key.last_used_at) if key.last_used_at else None,
        is_default=key.is_default,
    )


def session_view(session: SessionInfo, current_id: str) -> t.Session:
    return t.Session(
        id=session.id,
        current=session.id == current_id,
        provider=cast(Provider, session.provider),
        created_at=timestamp(session.created_at),
        last_seen_at=timestamp(session.last_seen_at),
        expires_at=timestamp(session.expires_at),
        ip=session.ip,
        user_agent=session.user_agent,
        device=device_label(session.user_agent),
    )


def event_view(event: ActivityEvent) -> t.Event:
    """An activity event; the optional references appear only when the event has them."""
    found = t.Event(
        id=event.id,
        type=EventType(event.type),
        at=timestamp(event.at),
        ip=event.ip,
        user_agent=event.user_agent,
        device=device_label(event.user_agent),
    )
    if event.provider is not None:
        found.provider = cast(Provider, event.provider)
    if event.session_id is not None:
        found.session_id = event.session_id
    if event.key_id is not None:
        found.key_id = event.key_id
    if event.passkey_id is not None:
        found.passkey_id = event.passkey_id
    return found


def passkey_view(passkey: Passkey) -> t.Passkey:
    """What a client sees of a passkey: never the credential id or the public key."""
    return t.Passkey(
        id=passkey.id,
        name=passkey.name,
        created_at=timestamp(passkey.created_at),
        last_used_at=timestamp(passkey.last_used_at) if passkey.last_used_at else None,
    )
