"""Databases for the benchmark: create, migrate with the server's own command, seed, reset, drop.

Our schema always comes from `triport-console migrate`, never from a copy here, so the seeded
rows are exactly what the server reads. Rows go in with one `executemany` (SQLite, in one
transaction) or binary COPY (PostgreSQL). Each user gets one live session and an active default
API key, so `/me` measures a page load and not the one-off default-key bootstrap.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import secrets
import sqlite3
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import asyncpg
from pools import write_pools

PG_ADMIN_DSN = os.environ.get("BENCH_PG_ADMIN_DSN", "postgresql://postgres@127.0.0.1:5432/test")
SESSION_TTL = timedelta(days=30)
BATCH = 50_000
T = TypeVar("T")


@dataclass(frozen=True)
class Database:
    """One of our databases: its store kind and the TRIPORT_DATABASE_URL the server gets."""

    store: str  # "sqlite" | "postgres"
    url: str

    @property
    def path(self) -> Path:
        return Path(self.url.removeprefix("sqlite:///"))


def create_database(store: str, workdir: Path) -> Database:
    """A fresh empty database with a unique name (PostgreSQL) or file (SQLite)."""
    name = f"bench_{os.getpid()}_{secrets.token_hex(4)}"
    if store == "sqlite":
        return Database("sqlite", f"sqlite:///{workdir.resolve() / name}.db")
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    return Database("postgres", PG_ADMIN_DSN.rsplit("/", 1)[0] + "/" + name)


def drop_database(db: Database) -> None:
    if db.store == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db.path}{suffix}").unlink(missing_ok=True)
        return
    name = db.url.rsplit("/", 1)[1]
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _admin(sql: str) -> None:
    conn = await asyncpg.connect(PG_ADMIN_DSN)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def migrate(db: Database, command: Path, env: dict[str, str]) -> None:
    """Apply the server's migrations with its own CLI, as an operator would."""
    subprocess.run(
        [str(command), "migrate"],
        env={**env, "TRIPORT_DATABASE_URL": db.url},
        check=True,
        stdout=subprocess.DEVNULL,
    )


def _digest(value: str) -> bytes:
    return hashlib.sha256(value.encode()).digest()


def _sqlite_time(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True)
class _Rows:
    """Every row to insert, each table's sorted by its primary key, so that B-tree inserts append
    at the right edge instead of landing on random pages (at 1M rows: seconds, not minutes)."""

    users: list[tuple[uuid.UUID, str, str]]  # id, email, display name
    sessions: list[tuple[bytes, bytes, uuid.UUID]]  # token hash, CSRF hash, user id
    api_keys: list[tuple[uuid.UUID, uuid.UUID, str, bytes]]  # id, user id, prefix, key hash

    @classmethod
    def build(cls, tokens: list[tuple[str, str]]) -> _Rows:
        user_ids = [uuid.uuid4() for _ in tokens]
        secrets_ = ["nl_live_" + secrets.token_hex(32) for _ in tokens]
        return cls(
            users=sorted(
                (u, f"user{i}@bench.example", f"Bench User {i}") for i, u in enumerate(user_ids)
            ),
            sessions=sorted(
                (_digest(token), _digest(csrf), u)
                for (token, csrf), u in zip(tokens, user_ids, strict=True)
            ),
            api_keys=sorted(
                (uuid.uuid4(), u, secret[:16], _digest(secret))
                for u, secret in zip(user_ids, secrets_, strict=True)
            ),
        )


def _chunks(rows: list[T]) -> Iterator[list[T]]:
    for first in range(0, len(rows), BATCH):
        yield rows[first : first + BATCH]


def seed(db: Database, sessions: int, pools: Path, threads: int) -> None:
    """Insert `sessions` users with one live session each and write the wrk session pools."""
    now = datetime.now(UTC)
    tokens = [(secrets.token_urlsafe(32), secrets.token_urlsafe(32)) for _ in range(sessions)]
    rows = _Rows.build(tokens)
    if db.store == "sqlite":
        _seed_sqlite(db, rows, now)
    else:
        asyncio.run(_seed_postgres(db, rows, now))
    write_pools(pools, tokens, threads)


