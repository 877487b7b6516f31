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

from ..models import (
    ApiKey,
    Identity,
    LiveSession,
    LoginCode,
    NewApiKey,
    NewSession,
    Passkey,
    PasskeyChallenge,
    User,
    WalletChallenge,
)


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


class PasskeyRemoval(enum.Enum):
    REMOVED = "removed"  # the user's live passkey was removed by this call
    ALREADY_REMOVED = "already_removed"  # the user's passkey, removed before: still a success
    NOT_FOUND = "not_found"  # no such passkey, or another user's


class PurgeTarget(enum.Enum):
    """Rows that housekeeping deletes; each with the column compared to its cutoff."""

    SESSIONS = "sessions"  # revoked or expired before the cutoff (now - grace)
    LOGIN_CODES = "login_codes"  # created before the cutoff (older than the hourly limit window)
    WALLET_CHALLENGES = "wallet_challenges"  # expired before the cutoff
    RATE_LIMITS = "rate_limits"  # windows that ended before the cutoff
    PASSKEY_CHALLENGES = "passkey_challenges"  # expired before the cutoff


_PURGE_ROWS = {
    PurgeTarget.SESSIONS: ("token_hash", "revoked_at < {cutoff} OR expires_at < {cutoff}"),
    PurgeTarget.LOGIN_CODES: ("request_id", "created_at < {cutoff}"),
    PurgeTarget.WALLET_CHALLENGES: ("nonce", "expires_at < {cutoff}"),
    PurgeTarget.RATE_LIMITS: ("(bucket, key, window_start)", "expires_at < {cutoff}"),
    PurgeTarget.PASSKEY_CHALLENGES: ("challenge_hash", "expires_at < {cutoff}"),
}


def purge_statement(target: PurgeTarget, cutoff: str, limit: str) -> str:
    """One bounded DELETE (by primary key, at most `limit` rows), in the caller's placeholders.

    Bounded so that no purge holds the write lock for more than a moment.
    """
    key, condition = _PURGE_ROWS[target]
    table = target.value
    columns = key.strip("()")
    return (
        f"DELETE FROM {table} WHERE {key} IN (SELECT {columns} FROM {table} "
        f"WHERE {condition.format(cutoff=cutoff)} LIMIT {limit})"
    )


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

    # Wallet challenges ----------------------------------------------------------------------
    @abstractmethod
    async def create_wallet_challenge(self, challenge: WalletChallenge) -> None: ...

    @abstractmethod
    async def find_wallet_challenge(self, nonce: str, now: datetime) -> WalletChallenge | None:
        """The challenge if it is unused and unexpired at `now`."""

    @abstractmethod
    async def complete_wallet_login(
        self, nonce: str, identity: Identity, session: NewSession
    ) -> User | None:
        """Burn the nonce and sign the wallet in, in one transaction.

        None when the nonce is no longer live (another request burned it first, or it
        expired): of two concurrent calls for one nonce, exactly one creates a session.
        """

    # Passkeys -------------------------------------------------------------------------------
    @abstractmethod
    async def create_passkey_challenge(self, challenge: PasskeyChallenge) -> None: ...

    @abstractmethod
    async def passkey_challenge_live(
        self, challenge_hash: bytes, purpose: str, user_id: str | None, now: datetime
    ) -> bool:
        """Whether the challenge was issued for this purpose (and user), unused and unexpired."""

    @abstractmethod
    async def list_passkeys(self, user_id: str) -> list[Passkey]:
        """The user's passkeys that are not removed, newest first."""

    @abstractmethod
    async def find_passkey(self, credential_id: bytes) -> Passkey | None:
        """The passkey with this credential id, unless it was removed."""

    @abstractmethod
    async def add_passkey(self, challenge_hash: bytes, passkey: Passkey) -> None:
        """Burn the user's registration challenge and insert the passkey, in one transaction.

        Raises (changing nothing) InvalidChallenge when the challenge is no longer live for
        this user, InvalidCredential when that credential id is already registered."""

    @abstractmethod
    async def remove_passkey(self, user_id: str, passkey_id: str, now: datetime) -> PasskeyRemoval:
        """Mark the user's passkey removed (it never signs in again)."""

    @abstractmethod
    async def complete_passkey_login(
        self, challenge_hash: bytes, passkey: Passkey, sign_count: int, session: NewSession
    ) -> User:
        """Burn the sign-in challenge, record the new counter and create the session, in one
        transaction; the passkey's user.

        Raises (changing nothing) InvalidChallenge when the challenge is no longer live, and
        InvalidCredential when the passkey was removed or its counter moved since it was read:
        the update is conditioned on the counter that was verified, so of two assertions
        racing past the check only one signs in."""

    # API keys -------------------------------------------------------------------------------
    @abstractmethod
    async def create_default_key(self, user_id: str, key: NewApiKey) -> ApiKey | None:
        """Insert the user's default key; None when another request created one first."""

    @abstractmethod
    async def find_default_key(self, user_id: str) -> ApiKey | None: ...

    # Abuse limits and housekeeping ----------------------------------------------------------
    @abstractmethod
    async def hit_rate_limit(
        self, bucket: str, key: str, window_start: datetime, window_end: datetime
    ) -> int:
        """Count one hit in this fixed window, atomically across processes; returns the total."""

    @abstractmethod
    async def purge_batch(self, target: PurgeTarget, cutoff: datetime, limit: int) -> int:
        """Delete at most `limit` dead rows of one kind in one short transaction; the count."""

    @abstractmethod
    async def list_keys(self, user_id: str) -> list[ApiKey]:
        """The user's keys, active and revoked, newest first."""

    @abstractmethod
    async def find_key(self, user_id: str, key_id: str) -> ApiKey | None:
        """The key if it exists and belongs to `user_id` (someone else's key is not found)."""

    @abstractmethod
    async def create_key(self, user_id: str, key: NewApiKey, max_active: int) -> ApiKey | None:
        """Insert unless the user already has `max_active` active keys (then None).

        The count and the insert are atomic across processes.
        """

    @abstractmethod
    async def revoke_key(self, user_id: str, key_id: str, now: datetime) -> bool:
        """Revoke an active, non-default key; False when there was no such key to revoke."""

    @abstractmethod
    async def rotate_key(
        self, user_id: str, key_id: str, successor: NewApiKey, now: datetime
    ) -> ApiKey | None:
        """In one transaction revoke the active key, point its `replaced_by` at `successor`
        and insert it; None (nothing changed) when the key was no longer active."""

    @abstractmethod
    async def find_active_key(self, key_hash: bytes) -> tuple[ApiKey, User] | None:
        """The active key with this secret hash, and its owner. A pure read."""

    @abstractmethod
    async def touch_key(self, key_id: str, now: datetime, stale_before: datetime) -> bool:
        """Set `last_used_at` to `now` only if it is unset or older than `stale_before`."""
