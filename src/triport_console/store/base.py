"""The store interface: the operations the services need, named after them.

One implementation per database (`sqlite.py`, `postgres.py`). Rules that must hold on every
database live behind these methods: a method that returns has committed durably; a method that
cannot reach or lock the database raises `StoreUnavailable` and has changed nothing it reports.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime

from ..models import ApiKey, Identity, LiveSession, LoginCode, NewApiKey, NewSession, User


class RevokeOutcome(enum.Enum):
    REVOKED = "revoked"  # the live row was revoked by this call
    NOTHING_LIVE = "nothing_live"  # unknown, expired or already revoked: still a success
    CSRF_UNBOUND = "csrf_unbound"  # a live row whose bound CSRF hash differs: refused


class CodeOutcome(enum.Enum):
    SIGNED_IN = "signed_in"
    WRONG_CODE = "wrong_code"  # counted; the request locks at the limit
    INVALID_REQUEST = "invalid_request"  # unknown, expired, used or locked


@dataclass(frozen=True, slots=True)
class CodeResult:
    outcome: CodeOutcome
    user: User | None = None


class Store(ABC):
    """What the services may ask of a database."""

    @abstractmethod
    async def open(self) -> None:
        """Connect and apply pending migrations."""

    @abstractmethod
    async def close(self) -> None: ...

    @abstractmethod
    async def ping(self) -> None:
        """Raise StoreUnavailable unless a round trip to the database succeeds."""

    # Sessions -------------------------------------------------------------------------------
    @abstractmethod
    async def find_live_session(self, token_hash: bytes, now: datetime) -> LiveSession | None: ...

    @abstractmethod
    async def revoke_session(
        self, token_hash: bytes, csrf_hash: bytes, now: datetime
    ) -> RevokeOutcome:
        """Revoke a live row unless its bound CSRF hash differs; commit before returning."""

    @abstractmethod
    async def extend_session(self, token_hash: bytes, expires_at: datetime, now: datetime) -> bool:
        """Push expiry to `expires_at`; False when the row is no longer live (never revives)."""

    @abstractmethod
    async def revoke_user_sessions(self, email: str, now: datetime) -> int: ...

    @abstractmethod
    async def sign_in(self, identity: Identity, session: NewSession) -> User:
        """Find or create the user for `identity` and insert the session, in one transaction."""

    # Email codes ----------------------------------------------------------------------------
    @abstractmethod
    async def create_login_code(
        self, code: LoginCode, window_start: datetime, limit: int
    ) -> datetime | None:
        """Insert unless `limit` codes for the address exist since `window_start`.

        Returns None when inserted, else the creation time of the oldest code in the window.
        The count and the insert are atomic across processes.
        """

    @abstractmethod
    async def delete_login_code(self, request_id: str) -> None: ...

    @abstractmethod
    async def complete_email_login(
        self,
        request_id: str,
        code_mac: bytes,
        max_attempts: int,
        session: NewSession,
    ) -> CodeResult:
        """Check the code; on a match consume it, sign the address in, create the session."""

    # API keys -------------------------------------------------------------------------------
    @abstractmethod
    async def create_default_key(self, user_id: str, key: NewApiKey) -> ApiKey | None:
        """Insert the user's default key; None when another request created one first."""

    @abstractmethod
    async def find_default_key(self, user_id: str) -> ApiKey | None: ...
