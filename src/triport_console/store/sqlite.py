"""SQLite store: WAL, durable commits, reads on the event loop, writes group-committed.

Why this shape:
- Reads are indexed point lookups that take microseconds in WAL mode, where readers never wait
  for writers; running them inline is far cheaper than a hop to a thread.
- Every write must be durable before its request is answered (`synchronous=FULL`: the WAL is
  fsynced at each commit). One fsync per request would cap logout at the disk's sync rate, so a
  single writer thread takes every write waiting in its queue and commits them in one transaction
  (group commit). One failing operation does not sink the rest: when one raises, the batch is
  rolled back and run again with each operation inside its own SAVEPOINT (savepoints on every
  batch cost as much as a logout's own statements). No future is resolved before COMMIT returns.
- Other processes (workers, `revoke-sessions`) contend for the write lock through SQLite's busy
  handler, bounded by TRIPORT_DB_TIMEOUT; a lock held past that fails the write.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import os
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import orjson

from ..errors import (
    DomainError,
    InvalidChallenge,
    InvalidCredential,
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
from ..tokens import new_uuid
from . import migrations
from .base import (
    CodeOutcome,
    CodeResult,
    PasskeyRemoval,
    PurgeTarget,
    RevokeOutcome,
    SessionRevoke,
    Store,
    purge_statement,
)

T = TypeVar("T")
_MAX_BATCH = 256

_USER_COLUMNS = (
    "u.id, u.email, u.display_name, u.avatar_url, u.provider, u.created_at, u.updated_at"
)
_KEY_COLUMNS = (
    "k.id, k.user_id, k.name, k.key_prefix, k.scopes, k.rate_limit, k.status, k.is_default, "
    "k.created_at, k.last_used_at"
)

_PASSKEY_COLUMNS = (
    "p.id, p.user_id, p.credential_id, p.public_key, p.sign_count, p.transports, p.name, "
    "p.created_at, p.last_used_at"
)


def ts(value: datetime) -> str:
    """Fixed-width UTC text, so that timestamps compare correctly as strings."""
    if value.utcoffset():
        value = value.astimezone(UTC)
    return value.isoformat(timespec="microseconds")[:26] + "Z"


def _dt(value: str) -> datetime:
    return datetime.fromisoformat(value)


def _shown(value: str) -> str:
    """A stored timestamp (`ts`) as the contract shows it (`models.shown_time`), unparsed."""
    return value[:19] + "Z"


def _session_info(row: tuple[Any, ...]) -> SessionInfo:
    return SessionInfo(row[0], row[1], _dt(row[2]), _dt(row[3]), _dt(row[4]), row[5], row[6])


def _event(row: tuple[Any, ...]) -> ActivityEvent:
    return ActivityEvent(row[0], row[1], _dt(row[2]), *row[3:])


def _user(row: tuple[Any, ...]) -> User:
    return User(row[0], row[1], row[2], row[3], row[4], _shown(row[5]), _shown(row[6]))


def _key(row: tuple[Any, ...]) -> ApiKey:
    return ApiKey(
        row[0],
        row[1],
        row[2],
        row[3],
        tuple(orjson.loads(row[4])),
        row[5],
        row[6],
        bool(row[7]),
        _shown(row[8]),
        _dt(row[9]) if row[9] else None,
    )


def _passkey(row: tuple[Any, ...]) -> Passkey:
    return Passkey(
        id=row[0],
        user_id=row[1],
        credential_id=row[2],
        public_key=row[3],
        sign_count=row[4],
        transports=tuple(orjson.loads(row[5])),
        name=row[6],
        created_at=_dt(row[7]),
        last_used_at=_dt(row[8]) if row[8] else None,
    )


def create_private(path: str) -> None:
    """Create the database file owner-only (0600) before SQLite does; SQLite then gives the
    -wal and -shm files the same mode. An existing file keeps the mode its operator chose."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def connect(path: str, timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


@dataclass(slots=True)
class _Job:
    operation: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any]
    deadline: float


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the request was cancelled (client went away); the commit still stands
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def _settle_all(outcomes: list[tuple[asyncio.Future[Any], Any, BaseException | None]]) -> None:
    for future, result, error in outcomes:
        _settle(future, result, error)


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(StoreUnavailable("the database writer did not answer in time"))


def _begin_immediate(conn: sqlite3.Connection, deadline: float) -> None:
    """Take the write lock, retrying every few milliseconds until `deadline`.

    SQLite's own busy handler backs off to 100 ms sleeps, so a writer in another process holding
    the lock for one commit could delay this whole batch by up to 100 ms; short sleeps in this
    (writer) thread cost nothing on the event loop and keep that wait near the other commit's.
    """
    delay = 0.0005
    conn.execute("PRAGMA busy_timeout=0")
    while True:
        try:
            conn.execute("BEGIN IMMEDIATE")
            break
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorname != "SQLITE_BUSY" or time.monotonic() + delay >= deadline:
                raise
        time.sleep(delay)
        delay = min(delay * 2, 0.004)
    # Statements inside the transaction still wait for other processes until the deadline.
    conn.execute(f"PRAGMA busy_timeout={max(1, int((deadline - time.monotonic()) * 1000))}")


