"""What only a transaction pooler tests: two instances under load, no state left on pooled server
connections, PgBouncer's outage and return, and migrations refused through a pooler."""

from __future__ import annotations

import asyncio
import hashlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import asyncpg
import httpx
import pytest

from tests.cli.test_cli import cli
from tests.faults.test_postgres_outage import _wait_ready
from tests.pooler.conftest import STARTUP, pooled_env, require_pgbouncer
from tests.support.harness import (
    ADMIN_DSN,
    ServerProcess,
    SmtpSink,
    run_sql,
)
from tests.support.http import assert_envelope
from tests.support.pgbouncer import PgBouncer
from tests.support.sessions import Credentials, logout, me, sign_in_one

# PgBouncer told to pass over the session settings a direct connection sends: the setup an
# operator reaches by following the first error message, and the one a pooler check must catch.
LENIENT = "lock_timeout,statement_timeout,idle_in_transaction_session_timeout"


def test_two_instances_sign_in_and_log_out_concurrently_and_every_200_is_revoked(
    server: ServerProcess, peer_server: ServerProcess, smtp_sink: SmtpSink, database_url: str
) -> None:
    """Two processes of two workers each on a server pool of 4: sign in on one, check and log
    out on the other, 8 clients at once. Every answer is the contract's, with zero errors."""
    instances = [server, peer_server]
    tally: Counter[str] = Counter()
    logged_out: list[Credentials] = []

    def client(number: int) -> None:
        for round_ in range(6):
            home = instances[(number + round_) % 2]
            other = instances[(number + round_ + 1) % 2]
            credentials = sign_in_one(home.base_url, smtp_sink)
            with (
                httpx.Client(base_url=home.base_url, timeout=30) as here,
                httpx.Client(base_url=other.base_url, timeout=30) as there,
            ):
                tally[f"me {me(there, credentials).status_code}"] += 1
                tally[f"logout {logout(there, credentials).status_code}"] += 1
                tally[f"me after {me(here, credentials).status_code}"] += 1
            logged_out.append(credentials)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(client, range(8)))

    assert tally == {"me 200": 48, "logout 200": 48, "me after 401": 48}, tally
    hashes = [hashlib.sha256(c.token.encode()).digest() for c in logged_out]
    rows = run_sql(
        database_url,
        "SELECT count(*) FROM sessions WHERE token_hash = ANY($1) AND revoked_at IS NOT NULL",
        hashes,
    )
    assert rows == [(48,)]


def test_no_session_state_is_left_on_the_pooled_server_connections(
    server: ServerProcess, smtp_sink: SmtpSink, bouncer: PgBouncer, database_url: str
) -> None:
    """After sign-in, /me (default key), key creation, rotation and logout through the pooler,
    every server connection PgBouncer holds is as clean as a new one: no prepared statement, no
    advisory lock, no temporary table, the server's own timeouts."""
    credentials = sign_in_one(server.base_url, smtp_sink)
    with httpx.Client(base_url=server.base_url, timeout=30) as http:
        assert me(http, credentials).status_code == 200
        headers = {**credentials.cookie, "X-CSRF-Token": credentials.csrf}
        created = http.post("/v1/keys", json={"name": "pooled"}, headers=headers)
        assert created.status_code in (200, 201), created.text
        key_id = created.json()["key"]["id"]
        assert http.post(f"/v1/keys/{key_id}/rotate", headers=headers).status_code == 200
        assert logout(http, credentials).status_code == 200

    async def inspect() -> tuple[set[int], list[tuple[object, ...]], tuple[object, ...]]:
        database = database_url.rsplit("/", 1)[1]
        direct = await asyncpg.connect(database_url)
        try:
            clean = tuple(
                await direct.fetchrow(
                    "SELECT current_setting('lock_timeout'), "
                    "current_setting('statement_timeout'), "
                    "current_setting('idle_in_transaction_session_timeout')"
                )
            )
        finally:
            await direct.close()
        # Four transactions open at once hold every server connection of the pool (size 4).
        clients = [
            await asyncpg.connect(bouncer.url(database), statement_cache_size=0) for _ in range(4)
        ]
        try:
            pids, states = set(), []
            for conn in clients:
                await conn.execute("BEGIN")
                row = await conn.fetchrow(
                    "SELECT pg_backend_pid(), (SELECT count(*) FROM pg_prepared_statements), "
                    "(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND pid = pg_backend_pid()), pg_my_temp_schema() = 0, "
                    "current_setting('lock_timeout'), current_setting('statement_timeout'), "
                    "current_setting('idle_in_transaction_session_timeout')"
                )
                pids.add(row[0])
                states.append(tuple(row)[1:])
            return pids, states, clean
        finally:
            for conn in clients:
                await conn.close()

    pids, states, clean = asyncio.run(inspect())
    assert len(pids) == 4  # every connection of the pool was looked at
    assert states == [(0, 0, True, *clean)] * 4, states


