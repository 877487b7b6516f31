"""The session lifecycle: create, validate, slide, revoke.

Token → SHA-256 → row. The raw token lives only in the browser's cookie; the database holds its
hash, and the CSRF token is bound to the row by its hash too.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..config import Settings
from ..errors import (
    CsrfInvalid,
    ErrorCode,
    InvalidInput,
    NotFound,
    SessionNotLive,
    StoreUnavailable,
)
from ..models import (
    NO_CLIENT,
    ClientInfo,
    EndReason,
    EventType,
    LiveSession,
    NewSession,
    SessionInfo,
    User,
)
from ..store import RevokeOutcome, SessionRevoke, Store
from ..tokens import looks_like_token, new_token, same_digest, sha256

# `last_seen_at` is written at most once per this interval per session (spec §2.9): a session
# used many times a second stays a read on the hot path.
TOUCH_INTERVAL = timedelta(minutes=5)
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The edge hands services a way to build the client's description only when something is written.
ClientSource = Callable[[], ClientInfo]


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SignInContext:
    """What every sign-in method takes from the request besides its own credentials."""

    client: ClientInfo = NO_CLIENT
    replaces: str | None = None  # the nl_session cookie the browser sent, if any
    sign_out_others: bool = False  # end every other session of the user (spec §2.9)


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """What a sign-in hands to the edge: the user and the two raw cookie values."""

    user: User
    token: str
    csrf_token: str
    expires_at: datetime
    # With sign_out_others: how many other sessions ended (the answer's `signed_out_others`).
    signed_out_others: int | None = None


def parse_sign_out_others(value: object) -> bool:
    """The sign-in body's optional `sign_out_others`: true, false, or absent (null)."""
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidInput(ErrorCode.INVALID_REQUEST, "sign_out_others must be true or false")
    return value


def session_id(value: str) -> str:
    """The canonical (lower-case) public session id, or `invalid_id`."""
    canonical = value.lower()
    if not _UUID.fullmatch(canonical):
        raise InvalidInput(ErrorCode.INVALID_ID, "the session id must be a UUID")
    return canonical


def csrf_bound(session: LiveSession, csrf_token: str) -> bool:
    """Whether `csrf_token` is the one issued with this session (its hash is on the row)."""
    return same_digest(session.csrf_hash, sha256(csrf_token))