Outcomes = list[tuple[_Job, Any, BaseException | None]]


def _apply_together(conn: sqlite3.Connection, jobs: list[_Job]) -> Outcomes | None:
    """Every job in the open transaction, no savepoints (the usual case: none fails, and a
    SAVEPOINT and RELEASE per job cost about as much as a logout's own statements); None as
    soon as one raises, with the transaction left for the caller to roll back."""
    outcomes: Outcomes = []
    for job in jobs:
        try:
            outcomes.append((job, job.operation(conn), None))
        except Exception:
            return None
    return outcomes


def _apply_separately(conn: sqlite3.Connection, jobs: list[_Job]) -> Outcomes:
    """Every job in its own SAVEPOINT: a failing one is rolled back and answered alone."""
    outcomes: Outcomes = []
    for job in jobs:
        conn.execute("SAVEPOINT job")
        try:
            result = job.operation(conn)
        except Exception as exc:  # any failure of one operation is that operation's alone
            conn.execute("ROLLBACK TO job")
            conn.execute("RELEASE job")
            if isinstance(exc, DomainError):
                failure: DomainError = exc
            else:
                metrics().store_error("sqlite")
                failure = StoreUnavailable(f"write failed: {type(exc).__name__}: {exc}")
            outcomes.append((job, None, failure))
        else:
            conn.execute("RELEASE job")
            outcomes.append((job, result, None))
    return outcomes


