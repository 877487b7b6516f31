"""PostgreSQL store: an asyncpg pool, prepared statements, bounded waits.

Why this shape:
- asyncpg caches a prepared statement per connection for every query text, so the hot paths pay
  for parsing once per connection, not per request.
- `lock_timeout`, `statement_timeout` and the pool's acquire timeout all come from
  TRIPORT_DB_TIMEOUT, so a held lock or a dead server turns into `StoreUnavailable` within that
  bound instead of a hung request.
- Commits are synchronous (`synchronous_commit` is left at the server default, `on`): a method
  that returns has its change in the WAL on disk. PostgreSQL already shares one WAL flush among
  concurrent commits, so there is no batching here.
- A lost connection is dropped by the pool and replaced on the next acquire, so the service
  recovers from a database restart by itself.

Through a transaction-mode pooler (TRIPORT_DB_POOLER=transaction, e.g. PgBouncer) a client
connection is lent a server connection for one transaction at a time, so nothing may live on a
server connection between transactions:
- the startup packet carries only user, database and `application_name` (PgBouncer refuses
  other startup parameters);
- a multi-statement transaction opens with `BEGIN; SET LOCAL lock_timeout …; SET LOCAL
  statement_timeout …; SET LOCAL idle_in_transaction_session_timeout …` (one round trip, as
  the plain BEGIN was), so the server-side bounds hold on whichever server connection runs it
  and vanish at its end;
- a single statement (the /me lookup, the logout UPDATE) stays its own implicit transaction,
  bounded per statement by asyncpg's `timeout` (TRIPORT_DB_TIMEOUT), which cancels it
  server-side (PgBouncer forwards the cancel to the backend running it). Wrapping it in
  BEGIN/SET LOCAL/COMMIT was measured: two more round trips, and the pooled server connection
  held across the worker's scheduling delays, which under load queued other clients in PgBouncer
  past the timeout (bench errors). asyncpg sends Parse/Describe with Flush, not Sync, so an
  unnamed statement is prepared and run on the same server connection;
- prepared statements are unnamed (`statement_cache_size=0`): a named one would stay on a
  server connection another client then gets (`DuplicatePreparedStatementError`);
- advisory locks are transaction-level (`pg_advisory_xact_lock`); there are no temporary tables,
  LISTEN or session SETs.
A direct connection keeps the cheaper form (settings at connect, cached statements, a single
statement is its own transaction), which a pooler cannot carry.

Migrations always need a direct connection: they hold a session-level advisory lock across
their transactions, which a transaction pooler would leave on a server connection lent to
someone else. `migrate()` refuses when TRIPORT_DB_POOLER says pooled, and also when the
connection turns out to be pooled anyway (`through_pooler`).
"""

from __future__ import annotations

import hmac
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

import asyncpg

from ..errors import (
    InvalidChallenge,
    InvalidCredential,
    MigrationRefused,
    SessionNotLive,
    StoreUnavailable,
)
from ..metrics import active as metrics
from ..models import (
    NO_CLIENT,
    ActivityEvent,
    ApiKey,
    ClientInfo,
    EndReason,
    EventType,
    Identity,
    LiveSession,
    LoginCode,
    NewApiKey,
    NewEvent,
    NewSession,
    Passkey,
    PasskeyChallenge,
    SessionInfo,
    SignedIn,
    User,
    WalletChallenge,
    shown_time,
)
from . import migrations
from .base import (
    MIGRATE_THROUGH_POOLER,
    CodeOutcome,
    CodeResult,
    PasskeyRemoval,
    PurgeTarget,
    RevokeOutcome,
    SessionRevoke,
    Store,
    purge_statement,
)

# InternalClientError: asyncpg's pool raises it when a connection dies under it mid-operation
# (seen when backends are terminated under load); it is a lost connection like the others.
_FAILURES = (asyncpg.PostgresError, asyncpg.InterfaceError, asyncpg.InternalClientError, OSError)
_MIGRATION_LOCK = 0x7472_6970_6F72_74  # "triport": one migrator at a time across instances
_APPLICATION = {"application_name": "triport-console"}

_USER_COLUMNS = (
    "u.id, u.email, u.display_name, u.avatar_url, u.provider, u.created_at, u.updated_at"
)
_KEY_COLUMNS = (
    "k.id AS key_id, k.user_id AS key_user_id, k.name, k.key_prefix, k.scopes, k.rate_limit, "
    "k.status, k.is_default, k.created_at AS key_created_at, k.last_used_at"
)
_PASSKEY_COLUMNS = (
    "p.id, p.user_id, p.credential_id, p.public_key, p.sign_count, p.transports, p.name, "
    "p.created_at, p.last_used_at"
)
_EVENT_COLUMNS = "id, type, at, ip, user_agent, provider, session_id, key_id, passkey_id"