def _seed_sqlite(db: Database, rows: _Rows, now: datetime) -> None:
    created, expires = _sqlite_time(now), _sqlite_time(now + SESSION_TTL)
    conn = sqlite3.connect(db.path)
    try:
        conn.execute("PRAGMA synchronous=OFF")  # seeding only; the server sets its own
        conn.execute("PRAGMA cache_size=-1048576")  # 1 GiB: keeps the unique indexes in memory
        with conn:
            conn.executemany(
                "INSERT INTO users (id, email, display_name, provider, created_at, updated_at)"
                " VALUES (?, ?, ?, 'email', ?, ?)",
                ((str(u), e, d, created, created) for u, e, d in rows.users),
            )
            conn.executemany(
                "INSERT INTO sessions (token_hash, csrf_hash, user_id, created_at, expires_at,"
                " id, provider, last_seen_at) VALUES (?, ?, ?, ?, ?, ?, 'email', ?)",
                (
                    (t, c, str(u), created, expires, str(uuid.uuid4()), created)
                    for t, c, u in rows.sessions
                ),
            )
            conn.executemany(
                "INSERT INTO api_keys (id, user_id, name, key_prefix, key_hash, scopes,"
                " rate_limit, status, is_default, created_at)"
                " VALUES (?, ?, 'Default', ?, ?, ?, 0, 'active', 1, ?)",
                (
                    (str(k), str(u), prefix, digest, json.dumps(["*"]), created)
                    for k, u, prefix, digest in rows.api_keys
                ),
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


async def _seed_postgres(db: Database, rows: _Rows, now: datetime) -> None:
    expires = now + SESSION_TTL
    conn = await asyncpg.connect(db.url)
    try:
        async with conn.transaction():
            for users in _chunks(rows.users):
                await conn.copy_records_to_table(
                    "users",
                    columns=["id", "email", "display_name", "provider", "created_at", "updated_at"],
                    records=[(u, e, d, "email", now, now) for u, e, d in users],
                )
            for sessions in _chunks(rows.sessions):
                await conn.copy_records_to_table(
                    "sessions",
                    columns=[
                        "token_hash",
                        "csrf_hash",
                        "user_id",
                        "created_at",
                        "expires_at",
                        "id",
                        "provider",
                        "last_seen_at",
                    ],
                    records=[
                        (t, c, u, now, expires, uuid.uuid4(), "email", now) for t, c, u in sessions
                    ],
                )
            for keys in _chunks(rows.api_keys):
                await conn.copy_records_to_table(
                    "api_keys",
                    columns=[
                        "id",
                        "user_id",
                        "name",
                        "key_prefix",
                        "key_hash",
                        "scopes",
                        "rate_limit",
                        "status",
                        "is_default",
                        "created_at",
                    ],
                    records=[
                        (k, u, "Default", prefix, digest, ["*"], 0, "active", True, now)
                        for k, u, prefix, digest in keys
                    ],
                )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()


def revoked_sessions(db: Database) -> int:
    """How many session rows are revoked: a logout's 200 must have moved this counter."""
    sql = "SELECT count(*) FROM sessions WHERE revoked_at IS NOT NULL"
    if db.store == "sqlite":
        conn = sqlite3.connect(db.path, timeout=30)
        try:
            return int(conn.execute(sql).fetchone()[0])
        finally:
            conn.close()
    count = asyncio.run(_fetchval(db.url, sql))
    assert isinstance(count, int)
    return count


def unrevoke_sessions(db: Database) -> None:
    """Make every seeded session live again, so the next logout run revokes live rows only."""
    sql = "UPDATE sessions SET revoked_at = NULL WHERE revoked_at IS NOT NULL"
    if db.store == "sqlite":
        conn = sqlite3.connect(db.path, timeout=30)
        try:
            with conn:
                conn.execute(sql)
            conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        finally:
            conn.close()
        return
    asyncio.run(_fetchval(db.url, sql))


async def _fetchval(dsn: str, sql: str) -> object:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


@dataclass(frozen=True)
class PeerDatabase:
    """A peer's SQLite file. Peers delete a session row on logout; their seeders keep a copy of
    the seeded rows in `bench_session_backup`, from which the deleted ones are put back."""

    path: Path
    table: str  # the peer's session table: django_session, Better Auth's "session"

    def deleted_sessions(self) -> int:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            row = conn.execute(
                "SELECT (SELECT count(*) FROM bench_session_backup)"
                f' - (SELECT count(*) FROM "{self.table}")'
            ).fetchone()
            return int(row[0])
        finally:
            conn.close()

    def restore_sessions(self) -> None:
        conn = sqlite3.connect(self.path, timeout=30)
        try:
            with conn:
                conn.execute(
                    f'INSERT OR IGNORE INTO "{self.table}" SELECT * FROM bench_session_backup'
                )
        finally:
            conn.close()


def _run_seeder(argv: list[str], cwd: Path, db: PeerDatabase, env: dict[str, str]) -> None:
    subprocess.run(
        argv,
        cwd=cwd,
        env={**os.environ, **env, "PEER_DATABASE": str(db.path.resolve())},
        check=True,
    )


def seed_peer(
    python: Path, peer_dir: Path, db: PeerDatabase, sessions: int, pools: Path, threads: int
) -> None:
    """Seed the Django peer with its own venv and its own session store."""
    _run_seeder(
        [
            str(python),
            str(peer_dir / "seed_peer.py"),
            "--sessions",
            str(sessions),
            "--pools",
            str(pools.resolve()),
            "--threads",
            str(threads),
        ],
        peer_dir,
        db,
        {},
    )


def seed_better_auth(
    node: Path,
    peer_dir: Path,
    db: PeerDatabase,
    sessions: int,
    pools: Path,
    threads: int,
    secret: str,
) -> None:
    """Seed the Better Auth peer with its own migrations; its signed session cookies go into the
    pools (no CSRF token: the second column is a placeholder workload.lua does not send)."""
    cookies = pools.parent / f"{pools.name}.cookies"
    _run_seeder(
        [
            str(node),
            str(peer_dir / "seed.mjs"),
            "--sessions",
            str(sessions),
            "--cookies",
            str(cookies.resolve()),
        ],
        peer_dir,
        db,
        {"BETTER_AUTH_SECRET": secret, "NODE_ENV": "production"},
    )
    rows = [(cookie, "-") for cookie in cookies.read_text().split()]
    cookies.unlink()
    write_pools(pools, rows, threads)