class GroupCommitWriter:
    """One thread, one connection: batches queued writes into one durable transaction."""

    def __init__(self, path: str, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="sqlite-writer", daemon=True)
        self._loop: asyncio.AbstractEventLoop | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread.start()

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(timeout=10)

    async def run(self, operation: Callable[[sqlite3.Connection], T]) -> T:
        """Queue `operation`; its result once committed, or StoreUnavailable.

        The wait is bounded: past twice TRIPORT_DB_TIMEOUT (plus a second for the fsync) the
        caller gets StoreUnavailable even if the writer is stuck, and a commit that still lands
        later is harmless (a logout retried after `logout_failed` then finds nothing live).
        """
        assert self._loop is not None
        future: asyncio.Future[T] = self._loop.create_future()
        self._jobs.put(_Job(operation, future, time.monotonic() + self._timeout))
        expiry = self._loop.call_later(2 * self._timeout + 1.0, _expire, future)
        try:
            return await future
        finally:
            expiry.cancel()

    def _run(self) -> None:
        conn = connect(self._path, self._timeout)
        try:
            while True:
                job = self._jobs.get()
                if job is None:
                    return
                batch = [job]
                stop = False
                while len(batch) < _MAX_BATCH:
                    try:
                        more = self._jobs.get_nowait()
                    except queue.Empty:
                        break
                    if more is None:
                        stop = True
                        break
                    batch.append(more)
                self._commit_guarded(conn, batch)
                if stop:
                    return
        finally:
            conn.close()

    def _commit_guarded(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        """`_commit`, and whatever goes wrong in it, this thread lives on for the next batch."""
        try:
            self._commit(conn, batch)
        except BaseException as exc:
            # Futures already answered stay answered (`_settle` skips them); the rest fail.
            if conn.in_transaction:
                with contextlib.suppress(Exception):
                    conn.execute("ROLLBACK")
            self._fail(batch, f"writer failed: {type(exc).__name__}")
            if not isinstance(exc, Exception):
                raise

    def _deliver(self, outcomes: Outcomes) -> None:
        """Answer a whole batch with one wake-up of the event loop, not one per job."""
        assert self._loop is not None
        if outcomes:
            self._loop.call_soon_threadsafe(
                _settle_all, [(job.future, result, error) for job, result, error in outcomes]
            )

    def _fail(self, jobs: list[_Job], reason: str) -> None:
        for _ in jobs:
            metrics().store_error("sqlite")
        self._deliver([(job, None, StoreUnavailable(reason)) for job in jobs])

    def _commit(self, conn: sqlite3.Connection, batch: list[_Job]) -> None:
        now = time.monotonic()
        late = [job for job in batch if job.deadline <= now]
        jobs = [job for job in batch if job.deadline > now]
        self._fail(late, "waited too long for the database")
        if not jobs:
            return
        deadline = min(job.deadline for job in jobs)
        try:
            _begin_immediate(conn, deadline)
        except sqlite3.Error as exc:
            self._fail(jobs, f"database locked or unavailable: {exc}")
            return
        try:
            outcomes = _apply_together(conn, jobs)
            if outcomes is None:
                # One of them failed, and without savepoints its writes cannot be told from the
                # others': start again, each job in its own SAVEPOINT, so it fails alone.
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                _begin_immediate(conn, deadline)
                outcomes = _apply_separately(conn, jobs)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            self._fail(jobs, f"commit failed: {exc}")
            return
        metrics().commit_batch(len(jobs))
        # Only now, with the transaction durably committed, may any caller be answered.
        self._deliver(outcomes)


class SQLiteStore(Store):
    def __init__(self, path: str, timeout: float) -> None:
        self._path = path
        self._timeout = timeout
        self._writer = GroupCommitWriter(path, timeout)
        self._reader: sqlite3.Connection | None = None

    async def open(self) -> None:
        Path(self._path).parent.mkdir(parents=True, exist_ok=True)
        self.migrate()
        self._reader = connect(self._path, self._timeout)
        self._reader.execute("PRAGMA query_only=1")
        # Session lookups hit random B-tree pages: serve them from a memory map and a larger
        # page cache instead of a read() system call per page.
        self._reader.execute("PRAGMA mmap_size=268435456")
        self._reader.execute("PRAGMA cache_size=-32768")
        self._writer.start(asyncio.get_running_loop())

    def migrate(self) -> list[int]:
        """Apply pending migrations under the write lock; returns the versions applied."""
        create_private(self._path)
        conn = connect(self._path, max(self._timeout, 30.0))
        applied = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations "
                "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT version FROM schema_migrations")}
            for migration in migrations.load("sqlite"):
                if migration.version in done:
                    continue
                for statement in migration.sql.split(";\n"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(
                    "INSERT INTO schema_migrations VALUES (?, ?, ?)",
                    (migration.version, migration.name, ts(datetime.now(UTC))),
                )
                applied.append(migration.version)
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"migration failed: {exc}") from exc
        finally:
            conn.close()
        return applied

    async def close(self) -> None:
        self._writer.stop()
        if self._reader is not None:
            self._reader.close()

    def _read(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        assert self._reader is not None, "store not opened"
        try:
            # fetchall() ends the implicit read transaction, so the next read sees new commits.
            return self._reader.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            metrics().store_error("sqlite")
            raise StoreUnavailable(f"read failed: {exc}") from exc

    async def ping(self) -> None:
        self._read("SELECT 1", ())

    async def record_secret_fingerprint(self, fingerprint: bytes) -> bytes:
        at = ts(datetime.now(UTC))

        def record(conn: sqlite3.Connection) -> bytes:
            conn.execute(
                "INSERT INTO secret_fingerprint (id, fingerprint, recorded_at) VALUES (1, ?, ?) "
                "ON CONFLICT (id) DO NOTHING",
                (fingerprint, at),
            )
            row = conn.execute("SELECT fingerprint FROM secret_fingerprint WHERE id = 1").fetchone()
            return bytes(row[0])

        return await self._writer.run(record)

    async def _update(self, sql: str, params: tuple[Any, ...]) -> bool:
        """One UPDATE through the writer; True when it changed a row."""
        return await self._writer.run(lambda conn: bool(conn.execute(sql, params).rowcount))

    # Sessions -------------------------------------------------------------------------------
    async def find_live_session(self, token_hash: bytes, now: datetime) -> LiveSession | None:
        rows = self._read(
            "SELECT s.csrf_hash, s.created_at, s.expires_at, s.id, s.provider, s.last_seen_at, "
            f"{_USER_COLUMNS}, {_KEY_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id "
            "LEFT JOIN api_keys k ON k.user_id = u.id AND k.is_default = 1 AND k.status = 'active' "
            "WHERE s.token_hash = ? AND s.revoked_at IS NULL AND s.expires_at > ?",
            (token_hash, ts(now)),
        )
        if not rows:
            return None
        row = rows[0]
        return LiveSession(
            token_hash=token_hash,
            csrf_hash=row[0],
            created_at=_dt(row[1]),
            expires_at=_dt(row[2]),
            id=row[3],
            provider=row[4],
            last_seen_at=_dt(row[5]),
            user=_user(row[6:13]),
            default_key=_key(row[13:]) if row[13] is not None else None,
        )

    async def session_end_reason(self, token_hash: bytes, now: datetime) -> EndReason | None:
        rows = self._read(
            "SELECT revoked_reason, revoked_at, expires_at FROM sessions WHERE token_hash = ?",
            (token_hash,),
        )
        if not rows:
            return None
        reason, revoked_at, expires_at = rows[0]
        if revoked_at is not None:
            return EndReason(reason or EndReason.SIGNED_OUT)
        return EndReason.EXPIRED if expires_at <= ts(now) else None

    async def revoke_session(
        self, token_hash: bytes, csrf_hash: bytes, now: datetime, client: ClientInfo = NO_CLIENT
    ) -> RevokeOutcome:
        at = ts(now)

        def revoke(conn: sqlite3.Connection) -> RevokeOutcome:
            updated = conn.execute(
                "UPDATE sessions SET revoked_at = ?, revoked_reason = 'signed_out' "
                "WHERE token_hash = ? AND revoked_at IS NULL "
                "AND (csrf_hash = ? OR expires_at <= ?)",
                (at, token_hash, csrf_hash, at),
            ).rowcount
            if updated:
                # The `signed_out` event, for a row that was live, read from the row just
                # revoked (by primary key, on the page the UPDATE has just written).
                conn.execute(
                    "INSERT INTO activity_events (id, user_id, type, at, ip, user_agent, "
                    "provider, session_id) SELECT ?, user_id, 'signed_out', ?, ?, ?, provider, id "
                    "FROM sessions WHERE token_hash = ? AND expires_at > ?",
                    (new_uuid(), at, client.ip, client.user_agent, token_hash, at),
                )
                return RevokeOutcome.REVOKED
            still_live = conn.execute(
                "SELECT 1 FROM sessions WHERE token_hash = ? AND revoked_at IS NULL "
                "AND expires_at > ?",
                (token_hash, at),
            ).fetchall()
            return RevokeOutcome.CSRF_UNBOUND if still_live else RevokeOutcome.NOTHING_LIVE

        return await self._writer.run(revoke)

    async def extend_session(self, token_hash: bytes, expires_at: datetime, now: datetime) -> bool:
        return await self._update(
            "UPDATE sessions SET expires_at = ? WHERE token_hash = ? "
            "AND revoked_at IS NULL AND expires_at > ?",
            (ts(expires_at), token_hash, ts(now)),
        )

    async def touch_session(
        self, token_hash: bytes, now: datetime, stale_before: datetime, ip: str | None
    ) -> bool:
        return await self._update(
            "UPDATE sessions SET last_seen_at = ?, ip = coalesce(?, ip) WHERE token_hash = ? "
            "AND revoked_at IS NULL AND expires_at > ? AND last_seen_at < ?",
            (ts(now), ip, token_hash, ts(now), ts(stale_before)),
        )

    async def list_live_sessions(self, user_id: str, now: datetime) -> list[SessionInfo]:
        rows = self._read(
            "SELECT id, provider, created_at, last_seen_at, expires_at, ip, user_agent "
            "FROM sessions WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? "
            "ORDER BY created_at DESC, id DESC",
            (user_id, ts(now)),
        )
        return [_session_info(row) for row in rows]

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
        at = ts(now)

        def revoke(conn: sqlite3.Connection) -> SessionRevoke:
            if by_session_id != session_id:
                _require_live(conn, user_id, by_session_id, at)
            rows = conn.execute(
                "SELECT provider, revoked_at IS NULL AND expires_at > ? FROM sessions "
                "WHERE id = ? AND user_id = ?",
                (at, session_id, user_id),
            ).fetchall()
            if not rows:
                return SessionRevoke.UNKNOWN
            provider, live = rows[0]
            if not live:
                return SessionRevoke.NOTHING_LIVE
            conn.execute(
                "UPDATE sessions SET revoked_at = ?, revoked_reason = ? WHERE id = ?",
                (at, reason.value, session_id),
            )
            record_event(conn, user_id, NewEvent(event_type, now, client, provider, session_id))
            return SessionRevoke.REVOKED

        return await self._writer.run(revoke)

    async def revoke_other_sessions(
        self, user_id: str, keep_session_id: str, now: datetime, client: ClientInfo
    ) -> int:
        at = ts(now)

        def revoke_others(conn: sqlite3.Connection) -> int:
            provider = _require_live(conn, user_id, keep_session_id, at)
            revoked: int = conn.execute(
                "UPDATE sessions SET revoked_at = ?, revoked_reason = 'signed_out_everywhere' "
                "WHERE user_id = ? AND id <> ? AND revoked_at IS NULL AND expires_at > ?",
                (at, user_id, keep_session_id, at),
            ).rowcount
            if revoked:
                event = NewEvent(
                    EventType.SIGNED_OUT_EVERYWHERE, now, client, provider, keep_session_id
                )
                record_event(conn, user_id, event)
            return revoked

        return await self._writer.run(revoke_others)

    async def revoke_user_sessions(self, email: str, now: datetime) -> int:
        at = ts(now)

        def revoke_all(conn: sqlite3.Connection) -> int:
            revoked = conn.execute(
                "UPDATE sessions SET revoked_at = ?, revoked_reason = 'admin' "
                "WHERE revoked_at IS NULL AND expires_at > ? "
                "AND user_id = (SELECT id FROM users WHERE email = ?) RETURNING id, user_id",
                (at, at, email),
            ).fetchall()
            for session_id, user_id in revoked:
                record_event(
                    conn,
                    user_id,
                    NewEvent(EventType.SESSION_REVOKED, now, NO_CLIENT, None, session_id),
                )
            return len(revoked)

        return await self._writer.run(revoke_all)

    async def sign_in(self, identity: Identity, session: NewSession) -> SignedIn:
        return await self._writer.run(lambda conn: _sign_in(conn, identity, session))

    # Account activity -----------------------------------------------------------------------
    async def list_activity(
        self, user_id: str, before: tuple[datetime, str] | None, limit: int
    ) -> list[ActivityEvent]:
        columns = (
            "SELECT id, type, at, ip, user_agent, provider, session_id, key_id, passkey_id "
            "FROM activity_events WHERE user_id = ?"
        )
        order = " ORDER BY at DESC, id DESC LIMIT ?"
        if before is None:
            rows = self._read(columns + order, (user_id, limit))
        else:
            rows = self._read(
                columns + " AND (at, id) < (?, ?)" + order,
                (user_id, ts(before[0]), before[1], limit),
            )
        return [_event(row) for row in rows]

    # Email codes ----------------------------------------------------------------------------
    async def create_login_code(
        self, code: LoginCode, window_start: datetime, limit: int
    ) -> datetime | None:
        def create(conn: sqlite3.Connection) -> datetime | None:
            recent = conn.execute(
                "SELECT created_at FROM login_codes WHERE email = ? AND created_at > ? "
                "ORDER BY created_at LIMIT ?",
                (code.email, ts(window_start), limit),
            ).fetchall()
            if len(recent) >= limit:
                return _dt(recent[0][0])
            conn.execute(
                "INSERT INTO login_codes (request_id, email, code_mac, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (
                    code.request_id,
                    code.email,
                    code.code_mac,
                    ts(code.created_at),
                    ts(code.expires_at),
                ),
            )
            return None

        return await self._writer.run(create)

    async def delete_login_code(self, request_id: str) -> None:
        await self._writer.run(
            lambda conn: conn.execute("DELETE FROM login_codes WHERE request_id = ?", (request_id,))
        )

    async def complete_email_login(
        self, request_id: str, code_mac: bytes, max_attempts: int, session: NewSession
    ) -> CodeResult:
        at = ts(session.created_at)

        def complete(conn: sqlite3.Connection) -> CodeResult:
            rows = conn.execute(
                "SELECT email, code_mac FROM login_codes WHERE request_id = ? "
                "AND consumed_at IS NULL AND expires_at > ? AND attempts < ?",
                (request_id, at, max_attempts),
            ).fetchall()
            if not rows:
                return CodeResult(CodeOutcome.INVALID_REQUEST)
            email, expected = rows[0]
            if not hmac.compare_digest(expected, code_mac):
                conn.execute(
                    "UPDATE login_codes SET attempts = attempts + 1 WHERE request_id = ?",
                    (request_id,),
                )
                return CodeResult(CodeOutcome.WRONG_CODE)
            conn.execute(
                "UPDATE login_codes SET consumed_at = ? WHERE request_id = ?", (at, request_id)
            )
            signed_in = _sign_in(conn, Identity("email", email, email=email), session)
            return CodeResult(CodeOutcome.SIGNED_IN, signed_in.user, signed_in.signed_out_others)

        return await self._writer.run(complete)

    # Wallet challenges ----------------------------------------------------------------------
    async def create_wallet_challenge(self, challenge: WalletChallenge) -> None:
        await self._writer.run(
            lambda conn: conn.execute(
                "INSERT INTO wallet_challenges (nonce, chain, address, message, issued_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    challenge.nonce,
                    challenge.chain,
                    challenge.address,
                    challenge.message,
                    ts(challenge.issued_at),
                    ts(challenge.expires_at),
                ),
            )
        )

    async def find_wallet_challenge(self, nonce: str, now: datetime) -> WalletChallenge | None:
        rows = self._read(
            "SELECT nonce, chain, address, message, issued_at, expires_at FROM wallet_challenges "
            "WHERE nonce = ? AND used_at IS NULL AND expires_at > ?",
            (nonce, ts(now)),
        )
        if not rows:
            return None
        row = rows[0]
        return WalletChallenge(row[0], row[1], row[2], row[3], _dt(row[4]), _dt(row[5]))

    async def complete_wallet_login(
        self, nonce: str, identity: Identity, session: NewSession
    ) -> SignedIn | None:
        at = ts(session.created_at)

        def complete(conn: sqlite3.Connection) -> SignedIn | None:
            # The single writer serialises this: a second call for the nonce updates no row.
            burned = conn.execute(
                "UPDATE wallet_challenges SET used_at = ? WHERE nonce = ? AND used_at IS NULL "
                "AND expires_at > ?",
                (at, nonce, at),
            ).rowcount
            return _sign_in(conn, identity, session) if burned else None

        return await self._writer.run(complete)

    # Passkeys -------------------------------------------------------------------------------
    async def create_passkey_challenge(self, challenge: PasskeyChallenge) -> None:
        await self._writer.run(
            lambda conn: conn.execute(
                "INSERT INTO passkey_challenges (challenge_hash, purpose, user_id, created_at, "
                "expires_at) VALUES (?, ?, ?, ?, ?)",
                (
                    challenge.challenge_hash,
                    challenge.purpose,
                    challenge.user_id,
                    ts(challenge.created_at),
                    ts(challenge.expires_at),
                ),
            )
        )

    async def passkey_challenge_live(
        self, challenge_hash: bytes, purpose: str, user_id: str | None, now: datetime
    ) -> bool:
        return bool(
            self._read(
                "SELECT 1 FROM passkey_challenges WHERE challenge_hash = ? AND purpose = ? "
                "AND user_id IS ? AND used_at IS NULL AND expires_at > ?",
                (challenge_hash, purpose, user_id, ts(now)),
            )
        )

    async def list_passkeys(self, user_id: str) -> list[Passkey]:
        rows = self._read(
            f"SELECT {_PASSKEY_COLUMNS} FROM passkeys p WHERE p.user_id = ? "
            "AND p.removed_at IS NULL ORDER BY p.created_at DESC, p.id DESC",
            (user_id,),
        )
        return [_passkey(row) for row in rows]

    async def find_passkey(self, credential_id: bytes) -> Passkey | None:
        rows = self._read(
            f"SELECT {_PASSKEY_COLUMNS} FROM passkeys p WHERE p.credential_id = ? "
            "AND p.removed_at IS NULL",
            (credential_id,),
        )
        return _passkey(rows[0]) if rows else None

    async def add_passkey(
        self, challenge_hash: bytes, passkey: Passkey, client: ClientInfo = NO_CLIENT
    ) -> None:
        at = ts(passkey.created_at)

        def add(conn: sqlite3.Connection) -> None:
            # A DomainError raised here rolls back this job's savepoint: nothing changes.
            _burn_passkey_challenge(conn, challenge_hash, "register", passkey.user_id, at)
            try:
                conn.execute(
                    "INSERT INTO passkeys (id, user_id, credential_id, public_key, sign_count, "
                    "transports, name, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        passkey.id,
                        passkey.user_id,
                        passkey.credential_id,
                        passkey.public_key,
                        passkey.sign_count,
                        orjson.dumps(passkey.transports).decode(),
                        passkey.name,
                        at,
                    ),
                )
            except sqlite3.IntegrityError:
                raise InvalidCredential("this passkey is already registered") from None
            event = NewEvent(
                EventType.PASSKEY_ADDED, passkey.created_at, client, passkey_id=passkey.id
            )
            record_event(conn, passkey.user_id, event)

        await self._writer.run(add)

    async def remove_passkey(
        self, user_id: str, passkey_id: str, now: datetime, client: ClientInfo = NO_CLIENT
    ) -> PasskeyRemoval:
        def remove(conn: sqlite3.Connection) -> PasskeyRemoval:
            row = conn.execute(
                "SELECT removed_at FROM passkeys WHERE id = ? AND user_id = ?",
                (passkey_id, user_id),
            ).fetchone()
            if row is None:
                return PasskeyRemoval.NOT_FOUND
            if row[0] is not None:
                return PasskeyRemoval.ALREADY_REMOVED
            conn.execute("UPDATE passkeys SET removed_at = ? WHERE id = ?", (ts(now), passkey_id))
            event = NewEvent(EventType.PASSKEY_REMOVED, now, client, passkey_id=passkey_id)
            record_event(conn, user_id, event)
            return PasskeyRemoval.REMOVED

        return await self._writer.run(remove)

    async def complete_passkey_login(
        self, challenge_hash: bytes, passkey: Passkey, sign_count: int, session: NewSession
    ) -> SignedIn:
        at = ts(session.created_at)

        def complete(conn: sqlite3.Connection) -> SignedIn:
            _burn_passkey_challenge(conn, challenge_hash, "sign_in", None, at)
            rows = conn.execute(
                "UPDATE passkeys SET sign_count = ?, last_used_at = ? WHERE id = ? "
                "AND sign_count = ? AND removed_at IS NULL RETURNING user_id",
                (sign_count, at, passkey.id, passkey.sign_count),
            ).fetchall()
            if not rows:
                raise InvalidCredential("the passkey was removed or used meanwhile")
            user = _user(
                conn.execute(
                    f"SELECT {_USER_COLUMNS} FROM users u WHERE u.id = ?", (rows[0][0],)
                ).fetchone()
            )
            return SignedIn(user, start_session(conn, user.id, session))

        return await self._writer.run(complete)

    # API keys -------------------------------------------------------------------------------
    async def create_default_key(
        self, user_id: str, key: NewApiKey, client: ClientInfo = NO_CLIENT
    ) -> ApiKey | None:
        def create(conn: sqlite3.Connection) -> ApiKey | None:
            try:
                _insert_key(conn, user_id, key, client)
            except sqlite3.IntegrityError:
                return None  # another request created the default key first
            return key.issued_to(user_id)

        return await self._writer.run(create)

    async def find_default_key(self, user_id: str) -> ApiKey | None:
        rows = self._read(
            f"SELECT {_KEY_COLUMNS} FROM api_keys k WHERE k.user_id = ? AND k.is_default = 1 "
            "AND k.status = 'active'",
            (user_id,),
        )
        return _key(rows[0]) if rows else None

    # Abuse limits and housekeeping ----------------------------------------------------------
    async def hit_rate_limit(
        self, bucket: str, key: str, window_start: datetime, window_end: datetime
    ) -> int:
        def hit(conn: sqlite3.Connection) -> int:
            row = conn.execute(
                "INSERT INTO rate_limits (bucket, key, window_start, hits, expires_at) "
                "VALUES (?, ?, ?, 1, ?) ON CONFLICT (bucket, key, window_start) "
                "DO UPDATE SET hits = hits + 1 RETURNING hits",
                (bucket, key, ts(window_start), ts(window_end)),
            ).fetchone()
            return int(row[0])

        return await self._writer.run(hit)

    async def purge_batch(self, target: PurgeTarget, cutoff: datetime, limit: int) -> int:
        statement = purge_statement(target, "?1", "?2")
        return await self._writer.run(
            lambda conn: conn.execute(statement, (ts(cutoff), limit)).rowcount
        )

    async def list_keys(self, user_id: str) -> list[ApiKey]:
        rows = self._read(
            f"SELECT {_KEY_COLUMNS} FROM api_keys k WHERE k.user_id = ? "
            "ORDER BY k.created_at DESC, k.id DESC",
            (user_id,),
        )
        return [_key(row) for row in rows]

    async def find_key(self, user_id: str, key_id: str) -> ApiKey | None:
        rows = self._read(
            f"SELECT {_KEY_COLUMNS} FROM api_keys k WHERE k.id = ? AND k.user_id = ?",
            (key_id, user_id),
        )
        return _key(rows[0]) if rows else None

    async def create_key(
        self, user_id: str, key: NewApiKey, max_active: int, client: ClientInfo = NO_CLIENT
    ) -> ApiKey | None:
        def create(conn: sqlite3.Connection) -> ApiKey | None:
            # Atomic across processes: the writer's transaction holds SQLite's write lock.
            (active,) = conn.execute(
                "SELECT count(*) FROM api_keys WHERE user_id = ? AND status = 'active'",
                (user_id,),
            ).fetchone()
            if active >= max_active:
                return None
            _insert_key(conn, user_id, key, client)
            return key.issued_to(user_id)

        return await self._writer.run(create)

    async def revoke_key(
        self, user_id: str, key_id: str, now: datetime, client: ClientInfo = NO_CLIENT
    ) -> bool:
        def revoke(conn: sqlite3.Connection) -> bool:
            revoked = conn.execute(
                "UPDATE api_keys SET status = 'revoked', revoked_at = ? WHERE id = ? "
                "AND user_id = ? AND status = 'active' AND is_default = 0",
                (ts(now), key_id, user_id),
            ).rowcount
            if revoked:
                record_event(
                    conn, user_id, NewEvent(EventType.KEY_REVOKED, now, client, key_id=key_id)
                )
            return bool(revoked)

        return await self._writer.run(revoke)

    async def rotate_key(
        self,
        user_id: str,
        key_id: str,
        successor: NewApiKey,
        now: datetime,
        client: ClientInfo = NO_CLIENT,
    ) -> ApiKey | None:
        def rotate(conn: sqlite3.Connection) -> ApiKey | None:
            # Revoke first: the default key's successor may only exist once the old one is
            # revoked (one active default per user), and a second rotation finds nothing active.
            revoked = conn.execute(
                "UPDATE api_keys SET status = 'revoked', revoked_at = ?, replaced_by = ? "
                "WHERE id = ? AND user_id = ? AND status = 'active'",
                (ts(now), successor.id, key_id, user_id),
            ).rowcount
            if not revoked:
                return None
            _insert_key(conn, user_id, successor)
            record_event(conn, user_id, NewEvent(EventType.KEY_ROTATED, now, client, key_id=key_id))
            return successor.issued_to(user_id)

        return await self._writer.run(rotate)

    async def find_active_key(self, key_hash: bytes) -> tuple[ApiKey, User] | None:
        rows = self._read(
            f"SELECT {_KEY_COLUMNS}, {_USER_COLUMNS} FROM api_keys k "
            "JOIN users u ON u.id = k.user_id WHERE k.key_hash = ? AND k.status = 'active'",
            (key_hash,),
        )
        if not rows:
            return None
        return _key(rows[0][:10]), _user(rows[0][10:])

    async def touch_key(self, key_id: str, now: datetime, stale_before: datetime) -> bool:
        return await self._update(
            "UPDATE api_keys SET last_used_at = ? WHERE id = ? "
            "AND (last_used_at IS NULL OR last_used_at < ?)",
            (ts(now), key_id, ts(stale_before)),
        )


