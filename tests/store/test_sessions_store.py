"""Store rules behind §2.9-2.11, the same tests on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import sqlite3
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.store.test_store import identity, new_session, run
from tests.support.harness import create_database, drop_database
from triport_console.services.activity import ActivityService
from triport_console.store import Store, migrations

MINUTE = timedelta(minutes=1)


def test_touch_records_use_at_most_once_per_interval_and_never_revives(database_url):
    async def scenario(store: Store) -> None:
        now = datetime.now(UTC)
        session = replace(new_session(), created_at=now - 10 * MINUTE)
        await store.sign_in(identity(), session)
        stale = now - 5 * MINUTE
        assert await store.touch_session(session.token_hash, now, stale, "192.0.2.1")
        assert not await store.touch_session(session.token_hash, now + MINUTE, stale, "192.0.2.9")
        live = await store.find_live_session(session.token_hash, now)
        assert live is not None and live.last_seen_at == now
        later = now + 6 * MINUTE
        await store.revoke_session(session.token_hash, session.csrf_hash, later)
        assert not await store.touch_session(session.token_hash, later, later, "192.0.2.2")
        assert await store.find_live_session(session.token_hash, later) is None
        (listed,) = [
            s for s in await store.list_live_sessions(live.user.id, now) if s.id == live.id
        ] or [None]
        assert listed is None  # revoked rows are not listed

    run(database_url, scenario)


def test_session_ids_are_public_uuids_unrelated_to_the_token(database_url):
    async def scenario(store: Store) -> None:
        now = datetime.now(UTC)
        session = new_session()
        await store.sign_in(identity(), session)
        live = await store.find_live_session(session.token_hash, now)
        assert live is not None and live.id == session.id
        assert session.token_hash.hex() not in live.id.replace("-", "")

    run(database_url, scenario)


# Paging property: any mix of timestamps (ties included) and page sizes --------------------
def _events_case(database_url: str, offsets: list[int], size: int) -> None:
    async def scenario(store: Store) -> None:
        base = datetime(2026, 1, 1, tzinfo=UTC)
        who = identity()
        user = (await store.sign_in(who, new_session())).user
        service = ActivityService(store)
        for offset in offsets:  # each sign-in records one `signed_in` event at its time
            moment = base + timedelta(seconds=offset)
            await store.sign_in(who, replace(new_session(), created_at=moment))
        everything = await store.list_activity(user.id, None, 1000)
        assert len(everything) == len(offsets) + 1
        assert [e.at for e in everything] == sorted((e.at for e in everything), reverse=True)
        walked, cursor = [], None
        while True:
            page = await service.page(user.id, str(size), cursor)
            assert len(page.events) <= size
            walked.extend(page.events)
            cursor = page.next
            if cursor is None:
                break
        assert [e.id for e in walked] == [e.id for e in everything]

    run(database_url, scenario)


@settings(max_examples=8, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=3), min_size=0, max_size=12),
    size=st.integers(min_value=1, max_value=5),
)
def test_paging_returns_every_event_once_in_order_whatever_the_ties(database_url, offsets, size):
    _events_case(database_url, offsets, size)


# Migration 0003 on a database with sessions from before it ---------------------------------
def test_migration_gives_existing_sessions_ids_providers_and_last_seen(store):
    url = create_database(store)
    try:
        _apply_up_to(url, 2)
        token_hash = hashlib.sha256(secrets.token_bytes(16)).digest()
        revoked_hash = hashlib.sha256(secrets.token_bytes(16)).digest()
        _seed_before_0003(url, token_hash, revoked_hash)

        async def scenario(opened: Store) -> None:
            now = datetime.now(UTC)
            live = await opened.find_live_session(token_hash, now)
            assert live is not None and live.provider == "wallet" and len(live.id) == 36
            assert live.last_seen_at == live.created_at
            assert await opened.session_end_reason(revoked_hash, now) == "signed_out"
            listed = await opened.list_live_sessions(live.user.id, now)
            assert [s.id for s in listed] == [live.id]

        run(url, scenario)
    finally:
        drop_database(url)


def _apply_up_to(url: str, version: int) -> None:
    wanted = [m for m in migrations.load("sqlite" if url.startswith("sqlite") else "postgres")]
    wanted = [m for m in wanted if m.version <= version]
    if url.startswith("sqlite:///"):
        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute(
            "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
            "applied_at TEXT NOT NULL)"
        )
        for migration in wanted:
            for statement in migration.sql.split(";\n"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations VALUES (?, ?, 'x')",
                (migration.version, migration.name),
            )
        conn.close()
        return

    async def apply() -> None:
        conn = await asyncpg.connect(url)
        await conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL, "
            "applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in wanted:
            await conn.execute(migration.sql)
            await conn.execute(
                "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                migration.version,
                migration.name,
            )
        await conn.close()

    asyncio.run(apply())


def _seed_before_0003(url: str, token_hash: bytes, revoked_hash: bytes) -> None:
    now = datetime.now(UTC)
    rows = [
        (token_hash, now, now + timedelta(days=1), None),
        (revoked_hash, now, now + timedelta(days=1), now),
    ]
    user_id = "8f1c3b2a-0000-4000-8000-000000000001"
    if url.startswith("sqlite:///"):

        def text(moment: datetime | None) -> str | None:
            return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

        conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None)
        conn.execute(
            "INSERT INTO users VALUES (?, NULL, NULL, NULL, 'wallet', ?, ?)",
            (user_id, text(now), text(now)),
        )
        for row_hash, created, expires, revoked in rows:
            conn.execute(
                "INSERT INTO sessions VALUES (?, ?, ?, ?, ?, ?)",
                (row_hash, b"c" * 32, user_id, text(created), text(expires), text(revoked)),
            )
        conn.close()
        return

    async def seed() -> None:
        conn = await asyncpg.connect(url)
        await conn.execute(
            "INSERT INTO users VALUES ($1, NULL, NULL, NULL, 'wallet', $2, $2)", user_id, now
        )
        for row_hash, created, expires, revoked in rows:
            await conn.execute(
                "INSERT INTO sessions VALUES ($1, $2, $3, $4, $5, $6)",
                row_hash,
                b"c" * 32,
                user_id,
                created,
                expires,
                revoked,
            )
        await conn.close()

    asyncio.run(seed())
