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
    NO_CLIENT,
    ActivityEvent,
    ApiKey,
    ClientInfo,
    EndReason,
    Identity,
    LiveSession,
    LoginCode,
    NewApiKey,
    NewSession,
    Passkey,
    PasskeyChallenge,
    SessionInfo,
    SignedIn,
    User,
    WalletChallenge,
)

MIGRATE_THROUGH_POOLER = (
    "migrations need a direct connection to PostgreSQL (they hold a session-level advisory "
    "lock a transaction pooler cannot keep): run `triport-console migrate` with "
    "TRIPORT_DATABASE_URL pointing at PostgreSQL itself and TRIPORT_DB_POOLER=none"
)


class RevokeOutcome(enum.Enum):
    REVOKED = "revoked"  # the live row was revoked by this call
    NOTHING_LIVE = "nothing_live"  # unknown, expired or already revoked: still a success
    CSRF_UNBOUND = "csrf_unbound"  # a live row whose bound CSRF hash differs: refused


class SessionRevoke(enum.Enum):
    """The outcome of ending one of a user's sessions by its public id (spec §2.9)."""

    REVOKED = enum.auto()  # it was live and is revoked now, with its reason and event
    NOTHING_LIVE = enum.auto()  # the user's, but already revoked or expired: a success
    UNKNOWN = enum.auto()  # no such id, or another user's session (the service's not_found)


class CodeOutcome(enum.Enum):
    SIGNED_IN = enum.auto()
    WRONG_CODE = enum.auto()  # counted; the request locks at the limit
    INVALID_REQUEST = enum.auto()  # unknown, expired, used or locked


@dataclass(frozen=True, slots=True)
class CodeResult:
    outcome: CodeOutcome
    user: User | None = None
    signed_out_others: int = 0


class PasskeyRemoval(enum.Enum):
    REMOVED = enum.auto()  # the user's live passkey was removed by this call
    ALREADY_REMOVED = enum.auto()  # the user's passkey, removed before: still a success
    NOT_FOUND = enum.auto()  # no such passkey, or another user's (the service's not_found)


class PurgeTarget(enum.Enum):
    """Rows that housekeeping deletes; each with the column compared to its cutoff."""

    SESSIONS = "sessions"  # revoked or expired before the cutoff (now - grace)
    LOGIN_CODES = "login_codes"  # created before the cutoff (older than the hourly limit window)
    WALLET_CHALLENGES = "wallet_challenges"  # expired before the cutoff
    RATE_LIMITS = "rate_limits"  # windows that ended before the cutoff
    PASSKEY_CHALLENGES = "passkey_challenges"  # expired before the cutoff
    ACTIVITY_EVENTS = "activity_events"  # recorded before the cutoff (now - retention)


