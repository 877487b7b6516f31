"""Housekeeping: what the purge deletes and keeps, batching, the CLI, the periodic task.

Rows are put in place through the real store interface at chosen past times (the store takes
`now` as an argument), then `triport-console purge` or the server's background task runs.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.support.harness import (
    TEST_SECRET,
    ServerProcess,
    SmtpSink,
    create_database,
    drop_database,
    run_sql,
)
from tests.support.sessions import logout, me, sign_in_one
from triport_console.models import Identity, LoginCode, NewSession, PasskeyChallenge
from triport_console.store import Store, open_store

DAY = timedelta(days=1)


@pytest.fixture
def fresh_database(store: str) -> Iterator[str]:
    url = create_database(store)
    yield url
    drop_database(url)


def _with_store(url: str, scenario: object) -> object:
    async def main() -> object:
        opened = open_store(url, 5.0)
        await opened.open()
        try:
            return await scenario(opened)  # type: ignore[operator]
        finally:
            await opened.close()

    return asyncio.run(main())


def _session(created: datetime, lifetime: timedelta) -> NewSession:
    return NewSession(
        token_hash=hashlib.sha256(secrets.token_bytes(32)).digest(),
        csrf_hash=hashlib.sha256(secrets.token_bytes(32)).digest(),
        created_at=created,
        expires_at=created + lifetime,
    )


def _code(created: datetime) -> LoginCode:
    return LoginCode(
        request_id=str(uuid.uuid4()),
        email=f"c-{secrets.token_hex(4)}@example.com",
        code_mac=secrets.token_bytes(32),
        created_at=created,
        expires_at=created + timedelta(minutes=10),
    )


def purge_cli(url: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "triport_console", "purge"],
        env={**os.environ, "TRIPORT_DATABASE_URL": url, "TRIPORT_SECRET_KEY": TEST_SECRET, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def count(url: str, table: str) -> int:
    return int(run_sql(url, f"SELECT count(*) FROM {table}")[0][0])


def test_purge_deletes_only_dead_rows_past_their_keep_time(fresh_database: str) -> None:
    now = datetime.now(UTC)
    user = Identity("email", "keeper@example.com", email="keeper@example.com")
    kept = {
        "live": _session(now, 30 * DAY),
        "revoked a day ago": _session(now - 2 * DAY, 30 * DAY),
        "expired a day ago": _session(now - 31 * DAY, 30 * DAY),
    }
    purged = {
        "revoked 8 days ago": _session(now - 9 * DAY, 30 * DAY),
        "expired 8 days ago": _session(now - 38 * DAY, 30 * DAY),
    }

    async def setup(store: Store) -> None:
        for session in [*kept.values(), *purged.values()]:
            owner = await store.sign_in(user, session)
        for name, at in (("revoked a day ago", now - DAY), ("revoked 8 days ago", now - 8 * DAY)):
            session = {**kept, **purged}[name]
            await store.revoke_session(session.token_hash, session.csrf_hash, at)
        # Login codes: kept while the hourly per-address limit still counts them.
        await store.create_login_code(_code(now - timedelta(minutes=30)), now, 5)
        await store.create_login_code(_code(now - timedelta(hours=2)), now, 5)
        # Rate-limit windows: one that ended a minute ago, one still running.
        await store.hit_rate_limit(
            "email_start", "10.0.0.1", now - timedelta(minutes=61), now - timedelta(minutes=1)
        )
        await store.hit_rate_limit("email_start", "10.0.0.1", now, now + timedelta(hours=1))
        # Passkey challenges: gone once expired (5 minutes), whether used or not.
        for purpose, user_id, expires_at in (
            ("sign_in", None, now - timedelta(minutes=1)),
            ("register", owner.user.id, now - timedelta(minutes=1)),
            ("sign_in", None, now + timedelta(minutes=4)),
        ):
            challenge = PasskeyChallenge(
                secrets.token_bytes(32),
                purpose,
                user_id,
                expires_at - timedelta(minutes=5),
                expires_at,
            )
            await store.create_passkey_challenge(challenge)

    _with_store(fresh_database, setup)
    result = purge_cli(fresh_database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "sessions: 2, login_codes: 1, wallet_challenges: 0, rate_limits: 1, "
        "passkey_challenges: 2, activity_events: 0 deleted"
    )
    remaining = {row[0] for row in run_sql(fresh_database, "SELECT token_hash FROM sessions")}
    assert remaining == {bytes(session.token_hash) for session in kept.values()}
    assert count(fresh_database, "login_codes") == 1
    assert count(fresh_database, "rate_limits") == 1
    assert count(fresh_database, "passkey_challenges") == 1

    async def still_live(store: Store) -> bool:
        return await store.find_live_session(kept["live"].token_hash, datetime.now(UTC)) is not None

    assert _with_store(fresh_database, still_live)
    again = purge_cli(fresh_database)
    assert (
        "sessions: 0, login_codes: 0, wallet_challenges: 0, rate_limits: 0, passkey_challenges: 0, "
        "activity_events: 0" in again.stdout
    )


def test_activity_events_are_kept_for_the_retention_period_then_purged(
    fresh_database: str,
) -> None:
    """Spec §2.11: 90 days by default (TRIPORT_ACTIVITY_RETENTION), then gone."""
    now = datetime.now(UTC)
    user = Identity("email", "history@example.com", email="history@example.com")
    ages = {"89 days": 89 * DAY, "91 days": 91 * DAY, "200 days": 200 * DAY, "2 days": 2 * DAY}

    async def setup(store: Store) -> None:
        for age in ages.values():  # each sign-in records its `signed_in` event at that time
            await store.sign_in(user, _session(now - age, 30 * DAY))

    _with_store(fresh_database, setup)
    assert count(fresh_database, "activity_events") == 4
    result = purge_cli(fresh_database)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("activity_events: 2 deleted")
    assert count(fresh_database, "activity_events") == 2
    shorter = purge_cli(fresh_database, TRIPORT_ACTIVITY_RETENTION=str(7 * 24 * 3600))
    assert shorter.stdout.strip().endswith("activity_events: 1 deleted")
    assert count(fresh_database, "activity_events") == 1
    refused = purge_cli(fresh_database, TRIPORT_ACTIVITY_RETENTION="0")
    assert refused.returncode != 0 and "TRIPORT_ACTIVITY_RETENTION" in refused.stderr


def test_purge_works_in_batches_through_many_rows(fresh_database: str) -> None:
    """1,234 dead sessions: more than two batches of 500, all gone, none of the live ones."""
    now = datetime.now(UTC)
    user = Identity("email", "many@example.com", email="many@example.com")
    dead = [_session(now - 40 * DAY, 30 * DAY) for _ in range(1234)]
    live = [_session(now, 30 * DAY) for _ in range(20)]

    async def setup(store: Store) -> None:
        await store.sign_in(user, live[0])  # creates the user once, before the concurrent rest
        rest = [*dead, *live[1:]]
        for start in range(0, len(rest), 50):  # concurrent, but within the pool's bounded wait
            await asyncio.gather(*(store.sign_in(user, item) for item in rest[start : start + 50]))

    _with_store(fresh_database, setup)
    result = purge_cli(fresh_database, TRIPORT_PURGE_GRACE="0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("sessions: 1234,")
    assert count(fresh_database, "sessions") == 20


def test_hourly_address_limit_survives_a_purge(fresh_database: str, smtp_sink: SmtpSink) -> None:
    """Purging codes must not reset the 5-per-hour rule: codes stay while the hour counts them."""
    address = f"limited-{secrets.token_hex(4)}@example.com"
    with ServerProcess(fresh_database, mail_url=smtp_sink.url) as server:
        for _ in range(5):
            started = httpx.post(server.base_url + "/v1/auth/email/start", json={"email": address})
            assert started.status_code == 200
        assert purge_cli(fresh_database, TRIPORT_PURGE_GRACE="0").returncode == 0
        sixth = httpx.post(server.base_url + "/v1/auth/email/start", json={"email": address})
        assert sixth.status_code == 429
        assert sixth.json()["error"] == "rate_limited"


def test_each_worker_purges_periodically(fresh_database: str, smtp_sink: SmtpSink) -> None:
    env = {"TRIPORT_PURGE_INTERVAL": "1", "TRIPORT_PURGE_GRACE": "0"}
    with ServerProcess(fresh_database, mail_url=smtp_sink.url, env=env) as server:
        with httpx.Client(base_url=server.base_url, timeout=10) as http:
            ended = sign_in_one(server.base_url, smtp_sink)
            kept = sign_in_one(server.base_url, smtp_sink)
            assert logout(http, ended).status_code == 200
            deadline = time.monotonic() + 10
            while count(fresh_database, "sessions") != 1:
                assert time.monotonic() < deadline, "the revoked session was never purged"
                time.sleep(0.2)
            assert me(http, kept).status_code == 200
            assert me(http, ended).status_code == 401
        events = [record for record in server.log_records() if record.get("event") == "purge"]
        assert events and any(record["sessions"] >= 1 for record in events)