@pytest.fixture
def own_bouncer() -> Iterator[PgBouncer]:
    """A PgBouncer of this test's own, free to be stopped."""
    require_pgbouncer()
    with PgBouncer(ADMIN_DSN, pool_size=4) as running:
        yield running


def test_pgbouncer_stopped_is_logout_failed_and_not_ready_then_recovers(
    own_bouncer: PgBouncer, database_url: str, smtp_sink: SmtpSink
) -> None:
    env = {**pooled_env(own_bouncer, database_url), "TRIPORT_DB_TIMEOUT": "1"}
    server = ServerProcess(database_url, mail_url=smtp_sink.url, env=env, workers=2)
    server.start(timeout=STARTUP)
    try:
        sessions = [sign_in_one(server.base_url, smtp_sink) for _ in range(6)]
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            assert http.get("/readyz").status_code == 200
            own_bouncer.stop()
            assert_envelope(http.get("/readyz"), 503, "not_ready")
            for credentials in sessions:
                failed = logout(http, credentials)
                assert_envelope(failed, 500, "logout_failed")
                assert "set-cookie" not in failed.headers  # the browser keeps its cookie
                assert_envelope(me(http, credentials), 500, "internal")  # never 200 or 401
            assert_envelope(http.get("/readyz"), 503, "not_ready")

            own_bouncer.start()  # the same port: the same process must find it again
            _wait_ready(server.base_url)
            for credentials in sessions:  # the failed logouts revoked nothing
                assert me(http, credentials).status_code == 200
            for credentials in sessions:  # and the client's retry now succeeds
                assert logout(http, credentials).status_code == 200
                assert me(http, credentials).status_code == 401
        assert server.process is not None and server.process.poll() is None
    finally:
        server.stop()


def _schema_created(url: str) -> bool:
    return run_sql(url, "SELECT to_regclass('schema_migrations') IS NOT NULL") == [(True,)]


def _one_line(result: object) -> str:
    stderr: str = getattr(result, "stderr", "")
    lines = stderr.strip().splitlines()
    assert getattr(result, "returncode", 0) != 0 and len(lines) == 1, stderr
    return lines[0]


def test_migrate_through_a_declared_pooler_is_refused_and_changes_nothing(
    bouncer: PgBouncer, postgres_database: str
) -> None:
    result = cli("migrate", env=pooled_env(bouncer, postgres_database))
    assert "need a direct connection" in _one_line(result)
    assert not _schema_created(postgres_database)


def test_a_pooler_the_configuration_does_not_declare_is_named_in_the_error(
    bouncer: PgBouncer, postgres_database: str
) -> None:
    """Stock PgBouncer refuses a direct connection's session settings: the error says why."""
    env = {**pooled_env(bouncer, postgres_database), "TRIPORT_DB_POOLER": "none"}
    for command in (["migrate"], ["serve", "--port", "1"]):
        line = _one_line(cli(*command, env=env))
        assert "unsupported startup parameter" in line and "TRIPORT_DB_POOLER=transaction" in line
    assert not _schema_created(postgres_database)


def test_a_pooler_passing_the_settings_over_is_detected_and_migrate_refused(
    postgres_database: str,
) -> None:
    """A PgBouncer that ignores the session settings lets a direct-mode connection through; the
    backend-pid check still finds the pooler, so neither migrate nor serve migrates through it."""
    require_pgbouncer()
    with PgBouncer(ADMIN_DSN, ignore_startup_parameters=LENIENT) as lenient:
        env = {**pooled_env(lenient, postgres_database), "TRIPORT_DB_POOLER": "none"}
        assert "need a direct connection" in _one_line(cli("migrate", env=env))
        assert "need a direct connection" in _one_line(cli("serve", "--port", "1", env=env))
    assert not _schema_created(postgres_database)
    # The same check passes a direct connection: the command works there.
    direct = cli("migrate", env={"TRIPORT_DATABASE_URL": postgres_database})
    assert direct.returncode == 0, direct.stderr
    assert _schema_created(postgres_database)


def test_pooled_serve_refuses_a_schema_that_lacks_migrations(
    bouncer: PgBouncer, postgres_database: str
) -> None:
    line = _one_line(cli("serve", "--port", "1", env=pooled_env(bouncer, postgres_database)))
    assert "lacks migration(s) 1" in line and "need a direct connection" in line
    assert not _schema_created(postgres_database)


def test_pgbouncer_refuses_a_wrong_password_and_the_error_shows_no_password(
    bouncer: PgBouncer, database_url: str
) -> None:
    """Clients log in to PgBouncer with SCRAM: a wrong password gets nothing, and the service
    stops at start with one line that names neither the right nor the wrong password."""
    env = pooled_env(bouncer, database_url)
    wrong = "not-" + bouncer.password
    env["TRIPORT_DATABASE_URL"] = env["TRIPORT_DATABASE_URL"].replace(bouncer.password, wrong)
    line = _one_line(cli("serve", "--port", "1", env=env))
    assert "SASL authentication failed" in line, line  # PgBouncer 1.18 wording
    assert bouncer.password not in line and wrong not in line
