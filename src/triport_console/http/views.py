"""JSON shapes of the contract's objects (spec §2.2 and §2.8)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..models import ActivityEvent, ApiKey, SessionInfo, User
from ..services.clients import device_label


def timestamp(value: datetime) -> str:
    """RFC 3339 UTC with Z, to the second (isoformat: ten times cheaper than strftime)."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="seconds")[:19] + "Z"


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "email": user.email,
        "display_name": user.display_name,
        "avatar_url": user.avatar_url,
        "created_at": timestamp(user.created_at),
        "updated_at": timestamp(user.updated_at),
    }


def key_json(key: ApiKey) -> dict[str, Any]:
    return {
        "id": key.id,
        "name": key.name,
        "key_prefix": key.key_prefix,
        "scopes": list(key.scopes),
        "rate_limit": key.rate_limit,
        "status": key.status,
        "created_at": timestamp(key.created_at),
        "last_used_at": timestamp(key.last_used_at) if key.last_used_at else None,
        "is_default": key.is_default,
    }


def session_json(session: SessionInfo, current_id: str) -> dict[str, Any]:
    return {
        "id": session.id,
        "current": session.id == current_id,
        "provider": session.provider,
        "created_at": timestamp(session.created_at),
        "last_seen_at": timestamp(session.last_seen_at),
        "expires_at": timestamp(session.expires_at),
        "ip": session.ip,
        "user_agent": session.user_agent,
        "device": device_label(session.user_agent),
    }


def event_json(event: ActivityEvent) -> dict[str, Any]:
    """An activity event; the optional references appear only when the event has them."""
    found: dict[str, Any] = {
        "id": event.id,
        "type": event.type,
        "at": timestamp(event.at),
        "ip": event.ip,
        "user_agent": event.user_agent,
        "device": device_label(event.user_agent),
    }
    for name in ("provider", "session_id", "key_id", "passkey_id"):
        value = getattr(event, name)
        if value is not None:
            found[name] = value
    return found