def _require_live(conn: sqlite3.Connection, user_id: str, session_id: str, at: str) -> str:
    """The caller's session must still be live inside the transaction that acts for it: a
    request must not act for a session that another one has just ended. Its provider."""
    rows = conn.execute(
        "SELECT provider FROM sessions WHERE id = ? AND user_id = ? "
        "AND revoked_at IS NULL AND expires_at > ?",
        (session_id, user_id, at),
    ).fetchall()
    if not rows:
        raise SessionNotLive()
    provider: str = rows[0][0]
    return provider


def record_event(conn: sqlite3.Connection, user_id: str, event: NewEvent) -> None:
    """Insert an activity event inside the caller's transaction (the one making the change)."""
    conn.execute(
        "INSERT INTO activity_events (id, user_id, type, at, ip, user_agent, provider, "
        "session_id, key_id, passkey_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event.id,
            user_id,
            event.type,
            ts(event.at),
            event.client.ip,
            event.client.user_agent,
            event.provider,
            event.session_id,
            event.key_id,
            event.passkey_id,
        ),
    )


def _insert_key(
    conn: sqlite3.Connection, user_id: str, key: NewApiKey, created_by: ClientInfo | None = None
) -> None:
    """Insert a key; with `created_by` (a new key, not a rotation's successor) record
    `key_created` too."""
    conn.execute(
        "INSERT INTO api_keys (id, user_id, name, key_prefix, key_hash, scopes, rate_limit, "
        "status, is_default, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)",
        (
            key.id,
            user_id,
            key.name,
            key.key_prefix,
            key.key_hash,
            orjson.dumps(key.scopes).decode(),
            key.rate_limit,
            int(key.is_default),
            ts(key.created_at),
        ),
    )
    if created_by is not None:
        record_event(
            conn,
            user_id,
            NewEvent(EventType.KEY_CREATED, key.created_at, created_by, key_id=key.id),
        )