def _optional_id(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


def _event(row: asyncpg.Record) -> ActivityEvent:
    return ActivityEvent(
        id=str(row["id"]),
        type=row["type"],
        at=row["at"],
        ip=row["ip"],
        user_agent=row["user_agent"],
        provider=row["provider"],
        session_id=_optional_id(row["session_id"]),
        key_id=_optional_id(row["key_id"]),
        passkey_id=_optional_id(row["passkey_id"]),
    )


def _user(row: asyncpg.Record) -> User:
    return User(
        id=str(row["id"]),
        email=row["email"],
        display_name=row["display_name"],
        avatar_url=row["avatar_url"],
        provider=row["provider"],
        created_at=shown_time(row["created_at"]),
        updated_at=shown_time(row["updated_at"]),
    )


def _key(row: asyncpg.Record) -> ApiKey:
    return ApiKey(
        id=str(row["key_id"]),
        user_id=str(row["key_user_id"]),
        name=row["name"],
        key_prefix=row["key_prefix"],
        scopes=tuple(row["scopes"]),
        rate_limit=row["rate_limit"],
        status=row["status"],
        is_default=row["is_default"],
        created_at=shown_time(row["key_created_at"]),
        last_used_at=row["last_used_at"],
    )


def _passkey(row: asyncpg.Record) -> Passkey:
    return Passkey(
        id=str(row["id"]),
        user_id=str(row["user_id"]),
        credential_id=row["credential_id"],
        public_key=row["public_key"],
        sign_count=row["sign_count"],
        transports=tuple(row["transports"]),
        name=row["name"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
    )


async def _release_without_reset(conn: asyncpg.Connection) -> None:
    """Skip asyncpg's reset query (a round trip on every release): the store keeps no session
    state (no LISTEN, no session-level advisory locks, settings only at connect). A connection
    that comes back mid-transaction, which only a failed or cancelled request can cause, is
    rolled back."""
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def through_pooler(conn: asyncpg.Connection) -> bool:
    """True when `conn` reaches PostgreSQL through a pooler rather than directly.

    PostgreSQL's BackendKeyData (asyncpg's `get_server_pid()`) names the backend that serves
    the connection, so on a direct connection it equals `pg_backend_pid()`. PgBouncer (1.18,
    checked, in every pool mode) and the poolers built like it hand the client a random cancel
    key of their own instead. Comparing backend pids across two transactions is not a test:
    an idle transaction pooler usually lends the same server connection again.
    """
    backend: int = await conn.fetchval("SELECT pg_backend_pid()")
    server_pid: int = conn.get_server_pid()
    return backend != server_pid


class PostgresStore(Store):
    def __init__(self, dsn: str, timeout: float, pooler: str = "none") -> None:
        self._dsn = dsn
        self._timeout = timeout
        self._pooled = pooler == "transaction"
        millis = int(timeout * 1000)
        self._settings = {
            "lock_timeout": str(millis),
            "statement_timeout": str(millis),
            "idle_in_transaction_session_timeout": str(millis * 5),
        }
        # Pooled: the same bounds, set for each transaction instead of for the session.
        self._begin = "BEGIN; " + "; ".join(
            f"SET LOCAL {name} = {value}" for name, value in self._settings.items()
        )
        self._pool: asyncpg.Pool | None = None

    async def open(self) -> None:
        if self._pooled:
            options: dict[str, Any] = {"statement_cache_size": 0, "server_settings": _APPLICATION}
        else:
            options = {"server_settings": {**_APPLICATION, **self._settings}}
        try:
            self._pool = await asyncpg.create_pool(
                self._dsn,
                min_size=1,
                max_size=10,
                reset=_release_without_reset,
                timeout=self._timeout,
                command_timeout=self._timeout,
                **options,
            )
        except _FAILURES as exc:
            raise StoreUnavailable(_connect_failure(exc)) from exc
        if self._pooled:
            await self._check_schema()
        else:
            await self.migrate()

    async def migrate(self) -> list[int]:
        """Apply pending migrations, one transaction each, under a session-level advisory lock
        held by one direct connection (one migrator at a time across instances)."""
        if self._pooled:
            raise MigrationRefused(MIGRATE_THROUGH_POOLER)
        try:
            # Unnamed statements: the pooler check must work before it knows the answer.
            conn = await asyncpg.connect(
                self._dsn,
                timeout=self._timeout,
                command_timeout=self._timeout,
                statement_cache_size=0,
                server_settings={**_APPLICATION, **self._settings},
            )
        except _FAILURES as exc:
            raise StoreUnavailable(_connect_failure(exc)) from exc
        try:
            if await through_pooler(conn):
                raise MigrationRefused(
                    "TRIPORT_DATABASE_URL leads to a connection pooler (set "
                    f"TRIPORT_DB_POOLER=transaction to serve through it); {MIGRATE_THROUGH_POOLER}"
                )
            return await _apply_migrations(conn)
        except _FAILURES as exc:
            raise StoreUnavailable(f"migration failed: {exc}") from exc
        finally:
            await conn.close()  # also releases the advisory lock if an error skipped the unlock

    async def _check_schema(self) -> None:
        """Through a pooler nothing is migrated: refuse to serve a schema that is behind."""
        async with self._connection() as conn:
            exists = await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL")
            done = (
                {row[0] for row in await conn.fetch("SELECT version FROM schema_migrations")}
                if exists
                else set()
            )
        pending = [m.version for m in migrations.load("postgres") if m.version not in done]
        if pending:
            raise MigrationRefused(
                f"the database schema lacks migration(s) {', '.join(map(str, pending))}; "
                + MIGRATE_THROUGH_POOLER
            )

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection for single statements, each its own transaction."""
        assert self._pool is not None, "store not opened"
        try:
            async with self._pool.acquire(timeout=self._timeout) as conn:
                yield conn
        except _FAILURES as exc:
            metrics().store_error("postgres")
            raise StoreUnavailable(f"PostgreSQL failed: {type(exc).__name__}") from exc

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[asyncpg.Connection]:
        """One transaction. Pooled, its BEGIN carries the timeouts as SET LOCAL (same round
        trip); an early return commits, an exception leaves the rollback to the release."""
        if not self._pooled:
            async with self._connection() as conn, conn.transaction():
                yield conn
            return
        async with self._connection() as conn:
            await conn.execute(self._begin)
            yield conn
            await conn.execute("COMMIT")

    async def ping(self) -> None:
        async with self._connection() as conn:
            await conn.fetchval("SELECT 1")

    async def record_secret_fingerprint(self, fingerprint: bytes) -> bytes:
        async with self._transaction() as conn:
            await conn.execute(
                "INSERT INTO secret_fingerprint (id, fingerprint) VALUES (1, $1) "
                "ON CONFLICT (id) DO NOTHING",
                fingerprint,
            )
            recorded: bytes = await conn.fetchval(
                "SELECT fingerprint FROM secret_fingerprint WHERE id = 1"
            )
            return bytes(recorded)

    async def _update(self, sql: str, *args: Any) -> bool:
        """One UPDATE of at most one row; True when it changed it."""
        async with self._connection() as conn:
            status: str = await conn.execute(sql, *args)
        return status == "UPDATE 1"

    # Sessions -------------------------------------------------------------------------------
    async def find_live_session(self, token_hash: bytes, now: datetime) -> LiveSession | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT s.csrf_hash, s.created_at AS session_created_at, s.expires_at, "
                "s.id AS session_id, s.provider AS session_provider, s.last_seen_at, "
                f"{_USER_COLUMNS}, {_KEY_COLUMNS} "
                "FROM sessions s JOIN users u ON u.id = s.user_id "
                "LEFT JOIN api_keys k ON k.user_id = u.id AND k.is_default "
                "AND k.status = 'active' "
                "WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
                token_hash,
                now,
            )
        if row is None:
            return None
        return LiveSession(
            token_hash=token_hash,
            csrf_hash=row["csrf_hash"],
            created_at=row["session_created_at"],
            expires_at=row["expires_at"],
            user=_user(row),
            default_key=_key(row) if row["key_id"] is not None else None,
            id=str(row["session_id"]),
            provider=row["session_provider"],
            last_seen_at=row["last_seen_at"],
        )

    async def session_end_reason(self, token_hash: bytes, now: datetime) -> EndReason | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT revoked_reason, revoked_at, expires_at FROM sessions WHERE token_hash = $1",
                token_hash,
            )
        if row is None:
            return None
        if row["revoked_at"] is not None:
            return EndReason(row["revoked_reason"] or EndReason.SIGNED_OUT)
        return EndReason.EXPIRED if row["expires_at"] <= now else None

    async def revoke_session(
        self, token_hash: bytes, csrf_hash: bytes, now: datetime, client: ClientInfo = NO_CLIENT
    ) -> RevokeOutcome:
        async with self._connection() as conn:
            # Still one statement on the usual path: the revoke and its `signed_out` event
            # (only for a row that was live) commit together or not at all.
            revoked = await conn.fetchval(
                "WITH revoked AS (UPDATE sessions SET revoked_at = $3, "
                "revoked_reason = 'signed_out' WHERE token_hash = $1 AND revoked_at IS NULL "
                "AND (csrf_hash = $2 OR expires_at <= $3) "
                "RETURNING id, user_id, provider, expires_at > $3 AS was_live), "
                "event AS (INSERT INTO activity_events (id, user_id, type, at, ip, user_agent, "
                "provider, session_id) SELECT $4::uuid, user_id, 'signed_out', $3, $5::text, "
                "$6::text, provider, id FROM revoked WHERE was_live) "
                "SELECT true FROM revoked",
                token_hash,
                csrf_hash,
                now,
                uuid.uuid4(),
                client.ip,
                client.user_agent,
            )
            if revoked:
                return RevokeOutcome.REVOKED
            # The rare path (a repeat, an unknown token, or a CSRF token bound to another
            # session) pays for the second lookup; the usual logout is one statement.
            unbound = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM sessions WHERE token_hash = $1 "
                "AND revoked_at IS NULL AND expires_at > $3 AND csrf_hash <> $2)",
                token_hash,
                csrf_hash,
                now,
            )
        return RevokeOutcome.CSRF_UNBOUND if unbound else RevokeOutcome.NOTHING_LIVE

    async def extend_session(self, token_hash: bytes, expires_at: datetime, now: datetime) -> bool:
        return await self._update(
            "UPDATE sessions SET expires_at = $2 WHERE token_hash = $1 "
            "AND revoked_at IS NULL AND expires_at > $3",
            token_hash,
            expires_at,
            now,
        )

    async def touch_session(
        self, token_hash: bytes, now: datetime, stale_before: datetime, ip: str | None
    ) -> bool:
        return await self._update(
            "UPDATE sessions SET last_seen_at = $2, ip = coalesce($4, ip) WHERE token_hash = $1 "
            "AND revoked_at IS NULL AND expires_at > $2 AND last_seen_at < $3",
            token_hash,
            now,
            stale_before,
            ip,
        )

    async def list_live_sessions(self, user_id: str, now: datetime) -> list[SessionInfo]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                "SELECT id, provider, created_at, last_seen_at, expires_at, ip, user_agent "
                "FROM sessions WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2 "
                "ORDER BY created_at DESC, id DESC",
                user_id,
                now,
            )
        return [
            SessionInfo(
                id=str(row["id"]),
                provider=row["provider"],
                created_at=row["created_at"],
                last_seen_at=row["last_seen_at"],
                expires_at=row["expires_at"],
                ip=row["ip"],
                user_agent=row["user_agent"],
            )
            for row in rows
        ]

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
        async with self._transaction() as conn:
            if by_session_id != session_id:
                await _require_live(conn, user_id, by_session_id, now)
            # The row lock makes a concurrent revoke of the same session wait, then see it
            # revoked: exactly one of them records the event.
            row = await conn.fetchrow(
                "SELECT provider, revoked_at IS NULL AND expires_at > $3 AS live FROM sessions "
                "WHERE id = $1 AND user_id = $2 FOR UPDATE",
                session_id,
                user_id,
                now,
            )
            if row is None:
                return SessionRevoke.UNKNOWN
            if not row["live"]:
                return SessionRevoke.NOTHING_LIVE
            await conn.execute(
                "UPDATE sessions SET revoked_at = $2, revoked_reason = $3 WHERE id = $1",
                session_id,
                now,
                reason.value,
            )
            event = NewEvent(event_type, now, client, row["provider"], session_id)
            await record_event(conn, user_id, event)
        return SessionRevoke.REVOKED

    async def revoke_other_sessions(
        self, user_id: str, keep_session_id: str, now: datetime, client: ClientInfo
    ) -> int:
        async with self._transaction() as conn:
            provider = await _require_live(conn, user_id, keep_session_id, now)
            status: str = await conn.execute(
                "UPDATE sessions SET revoked_at = $3, revoked_reason = 'signed_out_everywhere' "
                "WHERE user_id = $1 AND id <> $2 AND revoked_at IS NULL AND expires_at > $3",
                user_id,
                keep_session_id,
                now,
            )
            revoked = int(status.split()[-1])
            if revoked:
                event = NewEvent(
                    EventType.SIGNED_OUT_EVERYWHERE, now, client, provider, keep_session_id
                )
                await record_event(conn, user_id, event)
        return revoked

    async def revoke_user_sessions(self, email: str, now: datetime) -> int:
        async with self._connection() as conn:
            status = await conn.execute(
                "WITH revoked AS (UPDATE sessions SET revoked_at = $2, revoked_reason = 'admin' "
                "WHERE revoked_at IS NULL AND expires_at > $2 "
                "AND user_id = (SELECT id FROM users WHERE email = $1) RETURNING id, user_id) "
                "INSERT INTO activity_events (id, user_id, type, at, session_id) "
                "SELECT gen_random_uuid(), user_id, 'session_revoked', $2, id FROM revoked",
                email,
                now,
            )
        return int(status.split()[-1])

    async def sign_in(self, identity: Identity, session: NewSession) -> SignedIn:
        async with self._transaction() as conn:
            return await _sign_in(conn, identity, session)

    # Account activity -----------------------------------------------------------------------
    async def list_activity(
        self, user_id: str, before: tuple[datetime, str] | None, limit: int
    ) -> list[ActivityEvent]:
        query = f"SELECT {_EVENT_COLUMNS} FROM activity_events WHERE user_id = $1"
        order = " ORDER BY at DESC, id DESC LIMIT $2"
        async with self._connection() as conn:
            if before is None:
                rows = await conn.fetch(query + order, user_id, limit)
            else:
                rows = await conn.fetch(
                    query + " AND (at, id) < ($3, $4)" + order,
                    user_id,
                    limit,
                    before[0],
                    before[1],
                )
        return [_event(row) for row in rows]

    # Email codes ----------------------------------------------------------------------------
    async def create_login_code(
        self, code: LoginCode, window_start: datetime, limit: int
    ) -> datetime | None:
        async with self._transaction() as conn:
            # Serialises the count-then-insert for one address across every instance.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", code.email)
            recent = await conn.fetch(
                "SELECT created_at FROM login_codes WHERE email = $1 AND created_at > $2 "
                "ORDER BY created_at LIMIT $3",
                code.email,
                window_start,
                limit,
            )
            if len(recent) >= limit:
                oldest: datetime = recent[0]["created_at"]
                return oldest
            await conn.execute(
                "INSERT INTO login_codes (request_id, email, code_mac, created_at, expires_at) "
                "VALUES ($1, $2, $3, $4, $5)",
                code.request_id,
                code.email,
                code.code_mac,
                code.created_at,
                code.expires_at,
            )
            return None

    async def delete_login_code(self, request_id: str) -> None:
        async with self._connection() as conn:
            await conn.execute("DELETE FROM login_codes WHERE request_id = $1", request_id)

    async def complete_email_login(
        self, request_id: str, code_mac: bytes, max_attempts: int, session: NewSession
    ) -> CodeResult:
        async with self._transaction() as conn:
            row = await conn.fetchrow(
                "SELECT email, code_mac FROM login_codes WHERE request_id = $1 "
                "AND consumed_at IS NULL AND expires_at > $2 AND attempts < $3 FOR UPDATE",
                request_id,
                session.created_at,
                max_attempts,
            )
            if row is None:
                return CodeResult(CodeOutcome.INVALID_REQUEST)
            if not hmac.compare_digest(row["code_mac"], code_mac):
                await conn.execute(
                    "UPDATE login_codes SET attempts = attempts + 1 WHERE request_id = $1",
                    request_id,
                )
                return CodeResult(CodeOutcome.WRONG_CODE)
            await conn.execute(
                "UPDATE login_codes SET consumed_at = $2 WHERE request_id = $1",
                request_id,
                session.created_at,
            )
            email = row["email"]
            signed_in = await _sign_in(conn, Identity("email", email, email=email), session)
            return CodeResult(CodeOutcome.SIGNED_IN, signed_in.user, signed_in.signed_out_others)

    # Wallet challenges ----------------------------------------------------------------------
    async def create_wallet_challenge(self, challenge: WalletChallenge) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO wallet_challenges (nonce, chain, address, message, issued_at, "
                "expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                challenge.nonce,
                challenge.chain,
                challenge.address,
                challenge.message,
                challenge.issued_at,
                challenge.expires_at,
            )

    async def find_wallet_challenge(self, nonce: str, now: datetime) -> WalletChallenge | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                "SELECT chain, address, message, issued_at, expires_at FROM wallet_challenges "
                "WHERE nonce = $1 AND used_at IS NULL AND expires_at > $2",
                nonce,
                now,
            )
        if row is None:
            return None
        return WalletChallenge(
            nonce,
            row["chain"],
            row["address"],
            row["message"],
            row["issued_at"],
            row["expires_at"],
        )

    async def complete_wallet_login(
        self, nonce: str, identity: Identity, session: NewSession
    ) -> SignedIn | None:
        async with self._transaction() as conn:
            # A concurrent burner holds the row lock; once it commits, READ COMMITTED re-checks
            # `used_at IS NULL` on the new row version and this UPDATE matches nothing.
            burned = await conn.execute(
                "UPDATE wallet_challenges SET used_at = $2 WHERE nonce = $1 AND used_at IS NULL "
                "AND expires_at > $2",
                nonce,
                session.created_at,
            )
            if burned != "UPDATE 1":
                return None
            return await _sign_in(conn, identity, session)

    # Passkeys -------------------------------------------------------------------------------
    async def create_passkey_challenge(self, challenge: PasskeyChallenge) -> None:
        async with self._connection() as conn:
            await conn.execute(
                "INSERT INTO passkey_challenges (challenge_hash, purpose, user_id, created_at, "
                "expires_at) VALUES ($1, $2, $3, $4, $5)",
                challenge.challenge_hash,
                challenge.purpose,
                challenge.user_id,
                challenge.created_at,
                challenge.expires_at,
            )

    async def passkey_challenge_live(
        self, challenge_hash: bytes, purpose: str, user_id: str | None, now: datetime
    ) -> bool:
        async with self._connection() as conn:
            live: bool = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM passkey_challenges WHERE challenge_hash = $1 "
                "AND purpose = $2 AND user_id IS NOT DISTINCT FROM $3::uuid AND used_at IS NULL "
                "AND expires_at > $4)",
                challenge_hash,
                purpose,
                user_id,
                now,
            )
        return live

    async def list_passkeys(self, user_id: str) -> list[Passkey]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT {_PASSKEY_COLUMNS} FROM passkeys p WHERE p.user_id = $1 "
                "AND p.removed_at IS NULL ORDER BY p.created_at DESC, p.id DESC",
                user_id,
            )
        return [_passkey(row) for row in rows]

    async def find_passkey(self, credential_id: bytes) -> Passkey | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_PASSKEY_COLUMNS} FROM passkeys p WHERE p.credential_id = $1 "
                "AND p.removed_at IS NULL",
                credential_id,
            )
        return _passkey(row) if row is not None else None

    async def add_passkey(
        self, challenge_hash: bytes, passkey: Passkey, client: ClientInfo = NO_CLIENT
    ) -> None:
        # Raising inside the transaction rolls the burn back: nothing changes on a refusal.
        async with self._transaction() as conn:
            await _burn_passkey_challenge(
                conn, challenge_hash, "register", passkey.user_id, passkey.created_at
            )
            inserted = await conn.execute(
                "INSERT INTO passkeys (id, user_id, credential_id, public_key, sign_count, "
                "transports, name, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
                "ON CONFLICT (credential_id) DO NOTHING",
                passkey.id,
                passkey.user_id,
                passkey.credential_id,
                passkey.public_key,
                passkey.sign_count,
                list(passkey.transports),
                passkey.name,
                passkey.created_at,
            )
            if inserted != "INSERT 0 1":
                raise InvalidCredential("this passkey is already registered")
            event = NewEvent(
                EventType.PASSKEY_ADDED, passkey.created_at, client, passkey_id=passkey.id
            )
            await record_event(conn, passkey.user_id, event)

    async def remove_passkey(
        self, user_id: str, passkey_id: str, now: datetime, client: ClientInfo = NO_CLIENT
    ) -> PasskeyRemoval:
        async with self._transaction() as conn:
            removed = await conn.fetchval(
                "UPDATE passkeys SET removed_at = $3 WHERE id = $1 AND user_id = $2 "
                "AND removed_at IS NULL RETURNING true",
                passkey_id,
                user_id,
                now,
            )
            if removed:
                event = NewEvent(EventType.PASSKEY_REMOVED, now, client, passkey_id=passkey_id)
                await record_event(conn, user_id, event)
                return PasskeyRemoval.REMOVED
            owned = await conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM passkeys WHERE id = $1 AND user_id = $2)",
                passkey_id,
                user_id,
            )
        return PasskeyRemoval.ALREADY_REMOVED if owned else PasskeyRemoval.NOT_FOUND

    async def complete_passkey_login(
        self, challenge_hash: bytes, passkey: Passkey, sign_count: int, session: NewSession
    ) -> SignedIn:
        async with self._transaction() as conn:
            await _burn_passkey_challenge(conn, challenge_hash, "sign_in", None, session.created_at)
            # A concurrent sign-in with this passkey holds the row lock; once it commits, READ
            # COMMITTED re-checks the counter on the new row version and this matches nothing.
            user_id = await conn.fetchval(
                "UPDATE passkeys SET sign_count = $2, last_used_at = $3 WHERE id = $1 "
                "AND sign_count = $4 AND removed_at IS NULL RETURNING user_id",
                passkey.id,
                sign_count,
                session.created_at,
                passkey.sign_count,
            )
            if user_id is None:
                raise InvalidCredential("the passkey was removed or used meanwhile")
            row = await conn.fetchrow(
                f"SELECT {_USER_COLUMNS} FROM users u WHERE u.id = $1", user_id
            )
            user = _user(row)
            return SignedIn(user, await start_session(conn, user.id, session))

    # API keys -------------------------------------------------------------------------------
    async def create_default_key(
        self, user_id: str, key: NewApiKey, client: ClientInfo = NO_CLIENT
    ) -> ApiKey | None:
        async with self._transaction() as conn:
            inserted = await _insert_key(conn, user_id, key, client, on_conflict_nothing=True)
        if not inserted:
            return None  # another request created the default key first
        return key.issued_to(user_id)

    async def find_default_key(self, user_id: str) -> ApiKey | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_KEY_COLUMNS} FROM api_keys k WHERE k.user_id = $1 AND k.is_default "
                "AND k.status = 'active'",
                user_id,
            )
        return _key(row) if row is not None else None

    # Abuse limits and housekeeping ----------------------------------------------------------
    async def hit_rate_limit(
        self, bucket: str, key: str, window_start: datetime, window_end: datetime
    ) -> int:
        async with self._connection() as conn:
            hits: int = await conn.fetchval(
                "INSERT INTO rate_limits (bucket, key, window_start, hits, expires_at) "
                "VALUES ($1, $2, $3, 1, $4) ON CONFLICT (bucket, key, window_start) "
                "DO UPDATE SET hits = rate_limits.hits + 1 RETURNING hits",
                bucket,
                key,
                window_start,
                window_end,
            )
        return hits

    async def purge_batch(self, target: PurgeTarget, cutoff: datetime, limit: int) -> int:
        async with self._connection() as conn:
            status: str = await conn.execute(purge_statement(target, "$1", "$2"), cutoff, limit)
        return int(status.split()[-1])

    async def list_keys(self, user_id: str) -> list[ApiKey]:
        async with self._connection() as conn:
            rows = await conn.fetch(
                f"SELECT {_KEY_COLUMNS} FROM api_keys k WHERE k.user_id = $1 "
                "ORDER BY k.created_at DESC, k.id DESC",
                user_id,
            )
        return [_key(row) for row in rows]

    async def find_key(self, user_id: str, key_id: str) -> ApiKey | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_KEY_COLUMNS} FROM api_keys k WHERE k.id = $1 AND k.user_id = $2",
                key_id,
                user_id,
            )
        return _key(row) if row is not None else None

    async def create_key(
        self, user_id: str, key: NewApiKey, max_active: int, client: ClientInfo = NO_CLIENT
    ) -> ApiKey | None:
        async with self._transaction() as conn:
            # The user's row lock serialises count-then-insert for one user across instances;
            # NO KEY UPDATE does not block sign-ins inserting sessions that reference the row.
            await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", user_id)
            active = await conn.fetchval(
                "SELECT count(*) FROM api_keys WHERE user_id = $1 AND status = 'active'", user_id
            )
            if active >= max_active:
                return None
            await _insert_key(conn, user_id, key, client)
        return key.issued_to(user_id)

    async def revoke_key(
        self, user_id: str, key_id: str, now: datetime, client: ClientInfo = NO_CLIENT
    ) -> bool:
        async with self._transaction() as conn:
            status = await conn.execute(
                "UPDATE api_keys SET status = 'revoked', revoked_at = $3 WHERE id = $1 "
                "AND user_id = $2 AND status = 'active' AND NOT is_default",
                key_id,
                user_id,
                now,
            )
            if status != "UPDATE 1":
                return False
            await record_event(
                conn, user_id, NewEvent(EventType.KEY_REVOKED, now, client, key_id=key_id)
            )
        return True

    async def rotate_key(
        self,
        user_id: str,
        key_id: str,
        successor: NewApiKey,
        now: datetime,
        client: ClientInfo = NO_CLIENT,
    ) -> ApiKey | None:
        async with self._transaction() as conn:
            # Revoke first: the default key's successor may only exist once the old one is
            # revoked (one active default per user). A concurrent rotation waits on the row
            # lock, then re-checks `status` and updates nothing.
            status = await conn.execute(
                "UPDATE api_keys SET status = 'revoked', revoked_at = $3, replaced_by = $4 "
                "WHERE id = $1 AND user_id = $2 AND status = 'active'",
                key_id,
                user_id,
                now,
                successor.id,
            )
            if status != "UPDATE 1":
                return None
            await _insert_key(conn, user_id, successor)
            await record_event(
                conn, user_id, NewEvent(EventType.KEY_ROTATED, now, client, key_id=key_id)
            )
        return successor.issued_to(user_id)

    async def find_active_key(self, key_hash: bytes) -> tuple[ApiKey, User] | None:
        async with self._connection() as conn:
            row = await conn.fetchrow(
                f"SELECT {_KEY_COLUMNS}, {_USER_COLUMNS} FROM api_keys k "
                "JOIN users u ON u.id = k.user_id WHERE k.key_hash = $1 AND k.status = 'active'",
                key_hash,
            )
        return (_key(row), _user(row)) if row is not None else None

    async def touch_key(self, key_id: str, now: datetime, stale_before: datetime) -> bool:
        return await self._update(
            "UPDATE api_keys SET last_used_at = $2 WHERE id = $1 "
            "AND (last_used_at IS NULL OR last_used_at < $3)",
            key_id,
            now,
            stale_before,
        )


def _connect_failure(exc: BaseException) -> str:
    if "unsupported startup parameter" in str(exc):  # PgBouncer refusing the session settings
        return (
            f"cannot connect to PostgreSQL: {exc} (TRIPORT_DATABASE_URL leads to a connection "
            "pooler: set TRIPORT_DB_POOLER=transaction)"
        )
    return f"cannot connect to PostgreSQL: {exc}"


async def _apply_migrations(conn: asyncpg.Connection) -> list[int]:
    applied = []
    await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    await conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
        "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
    )
    done = {row[0] for row in await conn.fetch("SELECT version FROM schema_migrations")}
    for migration in migrations.load("postgres"):
        if migration.version not in done:
            async with conn.transaction():
                await conn.execute(migration.sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                    migration.version,
                    migration.name,
                )
            applied.append(migration.version)
    await conn.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied


async def _require_live(
    conn: asyncpg.Connection, user_id: str, session_id: str, now: datetime
) -> str:
    """The caller's session must still be live inside the transaction that acts for it: a
    request must not act for a session that another one has just ended. Its provider.

    Takes the user's row lock first, so that session revokes acting for one user (from two
    devices at once) run one after the other instead of deadlocking on each other's rows, and
    the caller's row lock, so that it cannot be revoked before this transaction ends.
    """
    await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", user_id)
    provider: str | None = await conn.fetchval(
        "SELECT provider FROM sessions WHERE id = $1 AND user_id = $2 "
        "AND revoked_at IS NULL AND expires_at > $3 FOR UPDATE",
        session_id,
        user_id,
        now,
    )
    if provider is None:
        raise SessionNotLive()
    return provider


async def record_event(conn: asyncpg.Connection, user_id: str, event: NewEvent) -> None:
    """Insert an activity event inside the caller's transaction (the one making the change)."""
    await conn.execute(
        "INSERT INTO activity_events (id, user_id, type, at, ip, user_agent, provider, "
        "session_id, key_id, passkey_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        event.id,
        user_id,
        event.type,
        event.at,
        event.client.ip,
        event.client.user_agent,
        event.provider,
        event.session_id,
        event.key_id,
        event.passkey_id,
    )


async def _insert_key(
    conn: asyncpg.Connection,
    user_id: str,
    key: NewApiKey,
    created_by: ClientInfo | None = None,
    *,
    on_conflict_nothing: bool = False,
) -> bool:
    """Insert a key; with `created_by` (a new key, not a rotation's successor) record
    `key_created` too, in the caller's transaction."""
    conflict = " ON CONFLICT DO NOTHING" if on_conflict_nothing else ""
    status: str = await conn.execute(
        "INSERT INTO api_keys (id, user_id, name, key_prefix, key_hash, scopes, rate_limit, "
        "status, is_default, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'active', $8, $9)"
        + conflict,
        key.id,
        user_id,
        key.name,
        key.key_prefix,
        key.key_hash,
        list(key.scopes),
        key.rate_limit,
        key.is_default,
        key.created_at,
    )
    inserted = status == "INSERT 0 1"
    if inserted and created_by is not None:
        event = NewEvent(EventType.KEY_CREATED, key.created_at, created_by, key_id=key.id)
        await record_event(conn, user_id, event)
    return inserted


async def _sign_in(conn: asyncpg.Connection, identity: Identity, session: NewSession) -> SignedIn:
    at = session.created_at
    # Serialises first sign-ins of one identity: without it two concurrent first wallet
    # sign-ins (no email to meet on) would each create a user for the same identity.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"{identity.provider}:{identity.subject}",
    )
    row: Any = await conn.fetchrow(
        f"SELECT {_USER_COLUMNS} FROM identities i JOIN users u ON u.id = i.user_id "
        "WHERE i.provider = $1 AND i.subject = $2",
        identity.provider,
        identity.subject,
    )
    if row is None:
        if identity.email is not None:
            # ON CONFLICT makes two concurrent first sign-ins of one address meet on one row.
            await conn.execute(
                "INSERT INTO users (id, email, display_name, avatar_url, provider, created_at, "
                "updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (email) DO NOTHING",
                uuid.uuid4(),
                identity.email,
                identity.display_name,
                identity.avatar_url,
                identity.provider,
                at,
            )
            row = await conn.fetchrow(
                f"SELECT {_USER_COLUMNS} FROM users u WHERE u.email = $1", identity.email
            )
        else:
            row = await conn.fetchrow(
                "INSERT INTO users (id, email, display_name, avatar_url, provider, created_at, "
                "updated_at) VALUES ($1, NULL, $2, $3, $4, $5, $5) RETURNING "
                + _USER_COLUMNS.replace("u.", ""),
                uuid.uuid4(),
                identity.display_name,
                identity.avatar_url,
                identity.provider,
                at,
            )
        await conn.execute(
            "INSERT INTO identities (provider, subject, user_id, created_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            identity.provider,
            identity.subject,
            row["id"],
            at,
        )
    user = _user(row)
    return SignedIn(user, await start_session(conn, user.id, session))


