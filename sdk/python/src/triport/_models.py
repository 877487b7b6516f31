"""Typed results, with the field names of the HTTP contract.

Secrets (``raw``) are left out of ``repr`` so that printing or logging a result never shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "ActivityEvent",
    "ActivityPage",
    "Challenge",
    "CreatedKey",
    "DefaultKey",
    "EmailStartResult",
    "Key",
    "KeyList",
    "Me",
    "OkResult",
    "Passkey",
    "PasskeyList",
    "RevokedOthers",
    "RotatedKey",
    "Session",
    "SessionList",
    "SignInResult",
    "User",
]

JSON = dict[str, Any]


class ResponseShapeError(ValueError):
    """A success body lacks a field of the contract (a proxy page, a different server)."""


def _field(data: JSON, name: str, kind: type | tuple[type, ...]) -> Any:
    value = data.get(name)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ResponseShapeError(f"field {name!r} is missing or has the wrong type")
    return value


def _str(data: JSON, name: str) -> str:
    value: str = _field(data, name, str)
    return value


def _opt_str(data: JSON, name: str) -> str | None:
    return None if data.get(name) is None else _str(data, name)


def _int(data: JSON, name: str) -> int:
    value: int = _field(data, name, int)
    return value


def _objects(data: JSON, name: str) -> list[JSON]:
    items = _field(data, name, list)
    if not all(isinstance(item, dict) for item in items):
        raise ResponseShapeError(f"field {name!r} must be a list of objects")
    return list(items)


def _object(data: JSON, name: str) -> JSON:
    value: JSON = _field(data, name, dict)
    return value


def _time(data: JSON, name: str) -> datetime:
    try:
        return datetime.fromisoformat(_str(data, name))
    except ValueError as exc:
        raise ResponseShapeError(f"field {name!r} is not an RFC 3339 time") from exc


def _opt_time(data: JSON, name: str) -> datetime | None:
    return None if data.get(name) is None else _time(data, name)


@dataclass(frozen=True)
class User:
    """A console user; ``email``, ``display_name`` and ``avatar_url`` may be ``None``."""

    id: str
    email: str | None
    display_name: str | None
    avatar_url: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_json(cls, data: JSON) -> User:
        return cls(
            id=_str(data, "id"),
            email=_opt_str(data, "email"),
            display_name=_opt_str(data, "display_name"),
            avatar_url=_opt_str(data, "avatar_url"),
            created_at=_time(data, "created_at"),
            updated_at=_time(data, "updated_at"),
        )


@dataclass(frozen=True)
class Key:
    """An API key as listed: only its prefix, never its secret."""

    id: str
    name: str
    key_prefix: str
    scopes: list[str]
    rate_limit: int
    status: str
    created_at: datetime
    last_used_at: datetime | None
    is_default: bool

    @classmethod
    def _fields_from_json(cls, data: JSON) -> JSON:
        scopes = _field(data, "scopes", list)
        if not all(isinstance(scope, str) for scope in scopes):
            raise ResponseShapeError("field 'scopes' must hold strings")
        return {
            "id": _str(data, "id"),
            "name": _str(data, "name"),
            "key_prefix": _str(data, "key_prefix"),
            "scopes": list(scopes),
            "rate_limit": _field(data, "rate_limit", int),
            "status": _str(data, "status"),
            "created_at": _time(data, "created_at"),
            "last_used_at": _opt_time(data, "last_used_at"),
            "is_default": _field(data, "is_default", bool),
        }

    @classmethod
    def from_json(cls, data: JSON) -> Key:
        return cls(**cls._fields_from_json(data))


@dataclass(frozen=True)
class DefaultKey(Key):
    """The default key from ``/me``: ``raw`` and ``created`` only on the response that made it."""

    raw: str | None = field(default=None, repr=False)
    created: bool = False

    @classmethod
    def from_json(cls, data: JSON) -> DefaultKey:
        return cls(
            **cls._fields_from_json(data),
            raw=_opt_str(data, "raw"),
            created=data.get("created") is True,
        )


@dataclass(frozen=True)
class Me:
    """``GET /v1/auth/me``: the user, the primary sign-in method and the default key."""

    user: User
    provider: str
    default_key: DefaultKey

    @classmethod
    def from_json(cls, data: JSON) -> Me:
        return cls(
            user=User.from_json(_object(data, "user")),
            provider=_str(data, "provider"),
            default_key=DefaultKey.from_json(_object(data, "default_key")),
        )


@dataclass(frozen=True)
class CreatedKey:
    """``POST /v1/keys``: the one and only time the secret is shown."""

    raw: str = field(repr=False)
    key: Key

    @classmethod
    def from_json(cls, data: JSON) -> CreatedKey:
        return cls(raw=_str(data, "raw"), key=Key.from_json(_object(data, "key")))


@dataclass(frozen=True)
class RotatedKey:
    """``POST /v1/keys/{id}/rotate``: the revoked key's id and its replacement."""

    old_id: str
    new: Key
    raw: str = field(repr=False)

    @classmethod
    def from_json(cls, data: JSON) -> RotatedKey:
        return cls(
            old_id=_str(data, "old_id"),
            new=Key.from_json(_object(data, "new")),
            raw=_str(data, "raw"),
        )


@dataclass(frozen=True)
class Challenge:
    """``POST /v1/auth/wallet/challenge``: sign ``message`` byte for byte."""

    nonce: str
    message: str

    @classmethod
    def from_json(cls, data: JSON) -> Challenge:
        return cls(nonce=_str(data, "nonce"), message=_str(data, "message"))


