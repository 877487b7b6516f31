"""Plain records passed between the store, the services and the edge."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec

from .tokens import new_uuid


class EndReason(enum.StrEnum):
    """Why a session ended (spec §2.10): stored in `sessions.revoked_reason` when revoked."""

    SIGNED_OUT = "signed_out"  # logout, or DELETE of the caller's own session
    REVOKED = "revoked"  # ended through DELETE /v1/auth/sessions/{id} from another session
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"  # revoke-others, or sign_out_others
    REPLACED = "replaced"  # a new sign-in in the same browser replaced it
    ADMIN = "admin"  # the operator's `triport-console revoke-sessions`
    EXPIRED = "expired"  # never stored: a 401's reason for a row whose time ran out


class EventType(enum.StrEnum):
    """The account activity event types (spec 2.11), written once here."""

    SIGNED_IN = "signed_in"
    SIGNED_OUT = "signed_out"
    SESSION_REVOKED = "session_revoked"
    SIGNED_OUT_EVERYWHERE = "signed_out_everywhere"
    KEY_CREATED = "key_created"
    KEY_ROTATED = "key_rotated"
    KEY_REVOKED = "key_revoked"  # the event; errors.ErrorCode.KEY_REVOKED is the 409 code
    PASSKEY_ADDED = "passkey_added"
    PASSKEY_REMOVED = "passkey_removed"


def shown_time(value: datetime) -> str:
    """RFC 3339 UTC with Z, to the second: every timestamp as the contract shows it."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="seconds")[:19] + "Z"


# The records read on every /me and logout are frozen msgspec structures, not frozen dataclasses:
# equally immutable, built ten times faster (a frozen dataclass sets each field through
# object.__setattr__). gc=False: they hold only scalars, tuples and one another, never a cycle.
# Timestamps that are only ever shown (a user's and a key's `created_at`) are kept as the text
# the answer needs (`shown_time`), so a read does not parse what the view would format again.
class User(msgspec.Struct, frozen=True, gc=False):
    id: str
    email: str | None
    display_name: str | None
    avatar_url: str | None
    provider: str
    created_at: str  # shown_time
    updated_at: str  # shown_time


class ApiKey(msgspec.Struct, frozen=True, gc=False):
    id: str
    user_id: str
    name: str
    key_prefix: str
    scopes: tuple[str, ...]
    rate_limit: int
    status: str
    is_default: bool
    created_at: str  # shown_time
    last_used_at: datetime | None  # compared when a key is used (services.api_keys)


class LiveSession(msgspec.Struct, frozen=True, gc=False):
    """A session row that is live now, with its user and the user's active default key."""

    token_hash: bytes
    csrf_hash: bytes
    user: User
    created_at: datetime
    expires_at: datetime
    default_key: ApiKey | None
    id: str = ""  # the public id (spec §2.9), never the token or its hash
    provider: str = ""  # how this session signed in: email, google, wallet or passkey
    last_seen_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ClientInfo:
    """Where a request came from, as stored on sessions and activity events.

    Built by `services.clients.client_info`: `ip` is a parsed address, `user_agent` at most 512
    characters without control characters; either may be None (unknown, or an operator command).
    """

    ip: str | None = None
    user_agent: str | None = None


NO_CLIENT = ClientInfo()


@dataclass(frozen=True, slots=True)
class SessionInfo:
    """One of a user's sessions as the session list shows it (spec §2.9)."""

    id: str
    provider: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An account activity event (spec §2.11), inserted in the transaction of its change."""

    type: str  # signed_in, signed_out, session_revoked, signed_out_everywhere, key_*, passkey_*
    at: datetime
    client: ClientInfo = NO_CLIENT
    provider: str | None = None
    session_id: str | None = None
    key_id: str | None = None
    passkey_id: str | None = None
    id: str = field(default_factory=new_uuid)


@dataclass(frozen=True, slots=True)
class ActivityEvent:
    """A stored event, as the activity list reads it back."""

    id: str
    type: str
    at: datetime
    ip: str | None
    user_agent: str | None
    provider: str | None
    session_id: str | None
    key_id: str | None
    passkey_id: str | None


@dataclass(frozen=True, slots=True)
class Identity:
    """Who signed in: (provider, subject) is unique; email links providers to one account."""

    provider: str  # "email" | "google" | "wallet"
    subject: str  # the address, the OpenID `sub`, or "chain:canonical-address"
    email: str | None = None
    display_name: str | None = None
    avatar_url: str | None = None


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session about to be created by a sign-in; every sign-in method inserts it the same way.

    In the sign-in's transaction the store revokes `replaces` (reason `replaced`), with
    `sign_out_others` revokes every other live session of the user (`signed_out_everywhere`),
    inserts the row, and records `signed_in` (and `signed_out_everywhere` when any ended).
    """

    token_hash: bytes
    csrf_hash: bytes
    created_at: datetime
    expires_at: datetime
    replaces: bytes | None = None  # token hash of the cookie the browser sent, revoked on login
    provider: str = "email"
    client: ClientInfo = NO_CLIENT
    sign_out_others: bool = False
    id: str = field(default_factory=new_uuid)


@dataclass(frozen=True, slots=True)
class SignedIn:
    """A committed sign-in: the user, and how many other sessions it ended (sign_out_others)."""

    user: User
    signed_out_others: int = 0


@dataclass(frozen=True, slots=True)
class NewApiKey:
    id: str
    name: str
    key_prefix: str
    key_hash: bytes
    scopes: tuple[str, ...]
    rate_limit: int
    is_default: bool
    created_at: datetime

    def issued_to(self, user_id: str) -> ApiKey:
        """The row as it stands right after its insert: active, never used."""
        return ApiKey(
            id=self.id,
            user_id=user_id,
            name=self.name,
            key_prefix=self.key_prefix,
            scopes=self.scopes,
            rate_limit=self.rate_limit,
            status="active",
            is_default=self.is_default,
            created_at=shown_time(self.created_at),
            last_used_at=None,
        )


@dataclass(frozen=True, slots=True)
class LoginCode:
    request_id: str
    email: str
    code_mac: bytes
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class WalletChallenge:
    """A sign-in message issued to one (chain, canonical address); the nonce is single-use."""

    nonce: str
    chain: str
    address: str
    message: str
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Passkey:
    """A WebAuthn credential registered to a user (spec §2.12)."""

    id: str
    user_id: str
    credential_id: bytes
    public_key: bytes  # COSE_Key bytes, as the authenticator sent them at registration
    sign_count: int  # the highest signature counter seen; 0 while the authenticator keeps none
    transports: tuple[str, ...]
    name: str
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class PasskeyChallenge:
    """A single-use WebAuthn challenge, kept as its SHA-256 only."""

    challenge_hash: bytes
    purpose: str  # "register" (bound to `user_id`) | "sign_in" (user_id None)
    user_id: str | None
    created_at: datetime
    expires_at: datetime