async def start_session(conn: asyncpg.Connection, user_id: str, session: NewSession) -> int:
    """Every sign-in's last step, in its transaction (see NewSession); returns how many other
    sessions `sign_out_others` ended. Passkey sign-in calls it too."""
    at = session.created_at
    if session.replaces is not None:
        await conn.execute(
            "UPDATE sessions SET revoked_at = $2, revoked_reason = 'replaced' "
            "WHERE token_hash = $1 AND revoked_at IS NULL AND expires_at > $2",
            session.replaces,
            session.created_at,
        )
    signed_out = 0
    if session.sign_out_others:
        # The user's row lock orders this against revoke-others from the user's other devices.
        await conn.execute("SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE", user_id)
        status: str = await conn.execute(
            "UPDATE sessions SET revoked_at = $2, revoked_reason = 'signed_out_everywhere' "
            "WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > $2",
            user_id,
            at,
        )
        signed_out = int(status.split()[-1])
    client = session.client
    await conn.execute(
        "INSERT INTO sessions (token_hash, csrf_hash, user_id, created_at, expires_at, id, "
        "provider, last_seen_at, ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7, $4, $8, $9)",
        session.token_hash,
        session.csrf_hash,
        user_id,
        at,
        session.expires_at,
        session.id,
        session.provider,
        client.ip,
        client.user_agent,
    )
    for kind in (
        (EventType.SIGNED_IN, EventType.SIGNED_OUT_EVERYWHERE)
        if signed_out
        else (EventType.SIGNED_IN,)
    ):
        event = NewEvent(kind, at, client, session.provider, session.id)
        await record_event(conn, user_id, event)
    return signed_out


async def _burn_passkey_challenge(
    conn: asyncpg.Connection,
    challenge_hash: bytes,
    purpose: str,
    user_id: str | None,
    now: datetime,
) -> None:
    """Mark the challenge used, or raise InvalidChallenge when it is not live for this purpose
    and user. A concurrent burner holds the row lock; after its commit this matches nothing."""
    burned = await conn.execute(
        "UPDATE passkey_challenges SET used_at = $4 WHERE challenge_hash = $1 AND purpose = $2 "
        "AND user_id IS NOT DISTINCT FROM $3::uuid AND used_at IS NULL AND expires_at > $4",
        challenge_hash,
        purpose,
        user_id,
        now,
    )
    if burned != "UPDATE 1":
        raise InvalidChallenge("the challenge was used or expired meanwhile")