def _sign_in(conn: sqlite3.Connection, identity: Identity, session: NewSession) -> SignedIn:
    at = ts(session.created_at)
    rows = conn.execute(
        f"SELECT {_USER_COLUMNS} FROM identities i JOIN users u ON u.id = i.user_id "
        "WHERE i.provider = ? AND i.subject = ?",
        (identity.provider, identity.subject),
    ).fetchall()
    if rows:
        user = _user(rows[0])
    else:
        rows = []
        if identity.email is not None:
            rows = conn.execute(
                f"SELECT {_USER_COLUMNS} FROM users u WHERE u.email = ?", (identity.email,)
            ).fetchall()
        if rows:
            user = _user(rows[0])
        else:
            user = User(
                id=new_uuid(),
                email=identity.email,
                display_name=identity.display_name,
                avatar_url=identity.avatar_url,
                provider=identity.provider,
                created_at=shown_time(session.created_at),
                updated_at=shown_time(session.created_at),
            )
            conn.execute(
                "INSERT INTO users (id, email, display_name, avatar_url, provider, created_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user.id, user.email, user.display_name, user.avatar_url, user.provider, at, at),
            )
        conn.execute(
            "INSERT INTO identities (provider, subject, user_id, created_at) VALUES (?, ?, ?, ?)",
            (identity.provider, identity.subject, user.id, at),
        )
    return SignedIn(user, start_session(conn, user.id, session))