@dataclass(frozen=True)
class EmailStartResult:
    """``POST /v1/auth/email/start``: the id to pass to ``email_verify`` with the mailed code."""

    request_id: str

    @classmethod
    def from_json(cls, data: JSON) -> EmailStartResult:
        request_id = _str(data, "request_id")
        if not request_id:
            raise ResponseShapeError("field 'request_id' is empty")
        return cls(request_id=request_id)


@dataclass(frozen=True)
class SignInResult:
    """``POST /v1/auth/email/verify`` and ``/wallet/verify``: the signed-in user (cookies kept).

    ``signed_out_others``: with ``sign_out_others=True``, how many other sessions ended.
    """

    user: User
    signed_out_others: int | None = None

    @classmethod
    def from_json(cls, data: JSON) -> SignInResult:
        others = None if data.get("signed_out_others") is None else _int(data, "signed_out_others")
        return cls(user=User.from_json(_object(data, "user")), signed_out_others=others)


@dataclass(frozen=True)
class KeyList:
    """``GET /v1/keys``: every key of the user, active and revoked, newest first."""

    keys: list[Key]

    @classmethod
    def from_json(cls, data: JSON) -> KeyList:
        return cls(keys=[Key.from_json(item) for item in _objects(data, "keys")])


@dataclass(frozen=True)
class OkResult:
    """``{"ok": true}``: logout and key revocation succeeded."""

    ok: bool

    @classmethod
    def from_json(cls, data: JSON) -> OkResult:
        if data.get("ok") is not True:
            raise ResponseShapeError("field 'ok' is not true")
        return cls(ok=True)


# -- sessions and activity (spec §2.9-2.11) ------------------------------------------------


@dataclass(frozen=True)
class Session:
    """A live session of the user; ``current`` marks the one this client is using.

    ``id`` is a public id (never the token); ``device`` a label such as "Chrome on macOS" or
    ``None``; ``ip`` and ``user_agent`` are those of the sign-in or of the latest use.
    """

    id: str
    current: bool
    provider: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None
    device: str | None

    @classmethod
    def from_json(cls, data: JSON) -> Session:
        return cls(
            id=_str(data, "id"),
            current=_field(data, "current", bool),
            provider=_str(data, "provider"),
            created_at=_time(data, "created_at"),
            last_seen_at=_time(data, "last_seen_at"),
            expires_at=_time(data, "expires_at"),
            ip=_opt_str(data, "ip"),
            user_agent=_opt_str(data, "user_agent"),
            device=_opt_str(data, "device"),
        )


@dataclass(frozen=True)
class SessionList:
    """``GET /v1/auth/sessions``: the live sessions, the current one first, then newest first."""

    sessions: list[Session]

    @classmethod
    def from_json(cls, data: JSON) -> SessionList:
        return cls(sessions=[Session.from_json(item) for item in _objects(data, "sessions")])


@dataclass(frozen=True)
class RevokedOthers:
    """``POST /v1/auth/sessions/revoke-others``: how many other sessions ended."""

    revoked: int

    @classmethod
    def from_json(cls, data: JSON) -> RevokedOthers:
        return cls(revoked=_int(data, "revoked"))


@dataclass(frozen=True)
class ActivityEvent:
    """Something that happened on the account (``type``: ``signed_in``, ``key_created``, ...).

    The references (``provider``, ``session_id``, ``key_id``, ``passkey_id``) are ``None`` when
    the event has none.
    """

    id: str
    type: str
    at: datetime
    ip: str | None
    user_agent: str | None
    device: str | None
    provider: str | None = None
    session_id: str | None = None
    key_id: str | None = None
    passkey_id: str | None = None

    @classmethod
    def from_json(cls, data: JSON) -> ActivityEvent:
        return cls(
            id=_str(data, "id"),
            type=_str(data, "type"),
            at=_time(data, "at"),
            ip=_opt_str(data, "ip"),
            user_agent=_opt_str(data, "user_agent"),
            device=_opt_str(data, "device"),
            provider=_opt_str(data, "provider"),
            session_id=_opt_str(data, "session_id"),
            key_id=_opt_str(data, "key_id"),
            passkey_id=_opt_str(data, "passkey_id"),
        )


@dataclass(frozen=True)
class ActivityPage:
    """``GET /v1/auth/activity``: events newest first; pass ``next`` as ``before`` for more.

    ``next`` is ``None`` on the last page.
    """

    events: list[ActivityEvent]
    next: str | None

    @classmethod
    def from_json(cls, data: JSON) -> ActivityPage:
        return cls(
            events=[ActivityEvent.from_json(item) for item in _objects(data, "events")],
            next=_opt_str(data, "next"),
        )


@dataclass(frozen=True)
class Passkey:
    """A WebAuthn passkey of the signed-in user (never its credential id or public key)."""

    id: str
    name: str
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def from_json(cls, data: JSON) -> Passkey:
        return cls(
            id=_str(data, "id"),
            name=_str(data, "name"),
            created_at=_time(data, "created_at"),
            last_used_at=_opt_time(data, "last_used_at"),
        )


@dataclass(frozen=True)
class PasskeyList:
    """``GET /v1/auth/passkeys``: the user's passkeys, newest first."""

    passkeys: list[Passkey]

    @classmethod
    def from_json(cls, data: JSON) -> PasskeyList:
        return cls(passkeys=[Passkey.from_json(item) for item in _objects(data, "passkeys")])