_PURGE_ROWS = {
    PurgeTarget.SESSIONS: ("token_hash", "revoked_at < {cutoff} OR expires_at < {cutoff}"),
    PurgeTarget.LOGIN_CODES: ("request_id", "created_at < {cutoff}"),
    PurgeTarget.WALLET_CHALLENGES: ("nonce", "expires_at < {cutoff}"),
    PurgeTarget.RATE_LIMITS: ("(bucket, key, window_start)", "expires_at < {cutoff}"),
    PurgeTarget.PASSKEY_CHALLENGES: ("challenge_hash", "expires_at < {cutoff}"),
    PurgeTarget.ACTIVITY_EVENTS: ("(user_id, at, id)", "at < {cutoff}"),
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

    @abstractmethod
    async def record_secret_fingerprint(self, fingerprint: bytes) -> bytes:
        """Keep `fingerprint` unless one is recorded already; return the recorded one.

        Of several first starts at once, exactly one fingerprint is kept.
        """

    # Sessions -------------------------------------------------------------------------------
    @abstractmethod
    async def find_live_session(self, token_hash: bytes, now: datetime) -> LiveSession | None: ...

    @abstractmethod
    async def session_end_reason(self, token_hash: bytes, now: datetime) -> EndReason | None:
        """Why a known row is not live: its revoke reason, or "expired". None when unknown
        (never issued, or purged) or live. Read only on the 401 path."""

    @abstractmethod
    async def revoke_session(
        self, token_hash: bytes, csrf_hash: bytes, now: datetime, client: ClientInfo = NO_CLIENT
    ) -> RevokeOutcome:
        """Logout: revoke a live row (reason `signed_out`, event `signed_out`) unless its bound
        CSRF hash differs; commit before returning."""

    @abstractmethod
    async def extend_session(self, token_hash: bytes, expires_at: datetime, now: datetime) -> bool:
        """Push expiry to `expires_at`; False when the row is no longer live (never revives)."""

    @abstractmethod
    async def touch_session(
        self, token_hash: bytes, now: datetime, stale_before: datetime, ip: str | None
    ) -> bool:
        """Set `last_seen_at` and `ip` if the row is live and was last seen before
        `stale_before`; one conditioned UPDATE that never revives a revoked row."""

    @abstractmethod
    async def list_live_sessions(self, user_id: str, now: datetime) -> list[SessionInfo]:
        """The user's live sessions, newest first."""

    @abstractmethod
    async def revoke_session_by_id(
        self,
        user_id: str,
        session_id: str,
        by_session_id: str,
        now: datetime,
        reason: EndReason,
        event_type: str,
        client: ClientInfo,
    ) -> SessionRevoke:
        """End one of the user's sessions with `reason`, recording `event_type`, in one
        transaction committed before returning. Raises SessionNotLive when the caller's
        session `by_session_id` (another one) is no longer live by then."""

    @abstractmethod
    async def revoke_other_sessions(
        self, user_id: str, keep_session_id: str, now: datetime, client: ClientInfo
    ) -> int:
        """Revoke every live session of the user but `keep_session_id`
        (`signed_out_everywhere`, and one event when any ended), in one transaction."""

    @abstractmethod
    async def revoke_user_sessions(self, email: str, now: datetime) -> int:
        """The operator's revoke (reason `admin`, a `session_revoked` event per session)."""

    @abstractmethod
    async def sign_in(self, identity: Identity, session: NewSession) -> SignedIn:
        """Find or create the user for `identity` and start the session, in one transaction."""

    # Account activity -----------------------------------------------------------------------
    @abstractmethod
    async def list_activity(
        self, user_id: str, before: tuple[datetime, str] | None, limit: int
    ) -> list[ActivityEvent]:
        """At most `limit` of the user's events, newest first, older than `before` (at, id)."""

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
    ) -> SignedIn | None:
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
    async def add_passkey(
        self, challenge_hash: bytes, passkey: Passkey, client: ClientInfo = NO_CLIENT
    ) -> None:
        """Burn the user's registration challenge, insert the passkey and record
        `passkey_added`, in one transaction.

        Raises (changing nothing) InvalidChallenge when the challenge is no longer live for
        this user, InvalidCredential when that credential id is already registered."""

    @abstractmethod
    async def remove_passkey(
        self, user_id: str, passkey_id: str, now: datetime, client: ClientInfo = NO_CLIENT
    ) -> PasskeyRemoval:
        """Mark the user's passkey removed (it never signs in again) and record
        `passkey_removed`, in one transaction; a repeat records nothing."""

    @abstractmethod
    async def complete_passkey_login(
        self, challenge_hash: bytes, passkey: Passkey, sign_count: int, session: NewSession
    ) -> SignedIn:
        """Burn the sign-in challenge, record the new counter and create the session (with
        `start_session`'s sign_out_others and events), in one transaction.

        Raises (changing nothing) InvalidChallenge when the challenge is no longer live, and
        InvalidCredential when the passkey was removed or its counter moved since it was read:
        the update is conditioned on the counter that was verified, so of two assertions
        racing past the check only one signs in."""

    # API keys -------------------------------------------------------------------------------
    @abstractmethod
    async def create_default_key(
        self, user_id: str, key: NewApiKey, client: ClientInfo = NO_CLIENT
    ) -> ApiKey | None:
        """Insert the user's default key (event `key_created`); None when another request
        created one first."""

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
    async def create_key(
        self, user_id: str, key: NewApiKey, max_active: int, client: ClientInfo = NO_CLIENT
    ) -> ApiKey | None:
        """Insert unless the user already has `max_active` active keys (then None).

        The count and the insert (and its `key_created` event) are atomic across processes.
        """

    @abstractmethod
    async def revoke_key(
        self, user_id: str, key_id: str, now: datetime, client: ClientInfo = NO_CLIENT
    ) -> bool:
        """Revoke an active, non-default key (event `key_revoked`); False when there was no
        such key to revoke."""

    @abstractmethod
    async def rotate_key(
        self,
        user_id: str,
        key_id: str,
        successor: NewApiKey,
        now: datetime,
        client: ClientInfo = NO_CLIENT,
    ) -> ApiKey | None:
        """In one transaction revoke the active key, point its `replaced_by` at `successor`,
        insert it and record `key_rotated` (for the old id); None (nothing changed) when the
        key was no longer active."""

    @abstractmethod
    async def find_active_key(self, key_hash: bytes) -> tuple[ApiKey, User] | None:
        """The active key with this secret hash, and its owner. A pure read."""

    @abstractmethod
    async def touch_key(self, key_id: str, now: datetime, stale_before: datetime) -> bool:
        """Set `last_used_at` to `now` only if it is unset or older than `stale_before`."""