def start_session(conn: sqlite3.Connection, user_id: str, session: NewSession) -> int:
    """Every sign-in's last step, in its transaction (see NewSession); returns how many other
    sessions `sign_out_others` ended. Passkey sign-in calls it too."""
    at = ts(session.created_at)
    if session.replaces is not None:
        conn.execute(
            "UPDATE sessions SET revoked_at = ?, revoked_reason = 'replaced' "
            "WHERE token_hash = ? AND revoked_at IS NULL AND expires_at > ?",
            (at, session.replaces, at),
        )
    signed_out = 0
    if session.sign_out_others:
        signed_out = conn.execute(
            "UPDATE sessions SET revoked_at = ?, revoked_reason = 'signed_out_everywhere' "
            "WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ?",
            (at, user_id, at),
        ).rowcount
    client = session.client
    conn.execute(
        "INSERT INTO sessions (token_hash, csrf_hash, user_id, created_at, expires_at, id, "
        "provider, last_seen_at, ip, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            session.token_hash,
            session.csrf_hash,
            user_id,
            at,
            ts(session.expires_at),
            session.id,
            session.provider,
            at,
            client.ip,
            client.user_agent,
        ),
    )
    for kind in (
        (EventType.SIGNED_IN, EventType.SIGNED_OUT_EVERYWHERE)
        if signed_out
        else (EventType.SIGNED_IN,)
    ):
        event = NewEvent(kind, session.created_at, client, session.provider, session.id)
        record_event(conn, user_id, event)
    return signed_out


def _burn_passkey_challenge(
    conn: sqlite3.Connection, challenge_hash: bytes, purpose: str, user_id: str | None, at: str
) -> None:
    """Mark the challenge used, or raise InvalidChallenge when it is not live for this purpose
    and user (the single writer serialises burns: a second one updates no row)."""
    burned = conn.execute(
        "UPDATE passkey_challenges SET used_at = ? WHERE challenge_hash = ? AND purpose = ? "
        "AND user_id IS ? AND used_at IS NULL AND expires_at > ?",
        (at, challenge_hash, purpose, user_id, at),
    ).rowcount
    if not burned:
        raise InvalidChallenge("the challenge was used or expired meanwhile")