class SessionService:
    def __init__(self, store: Store, settings: Settings) -> None:
        self._store = store
        self._ttl = timedelta(seconds=settings.session_ttl)
        self._max_lifetime = (
            timedelta(seconds=settings.session_max_lifetime)
            if settings.session_max_lifetime
            else None
        )

    def _cap(self, created_at: datetime, expires_at: datetime) -> datetime:
        if self._max_lifetime is None:
            return expires_at
        return min(expires_at, created_at + self._max_lifetime)

    def prepare(
        self, now: datetime, provider: str, context: SignInContext
    ) -> tuple[NewSession, str, str]:
        """Fresh token and CSRF token for a sign-in; never reuses the cookie it replaces."""
        token, csrf_token = new_token(), new_token()
        replaces = context.replaces
        session = NewSession(
            token_hash=sha256(token),
            csrf_hash=sha256(csrf_token),
            created_at=now,
            expires_at=self._cap(now, now + self._ttl),
            replaces=sha256(replaces) if replaces and looks_like_token(replaces) else None,
            provider=provider,
            client=context.client,
            sign_out_others=context.sign_out_others,
        )
        return session, token, csrf_token

    @staticmethod
    def issued(
        user: User, session: NewSession, token: str, csrf_token: str, signed_out_others: int
    ) -> IssuedSession:
        """The edge's view of a committed sign-in (`signed_out_others` only when asked for)."""
        return IssuedSession(
            user,
            token,
            csrf_token,
            session.expires_at,
            signed_out_others if session.sign_out_others else None,
        )

    async def authenticate(
        self, token: str | None, now: datetime | None = None, client: ClientSource | None = None
    ) -> LiveSession:
        """The live session for `token`; with `client`, the use is recorded (`last_seen_at`,
        `ip`) at most once per TOUCH_INTERVAL, as a best-effort write."""
        if not token or not looks_like_token(token):
            raise SessionNotLive()
        now = now or utcnow()
        token_hash = sha256(token)
        session = await self._store.find_live_session(token_hash, now)
        if session is None:
            raise SessionNotLive(await self._end_reason(token_hash, now))
        if client is not None:
            await self._touch(session, now, client)
        return session

    async def _touch(self, session: LiveSession, now: datetime, client: ClientSource) -> None:
        stale_before = now - TOUCH_INTERVAL
        if session.last_seen_at is not None and session.last_seen_at >= stale_before:
            return  # the usual case: a read, no write
        # Bookkeeping, not the request's purpose: a database that cannot take writes still
        # serves reads, exactly as before this column existed.
        with contextlib.suppress(StoreUnavailable):
            await self._store.touch_session(session.token_hash, now, stale_before, client().ip)

    async def _end_reason(self, token_hash: bytes, now: datetime) -> str | None:
        """Spec §2.10's `reason` for a known token; read only on the way to a 401."""
        try:
            reason = await self._store.session_end_reason(token_hash, now)
        except StoreUnavailable:
            return None  # the 401 stands; only its explanation is missing
        return reason.value if reason is not None else None

    async def authenticate_mutation(
        self, token: str | None, csrf_token: str, client: ClientSource | None = None
    ) -> LiveSession:
        """A live session whose bound CSRF hash matches the header (already equal to the cookie).

        Its use is recorded only once the binding holds: a refused request leaves no trace.
        """
        now = utcnow()
        session = await self.authenticate(token, now)
        if not csrf_bound(session, csrf_token):
            raise CsrfInvalid()
        if client is not None:
            await self._touch(session, now, client)
        return session

    async def check_binding(self, token: str, csrf_token: str) -> None:
        """For sign-in POSTs that carry an old cookie: a live session's binding must still hold."""
        # Revoked, expired or unknown: only header == cookie is required, and that was checked.
        with contextlib.suppress(SessionNotLive):
            await self.authenticate_mutation(token, csrf_token)

    async def slide(self, session: LiveSession, now: datetime) -> datetime | None:
        """Extend a session past half its life; returns the new expiry, or None if not due.

        The store's UPDATE is conditioned on the row being live, so this never revives a
        session revoked after it was read; that race surfaces as SessionNotLive.
        """
        if session.expires_at - now >= self._ttl / 2:
            return None
        expires_at = self._cap(session.created_at, now + self._ttl)
        if expires_at <= session.expires_at:
            return None
        if not await self._store.extend_session(session.token_hash, expires_at, now):
            raise SessionNotLive()
        return expires_at

    async def logout(
        self, tokens: list[str], csrf_token: str, client: ClientInfo = NO_CLIENT
    ) -> int:
        """Revoke every presented session bound to `csrf_token`; returns how many were live.

        Normally one token; a request carrying tossed cookies (two `nl_session` values) presents
        several, and all of them are tried, concurrently. Returns only after every revoke (and
        its `signed_out` event) is committed; a store failure propagates as StoreUnavailable
        (the edge answers `logout_failed`, no cookie change), and a live row bound to another
        CSRF token raises CsrfInvalid after the others are done, so a 200 always means no
        presented session is live.
        """
        candidates = [token for token in tokens if looks_like_token(token)]
        if not candidates:
            return 0
        now = utcnow()
        csrf_hash = sha256(csrf_token)
        if len(candidates) == 1:  # the usual case: no task per revoke on the hot path
            outcome = await self._store.revoke_session(
                sha256(candidates[0]), csrf_hash, now, client
            )
            if outcome is RevokeOutcome.CSRF_UNBOUND:
                raise CsrfInvalid()
            return int(outcome is RevokeOutcome.REVOKED)
        outcomes = await asyncio.gather(
            *[
                self._store.revoke_session(sha256(token), csrf_hash, now, client)
                for token in candidates
            ],
            return_exceptions=True,
        )
        for result in outcomes:
            if isinstance(result, BaseException):
                raise result
        if RevokeOutcome.CSRF_UNBOUND in outcomes:
            raise CsrfInvalid()
        return sum(result is RevokeOutcome.REVOKED for result in outcomes)

    async def revoke_all(self, email: str) -> int:
        """The operator's command: every live session of the user ends (reason `admin`)."""
        return await self._store.revoke_user_sessions(email.strip().lower(), utcnow())

    # Sessions the user can see and end (spec §2.9) -------------------------------------------
    async def list_sessions(self, current: LiveSession) -> list[SessionInfo]:
        """The user's live sessions: the caller's own first, then newest first."""
        sessions = await self._store.list_live_sessions(current.user.id, utcnow())
        return sorted(sessions, key=lambda session: session.id != current.id)  # stable

    async def revoke(self, current: LiveSession, raw_id: str, client: ClientInfo) -> bool:
        """End one of the user's sessions; True when it is the caller's own.

        Same rule as logout: returns only once the revoke and its event are committed, and a
        session that is already revoked or expired is a success. Another user's session is
        `not_found`, exactly like an unknown id, so ids cannot be probed.
        """
        target = session_id(raw_id)
        own = target == current.id
        outcome = await self._store.revoke_session_by_id(
            current.user.id,
            target,
            current.id,
            utcnow(),
            EndReason.SIGNED_OUT if own else EndReason.REVOKED,
            EventType.SIGNED_OUT if own else EventType.SESSION_REVOKED,
            client,
        )
        if outcome is SessionRevoke.UNKNOWN:
            raise NotFound("no such session")
        return own

    async def revoke_others(self, current: LiveSession, client: ClientInfo) -> int:
        """End every other live session of the user in one transaction; how many ended."""
        return await self._store.revoke_other_sessions(
            current.user.id, current.id, utcnow(), client
        )
