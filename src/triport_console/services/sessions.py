"""The session lifecycle: create, validate, slide, revoke.

Token → SHA-256 → row. The raw token lives only in the browser's cookie; the database holds its
hash, and the CSRF token is bound to the row by its hash too.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..config import Settings
from ..errors import CsrfInvalid, SessionNotLive
from ..models import LiveSession, NewSession, User
from ..store import RevokeOutcome, Store
from ..tokens import looks_like_token, new_token, same_digest, sha256


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class IssuedSession:
    """What a sign-in hands to the edge: the user and the two raw cookie values."""

    user: User
    token: str
    csrf_token: str
    expires_at: datetime


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

    def prepare(self, now: datetime, replaces: str | None) -> tuple[NewSession, str, str]:
        """Fresh token and CSRF token for a sign-in; never reuses the cookie it replaces."""
        token, csrf_token = new_token(), new_token()
        session = NewSession(
            token_hash=sha256(token),
            csrf_hash=sha256(csrf_token),
            created_at=now,
            expires_at=self._cap(now, now + self._ttl),
            replaces=sha256(replaces) if replaces and looks_like_token(replaces) else None,
        )
        return session, token, csrf_token

    async def authenticate(self, token: str | None, now: datetime | None = None) -> LiveSession:
        if not token or not looks_like_token(token):
            raise SessionNotLive()
        session = await self._store.find_live_session(sha256(token), now or utcnow())
        if session is None:
            raise SessionNotLive()
        return session

    async def authenticate_mutation(self, token: str | None, csrf_token: str) -> LiveSession:
        """A live session whose bound CSRF hash matches the header (already equal to the cookie)."""
        session = await self.authenticate(token)
        if not csrf_bound(session, csrf_token):
            raise CsrfInvalid()
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

    async def logout(self, tokens: list[str], csrf_token: str) -> int:
        """Revoke every presented session bound to `csrf_token`; returns how many were live.

        Normally one token; a request carrying tossed cookies (two `nl_session` values) presents
        several, and all of them are tried, concurrently. Returns only after every revoke is
        committed; a store failure propagates as StoreUnavailable (the edge answers
        `logout_failed`, no cookie change), and a live row bound to another CSRF token raises
        CsrfInvalid after the others are done, so a 200 always means no presented session is live.
        """
        candidates = [token for token in tokens if looks_like_token(token)]
        if not candidates:
            return 0
        now = utcnow()
        if len(candidates) == 1:  # the usual case: no task per revoke on the hot path
            outcome = await self._store.revoke_session(
                sha256(candidates[0]), sha256(csrf_token), now
            )
            if outcome is RevokeOutcome.CSRF_UNBOUND:
                raise CsrfInvalid()
            return int(outcome is RevokeOutcome.REVOKED)
        outcomes = await asyncio.gather(
            *[
                self._store.revoke_session(sha256(token), sha256(csrf_token), now)
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
        return await self._store.revoke_user_sessions(email.strip().lower(), utcnow())
